package org.sovereign.agent.runtime;

import org.sovereign.agent.collections.SharedContainers;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapTypeException;

/**
 * Java field values to heap values and back, by the field's declared type ({@link FieldMeta.Kind}):
 * integral types and char as longs, float and double as doubles, enums by name, references to
 * instrumented objects, shared java.util collections and arrays as heap references. Fields of a
 * loose type (Object, an interface) hold references, or a String, Long, Double or Boolean as such.
 * Everything else is not portable.
 */
final class FieldCodec {
    /** Turns an instrumented object, collection or array into its heap reference (sharing it if needed). */
    interface Sharer {
        HeapObject share(Object object, String path);
    }

    /** Turns a heap reference into the one Java instance of this JVM for it (loading it if needed). */
    interface Loader {
        Object load(HeapObject reference, String path);
    }

    private FieldCodec() {}

    /**
     * Whether {@code value} in {@code field} encodes without a path or a sharer: everything but a
     * reference in a loose field (which may need sharing, or an error naming its path).
     */
    static boolean isDirect(FieldMeta field, Object value) {
        return value == null || field.kind != FieldMeta.Kind.REFERENCE || value instanceof String
                || value instanceof Long || value instanceof Double || value instanceof Boolean;
    }

    /**
     * The heap value for {@code value} in {@code field}; {@code path} names the field from a root
     * ({@code path} and {@code sharer} are not used when {@link #isDirect}).
     */
    static Object encode(FieldMeta field, Object value, String path, Sharer sharer) {
        if (value == null) {
            return null;
        }
        switch (field.kind) {
            case BOOLEAN:
                return value;
            case INTEGRAL:
                // A long field's box is already the heap value: no second box.
                return value instanceof Long ? value : (Object) ((Number) value).longValue();
            case CHAR:
                return (long) (Character) value;
            case FLOATING:
                return value instanceof Double ? value : (Object) ((Number) value).doubleValue();
            case STRING:
                return value;
            case ENUM:
                return ((Enum<?>) value).name();
            default:
                return encodeLoose(value, path, sharer);
        }
    }

    private static Object encodeLoose(Object value, String path, Sharer sharer) {
        if (value instanceof String || value instanceof Long || value instanceof Double || value instanceof Boolean) {
            return value;
        }
        if (value instanceof Shareable || value.getClass().isArray() || SharedContainers.isSupported(value.getClass())) {
            return sharer.share(value, path);
        }
        throw Portability.nonPortable(value, path);
    }

    /** The Java value for heap value {@code stored} of {@code field} (default when absent). */
    static Object decode(FieldMeta field, Object stored, String path, Loader loader) {
        if (stored == null) {
            return field.defaultValue();
        }
        switch (field.kind) {
            case BOOLEAN:
                return expect(field, stored, Boolean.class, path);
            case INTEGRAL:
                return fromLong(field.type, expect(field, stored, Long.class, path));
            case CHAR:
                return (char) (long) expect(field, stored, Long.class, path);
            case FLOATING: {
                double value = expect(field, stored, Double.class, path);
                return field.type == float.class || field.type == Float.class ? (Object) (float) value : (Object) value;
            }
            case STRING:
                return expect(field, stored, String.class, path);
            case ENUM:
                return enumConstant(field, expect(field, stored, String.class, path), path);
            default:
                if (stored instanceof HeapObject) {
                    return loader.load((HeapObject) stored, path);
                }
                if (stored instanceof String || stored instanceof Long || stored instanceof Double
                        || stored instanceof Boolean) {
                    return stored;
                }
                throw mismatch(field, stored, path);
        }
    }

    /** A long as the boxed value of integral or char type {@code type}. */
    static Object fromLong(Class<?> type, long value) {
        if (type == int.class || type == Integer.class) {
            return (int) value;
        } else if (type == short.class || type == Short.class) {
            return (short) value;
        } else if (type == byte.class || type == Byte.class) {
            return (byte) value;
        } else if (type == char.class || type == Character.class) {
            return (char) value;
        } else if (type == boolean.class) {
            return value != 0;
        } else if (type == double.class) {
            return (double) value;
        } else if (type == float.class) {
            return (float) value;
        }
        return value;
    }

    private static <T> T expect(FieldMeta field, Object stored, Class<T> wanted, String path) {
        if (!wanted.isInstance(stored)) {
            throw mismatch(field, stored, path);
        }
        return wanted.cast(stored);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumConstant(FieldMeta field, String name, String path) {
        try {
            return Enum.valueOf((Class) field.type, name);
        } catch (IllegalArgumentException e) {
            throw new HeapTypeException(path + " holds enum constant " + name + ", which " + field.type.getName()
                    + " does not have in this JVM; run the same version of the class in every JVM");
        }
    }

    private static HeapTypeException mismatch(FieldMeta field, Object stored, String path) {
        String found = stored instanceof HeapObject ? "a reference" : "a " + stored.getClass().getSimpleName();
        return new HeapTypeException(path + " (" + field.fullName() + ", declared " + field.type.getName() + ") holds "
                + found + " in the heap: another JVM runs a different version of the class; run the same version "
                + "everywhere");
    }
}
