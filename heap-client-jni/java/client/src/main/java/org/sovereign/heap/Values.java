package org.sovereign.heap;

/**
 * How a Java value crosses to the native library: as (tag, bits, text, bytes), where the tag says
 * which part carries it, so the native side never inspects Java objects. Also the one place that
 * decides which Java types the heap can hold. The tags must match {@code ValueTag} in
 * {@code heap-client-jni/jni/src/values.rs}.
 */
final class Values {
    static final int TAG_NULL = 0;
    static final int TAG_BOOL = 1;
    static final int TAG_LONG = 2;
    static final int TAG_DOUBLE = 3;
    static final int TAG_STRING = 4;
    static final int TAG_BYTES = 5;
    static final int TAG_OBJECT = 6;

    /** Named in every error about an unsupported value type. */
    static final String SUPPORTED = "null, Boolean, Long (or Integer, Short, Byte), Double (or Float), String, "
            + "byte[], or a HeapObject, HeapMap or HeapList";

    private Values() {}

    /** The tag for {@code value}; throws {@link HeapTypeException} for a type the heap cannot hold. */
    static int tag(Object value) {
        if (value == null) {
            return TAG_NULL;
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short
                || value instanceof Byte) {
            return TAG_LONG;
        } else if (value instanceof String) {
            return TAG_STRING;
        } else if (value instanceof Boolean) {
            return TAG_BOOL;
        } else if (value instanceof Double || value instanceof Float) {
            return TAG_DOUBLE;
        } else if (value instanceof byte[]) {
            return TAG_BYTES;
        } else if (value instanceof HeapRef) {
            return TAG_OBJECT;
        }
        throw new HeapTypeException("value type " + value.getClass().getName() + " cannot be stored in the heap; use "
                + SUPPORTED + (value instanceof Character ? " (a char as a String)" : "")
                + (value instanceof java.util.Map || value instanceof java.util.Collection
                        ? " (for a collection create a HeapMap or HeapList with HeapClient.newMap()/newList())"
                        : ""));
    }

    /** The primitive part of a value with tag {@code tag}. */
    static long bits(Object value, int tag) {
        switch (tag) {
            case TAG_BOOL:
                return ((Boolean) value) ? 1 : 0;
            case TAG_LONG:
                return ((Number) value).longValue();
            case TAG_DOUBLE:
                return Double.doubleToRawLongBits(((Number) value).doubleValue());
            case TAG_OBJECT:
                return ((HeapRef) value).id();
            default:
                return 0;
        }
    }

    static String text(Object value, int tag) {
        return tag == TAG_STRING ? (String) value : null;
    }

    static byte[] bytes(Object value, int tag) {
        return tag == TAG_BYTES ? (byte[]) value : null;
    }

    /** The error for a typed getter that found a value of another type. */
    static HeapTypeException wrongType(String key, long id, Object found, String wanted) {
        String type = found instanceof byte[] ? "byte[]" : found.getClass().getSimpleName();
        return new HeapTypeException("`" + key + "` of object " + id + " holds a " + type + ", not a " + wanted
                + "; read it with get() or the getter for " + type);
    }
}
