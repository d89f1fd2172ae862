package org.sovereign.tomcat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import org.apache.catalina.util.CustomObjectInputStream;
import org.sovereign.heap.HeapRejectedException;

/**
 * Session attribute values as bytes (Java serialization): what the heap stores for each attribute,
 * and what is compared at the end of each request to find values mutated in place.
 */
final class AttributeCodec {
    /**
     * Largest serialized attribute value: the heap takes a byte[] field of a few MiB, and each one is
     * written in the commit at the end of a request; a bigger value is refused with the reason.
     */
    static final int VALUE_BYTES_MAX = 4 * 1024 * 1024;

    private AttributeCodec() {
    }

    /**
     * The serialized form of {@code value} of attribute {@code name}.
     *
     * @throws IllegalArgumentException naming the attribute and the class that cannot be serialized
     * @throws HeapRejectedException if the value is larger than {@link #VALUE_BYTES_MAX}
     */
    static byte[] encode(String name, Object value) {
        if (!(value instanceof Serializable)) {
            throw notPortable(name, value.getClass().getName());
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (NotSerializableException e) {
            // The message of NotSerializableException is the class that is not serializable.
            throw notPortable(name, value.getClass().getName() + " (it holds a " + e.getMessage() + ")");
        } catch (IOException e) {
            throw new IllegalArgumentException("session attribute '" + name + "' (a " + value.getClass().getName()
                    + ") could not be serialized: " + e + "; fix its writeObject or store another type", e);
        }
        if (bytes.size() > VALUE_BYTES_MAX) {
            throw new HeapRejectedException("session attribute '" + name + "' is " + bytes.size()
                    + " bytes serialized; at most " + VALUE_BYTES_MAX + " are stored: keep large data elsewhere");
        }
        return bytes.toByteArray();
    }

    private static IllegalArgumentException notPortable(String name, String type) {
        return new IllegalArgumentException("session attribute '" + name + "': a " + type + " cannot be stored on the "
                + "Sovereign heap: session values must be java.io.Serializable (with serializable fields), so that "
                + "every Tomcat can read them; make it Serializable or keep it out of the session");
    }

    /**
     * The value {@code bytes} encode, its classes loaded by {@code loader} (the web application's).
     *
     * @throws IllegalStateException naming the attribute when the bytes cannot be read back (a class
     *     missing from this node's web application, or changed incompatibly)
     */
    static Object decode(String name, byte[] bytes, ClassLoader loader) {
        try (ObjectInputStream in = new CustomObjectInputStream(new ByteArrayInputStream(bytes), loader)) {
            return in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("session attribute '" + name + "' could not be read back: " + e
                    + "; deploy the same application classes on every Tomcat", e);
        }
    }
}
