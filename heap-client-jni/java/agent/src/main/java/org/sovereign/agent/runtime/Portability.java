package org.sovereign.agent.runtime;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.io.Writer;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.Channel;
import java.lang.reflect.Field;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import org.sovereign.agent.collections.SharedContainers;
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
            return "it is not one of the java.util collections the agent shares (" + SharedContainers.SUPPORTED
                    + ", exactly those classes; immutable or wrapped ones such as List.of, Map.of, Arrays.asList, "
                    + "Collections.unmodifiableList or synchronizedMap, and subclasses, are other classes): copy it into "
                    + "one of them, as in new ArrayList<>(list)";
        } else if (value instanceof Number || value instanceof Character || value instanceof Enum) {
            return "a field of a general type (Object, an interface) holds String, Long, Double, Boolean or a "
                    + "shared object only; declare the field with the value's own type (int, Integer, the enum)";
        }
        return "class " + value.getClass().getName() + " is not instrumented: add it (or its package) to "
                + "`instrument` in the agent config";
    }

    /**
     * Throws {@link NonPortableObjectException} for a supported collection class whose instance cannot
     * be shared anyway: a TreeMap or TreeSet with a comparator (code), an access-ordered LinkedHashMap
     * (it reorders on every read).
     */
    static void checkCollection(Object value, String path) {
        Object comparator = value instanceof SortedMap ? ((SortedMap<?, ?>) value).comparator()
                : value instanceof SortedSet ? ((SortedSet<?>) value).comparator() : null;
        if (comparator != null) {
            throw new NonPortableObjectException("cannot share the " + value.getClass().getName() + " at " + path
                    + ": it has a Comparator (" + comparator.getClass().getName() + "), which is code and cannot be "
                    + "shared; use natural ordering (keys that are Comparable, no comparator), or a HashMap/HashSet");
        }
        if (value instanceof LinkedHashMap && isAccessOrdered((LinkedHashMap<?, ?>) value)) {
            throw new NonPortableObjectException("cannot share the access-ordered LinkedHashMap at " + path + ": it "
                    + "reorders itself on every get(), a change no lock guards (an LRU cache is local by nature); "
                    + "mark the field transient, or use an insertion-ordered LinkedHashMap");
        }
    }

    private static boolean isAccessOrdered(LinkedHashMap<?, ?> map) {
        if (ACCESS_ORDER == null) {
            return false; // java.util not opened to the agent: it cannot tell (see SovereignAgent)
        }
        try {
            return ACCESS_ORDER.getBoolean(map);
        } catch (IllegalAccessException e) {
            return false;
        }
    }

    /** LinkedHashMap's private accessOrder flag, readable once the agent opened java.util to itself; else null. */
    private static final Field ACCESS_ORDER = accessOrderField();

    private static Field accessOrderField() {
        try {
            Field field = LinkedHashMap.class.getDeclaredField("accessOrder");
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** "java.util.ArrayList", "int[]": a class for messages. */
    static String typeName(Class<?> type) {
        return type.isArray() ? type.getSimpleName() : type.getName();
    }

    /** The error for changing shared container {@code container} without the write lock of its owner. */
    static UnlockedSharedObjectException unlockedContainer(ContainerState container, boolean holdsRead) {
        SharedState state = container.shared;
        boolean ownOwner = state.group.ownerHeap == state.heap && state.group.owner() == container.container();
        return new UnlockedSharedObjectException("the shared " + typeName(container.type) + " at " + state.path
                + " (heap object " + state.id() + ") was changed by thread \"" + Thread.currentThread().getName()
                + "\" without " + (holdsRead ? "the write lock (it holds only the read lock of a read-level [[autolock]]) "
                        : "holding the cluster lock ") + (ownOwner ? "of the collection itself (it is a root)"
                        : "of its owner, " + state.group.describeOwner())
                + "; change it inside " + (ownOwner ? "synchronized (collection) { ... }"
                        : "synchronized (owner) { ... } or a synchronized method of its owner (synchronized on the "
                                + "collection takes the same lock)")
                + ", so the change commits atomically and other JVMs see it. The collection was not changed.");
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
