package org.sovereign.agent.runtime;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.Channel;
import java.util.Collection;
import java.util.Map;
import org.sovereign.heap.NonPortableObjectException;
import org.sovereign.heap.UnlockedSharedObjectException;

/**
 * The errors a user sees for values that cannot be shared and for writes without the lock, in one
 * place so their wording (what is wrong, where from the root, what to do) stays consistent.
 */
final class Portability {
    private Portability() {}

    /** The error for sharing {@code value} at {@code path} (a field's path from its root). */
    static NonPortableObjectException nonPortable(Object value, String path) {
        return new NonPortableObjectException("cannot share " + describe(value) + " at " + path + ": " + reason(value)
                + "; mark the field transient (or list it under `transient` in the agent config) to keep it local");
    }

    private static String describe(Object value) {
        return value.getClass().isArray() ? "an array (" + value.getClass().getSimpleName() + ")"
                : "a " + value.getClass().getName();
    }

    private static String reason(Object value) {
        if (value instanceof Thread) {
            return "a Thread runs in this JVM only";
        } else if (value instanceof Socket || value instanceof ServerSocket || value instanceof DatagramSocket
                || value instanceof Channel) {
            return "a socket or channel is a connection of this JVM";
        } else if (value instanceof InputStream || value instanceof OutputStream || value instanceof Reader
                || value instanceof Writer) {
            return "a stream reads or writes a resource of this JVM";
        } else if (value instanceof ClassLoader) {
            return "a class loader belongs to this JVM";
        } else if (value instanceof ThreadLocal) {
            return "a ThreadLocal holds values per thread of this JVM";
        } else if (value instanceof Collection || value instanceof Map) {
            return "java.util collections are shared by a later version of the agent, not this one";
        } else if (value.getClass().isArray()) {
            return "arrays are shared by a later version of the agent, not this one";
        } else if (value instanceof Number || value instanceof Character || value instanceof Enum) {
            return "a field of a general type (Object, an interface) holds String, Long, Double, Boolean or a "
                    + "shared object only; declare the field with the value's own type (int, Integer, the enum)";
        }
        return "class " + value.getClass().getName() + " is not instrumented: add it (or its package) to "
                + "`instrument` in the agent config";
    }

    /** The error for sharing an instance of an instrumented class that cannot be shared (an enum, a record). */
    static NonPortableObjectException notShareable(ClassMeta meta, String path) {
        return new NonPortableObjectException("cannot share a " + meta.type.getName() + " at " + path + ": "
                + meta.problem + "; or mark the field transient (or list it under `transient` in the agent config)");
    }

    /** The error for writing {@code field} of shared {@code state} without its cluster write lock. */
    static UnlockedSharedObjectException unlocked(SharedState state, FieldMeta field, boolean holdsRead) {
        return new UnlockedSharedObjectException("field " + field.name + " of shared object " + state.describe()
                + " was written by thread \"" + Thread.currentThread().getName() + "\" without "
                + (holdsRead ? "its write lock (it holds only the read lock of a read-level [[autolock]])"
                        : "holding its cluster lock")
                + "; write shared objects inside synchronized (object) { ... } or a synchronized method of the "
                + "object, so the change commits atomically and other JVMs see it. The field was not changed.");
    }
}
