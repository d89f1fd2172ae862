package org.sovereign.agent.runtime;

import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapRejectedException;
import org.sovereign.heap.HeapTypeException;

/**
 * A shared primitive array ({@code int[]}, {@code byte[]}, ...): one heap value, its elements as
 * bytes (big-endian), in the holder. Element writes cannot be intercepted without rewriting every
 * array store in every class (and System.arraycopy, Arrays.fill, JDK code would still miss them),
 * so a commit compares the array with a copy of what was synced and, when anything differs,
 * writes the whole value again: one heap change, costing a comparison of the array on every
 * commit of its owner's lock and a copy of it per change.
 */
final class PrimitiveArrayMirror extends Mirror {
    /** Largest array in bytes: it must fit one heap object (1 MiB, heap-server/machine/src/limits.rs) with the holder's other entries. */
    static final int BYTES_MAX = 512 * 1024;

    private final Class<?> component;
    private final int elementBytes;
    private Object synced;

    PrimitiveArrayMirror(HeapObject holder, Class<?> component) {
        super(holder);
        this.component = component;
        this.elementBytes = component == boolean.class || component == byte.class ? 1
                : component == char.class || component == short.class ? 2
                : component == int.class || component == float.class ? 4 : 8;
    }

    @Override
    void create(HeapClient client, Object array, ElementIo io, String path) {
        int length = Array.getLength(array);
        if ((long) length * elementBytes > BYTES_MAX) {
            throw new HeapRejectedException("cannot share the " + component.getName() + "[" + length + "] at " + path
                    + ": a shared primitive array holds at most " + BYTES_MAX + " bytes (it is one heap value); split it, "
                    + "or keep it local (transient)");
        }
        holder.set(ContainerKeys.LENGTH, (long) length);
        holder.set(ContainerKeys.BYTES, encode(array));
        synced = copy(array);
    }

    @Override
    void reload(Object array, ElementIo io, String path) {
        byte[] bytes = holder.getBytes(ContainerKeys.BYTES);
        int length = Array.getLength(array);
        if (bytes == null || bytes.length != length * elementBytes) {
            throw new HeapTypeException(path + " is a " + component.getName() + "[" + length + "] here but holds "
                    + (bytes == null ? "no" : bytes.length) + " bytes in the heap; the heap object was written by other "
                    + "code or another version of the agent");
        }
        decode(bytes, array);
        synced = copy(array);
    }

    /** Nothing smaller than the whole value to read. */
    @Override
    boolean catchUp(Object array, ElementIo io, String path, long since) {
        return false;
    }

    @Override
    boolean flush(Object array, ElementIo io, String path, long version) {
        if (equal(array, synced)) {
            return false;
        }
        holder.set(ContainerKeys.BYTES, encode(array));
        synced = copy(array);
        return true;
    }

    /** An array's length is fixed: every commit compares it instead. */
    @Override
    boolean sizeChanged(Object array) {
        return true;
    }

    private static Object copy(Object array) {
        int length = Array.getLength(array);
        Object copy = Array.newInstance(array.getClass().getComponentType(), length);
        System.arraycopy(array, 0, copy, 0, length);
        return copy;
    }

    private static boolean equal(Object a, Object b) {
        if (a instanceof int[]) {
            return Arrays.equals((int[]) a, (int[]) b);
        } else if (a instanceof long[]) {
            return Arrays.equals((long[]) a, (long[]) b);
        } else if (a instanceof byte[]) {
            return Arrays.equals((byte[]) a, (byte[]) b);
        } else if (a instanceof double[]) {
            return Arrays.equals((double[]) a, (double[]) b);
        } else if (a instanceof boolean[]) {
            return Arrays.equals((boolean[]) a, (boolean[]) b);
        } else if (a instanceof char[]) {
            return Arrays.equals((char[]) a, (char[]) b);
        } else if (a instanceof short[]) {
            return Arrays.equals((short[]) a, (short[]) b);
        }
        return Arrays.equals((float[]) a, (float[]) b);
    }

    private byte[] encode(Object array) {
        int length = Array.getLength(array);
        ByteBuffer buffer = ByteBuffer.allocate(length * elementBytes);
        for (int i = 0; i < length; i++) {
            if (component == int.class) {
                buffer.putInt(((int[]) array)[i]);
            } else if (component == long.class) {
                buffer.putLong(((long[]) array)[i]);
            } else if (component == byte.class) {
                buffer.put(((byte[]) array)[i]);
            } else if (component == double.class) {
                buffer.putDouble(((double[]) array)[i]);
            } else if (component == boolean.class) {
                buffer.put((byte) (((boolean[]) array)[i] ? 1 : 0));
            } else if (component == char.class) {
                buffer.putChar(((char[]) array)[i]);
            } else if (component == short.class) {
                buffer.putShort(((short[]) array)[i]);
            } else {
                buffer.putFloat(((float[]) array)[i]);
            }
        }
        return buffer.array();
    }

    private void decode(byte[] bytes, Object array) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        int length = Array.getLength(array);
        for (int i = 0; i < length; i++) {
            if (component == int.class) {
                ((int[]) array)[i] = buffer.getInt();
            } else if (component == long.class) {
                ((long[]) array)[i] = buffer.getLong();
            } else if (component == byte.class) {
                ((byte[]) array)[i] = buffer.get();
            } else if (component == double.class) {
                ((double[]) array)[i] = buffer.getDouble();
            } else if (component == boolean.class) {
                ((boolean[]) array)[i] = buffer.get() != 0;
            } else if (component == char.class) {
                ((char[]) array)[i] = buffer.getChar();
            } else if (component == short.class) {
                ((short[]) array)[i] = buffer.getShort();
            } else {
                ((float[]) array)[i] = buffer.getFloat();
            }
        }
    }
}
