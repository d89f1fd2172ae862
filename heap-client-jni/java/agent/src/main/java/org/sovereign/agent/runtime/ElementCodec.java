package org.sovereign.agent.runtime;

import org.sovereign.agent.collections.SharedContainers;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapTypeException;
import org.sovereign.heap.NonPortableObjectException;

/**
 * Elements, map keys and map values of shared containers as heap values, and back. A collection
 * is generic, so the heap value must say the Java type: String, Long, Double and Boolean elements
 * are stored as such; the other scalars (Integer, Short, Byte, Character, Float, enum constants)
 * as tagged text, {@code #i42}, {@code #eDEMO.Color:RED}. A String that starts with '#' is stored
 * as {@code #s} + the string, so a tagged text never reads back as a String by accident. Heap map
 * keys are strings: every key is text, Long, Double and Boolean tagged as well ({@code #j42}).
 * Shared objects and containers are references. Keys must be scalars: other objects hash by
 * identity, which differs between JVMs.
 */
final class ElementCodec {
    static final char TAG = '#';

    private ElementCodec() {}

    /** Whether {@code value} is stored by value (not a reference): null, String, a boxed primitive, an enum constant. */
    static boolean isScalar(Object value) {
        return value == null || value instanceof String || value instanceof Number && isBoxed(value)
                || value instanceof Boolean || value instanceof Character || value instanceof Enum;
    }

    private static boolean isBoxed(Object number) {
        return number instanceof Long || number instanceof Integer || number instanceof Short || number instanceof Byte
                || number instanceof Double || number instanceof Float;
    }

    /** Whether two element values are the same for the heap: equal scalars, or the very same object. */
    static boolean same(Object a, Object b) {
        return a == b || a != null && isScalar(a) && a.equals(b);
    }

    /** The heap map key for {@code key}; a key that is not a scalar throws, naming {@code path}. */
    static String keyText(Object key, String path) {
        if (key == null) {
            return TAG + "n";
        } else if (key instanceof Long) {
            return TAG + "j" + key;
        } else if (key instanceof Double) {
            return TAG + "d" + key;
        } else if (key instanceof Boolean) {
            return TAG + "z" + key;
        }
        String text = scalarText(key);
        if (text == null) {
            throw new NonPortableObjectException("cannot use a " + key.getClass().getName() + " as a key (or set element) "
                    + "at " + path + ": keys of shared maps and elements of shared sets must be a String, a boxed "
                    + "primitive or an enum constant, because other objects hash by identity, which differs between "
                    + "JVMs; key the map by a String or a number (an id) instead");
        }
        return text;
    }

    /** The Java key for heap map key {@code text}. */
    static Object key(String text, ClassLoader loader, String path) {
        if (text.length() >= 2 && text.charAt(0) == TAG) {
            switch (text.charAt(1)) {
                case 'n':
                    return null;
                case 'j':
                    return Long.valueOf(text.substring(2));
                case 'd':
                    return Double.valueOf(text.substring(2));
                case 'z':
                    return Boolean.valueOf(text.substring(2));
                default:
                    break;
            }
        }
        return fromText(text, loader, path);
    }

    /**
     * The heap value for element {@code value}: a scalar by value, a shared object or container as
     * its reference ({@code references} gives it; the value was adopted, so it is shared). Anything
     * else throws {@link NonPortableObjectException} naming {@code path}.
     */
    static Object encode(Object value, String path, FieldCodec.Sharer references) {
        if (value == null || value instanceof Long || value instanceof Double || value instanceof Boolean) {
            return value;
        }
        String text = scalarText(value);
        if (text != null) {
            return text;
        }
        check(value, path);
        return references.share(value, path);
    }

    /** The Java value for heap value {@code stored} of an element ({@code references} loads references). */
    static Object decode(Object stored, ClassLoader loader, String path, FieldCodec.Loader references) {
        if (stored == null || stored instanceof Long || stored instanceof Double || stored instanceof Boolean) {
            return stored;
        } else if (stored instanceof String) {
            return fromText((String) stored, loader, path);
        } else if (stored instanceof HeapObject) {
            return references.load((HeapObject) stored, path);
        }
        throw new HeapTypeException(path + " holds a " + stored.getClass().getSimpleName() + " in the heap, which the "
                + "agent does not write into a collection; the heap object was written by other code");
    }

    /** Throws {@link NonPortableObjectException} naming {@code path} if {@code value} can never be shared as an element. */
    static void check(Object value, String path) {
        if (isScalar(value) || value instanceof Shareable || value.getClass().isArray()
                || SharedContainers.isSupported(value.getClass())) {
            return;
        }
        throw Portability.nonPortable(value, path);
    }

    /** "path[3]", "path[\"news\"]", "path[RED]": an element's path, for messages. */
    static String at(String path, Object keyOrIndex) {
        return path + "[" + (keyOrIndex instanceof String ? "\"" + keyOrIndex + "\"" : String.valueOf(keyOrIndex)) + "]";
    }

    /** The text of a scalar that is neither Long, Double nor Boolean; null for a non-scalar. */
    private static String scalarText(Object value) {
        if (value instanceof String) {
            String text = (String) value;
            return !text.isEmpty() && text.charAt(0) == TAG ? TAG + "s" + text : text;
        } else if (value instanceof Integer) {
            return TAG + "i" + value;
        } else if (value instanceof Short) {
            return TAG + "h" + value;
        } else if (value instanceof Byte) {
            return TAG + "b" + value;
        } else if (value instanceof Character) {
            return TAG + "c" + value;
        } else if (value instanceof Float) {
            return TAG + "f" + value;
        } else if (value instanceof Enum) {
            Enum<?> constant = (Enum<?>) value;
            return TAG + "e" + constant.getDeclaringClass().getName() + ":" + constant.name();
        }
        return null;
    }

    private static Object fromText(String text, ClassLoader loader, String path) {
        if (text.isEmpty() || text.charAt(0) != TAG) {
            return text;
        }
        String rest = text.substring(2);
        try {
            switch (text.length() < 2 ? '?' : text.charAt(1)) {
                case 's':
                    return rest;
                case '0':
                    return null;
                case 'i':
                    return Integer.valueOf(rest);
                case 'h':
                    return Short.valueOf(rest);
                case 'b':
                    return Byte.valueOf(rest);
                case 'c':
                    if (rest.length() != 1) {
                        break;
                    }
                    return rest.charAt(0);
                case 'f':
                    return Float.valueOf(rest);
                case 'e':
                    return enumConstant(rest, loader, path);
                default:
                    break;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new HeapTypeException(path + " holds \"" + text + "\" in the heap, which this agent cannot read back; "
                + "another JVM runs a different version of the agent: run the same version everywhere");
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object enumConstant(String classAndName, ClassLoader loader, String path) {
        int colon = classAndName.indexOf(':');
        String className = classAndName.substring(0, Math.max(colon, 0));
        Class<?> type;
        try {
            type = Class.forName(className, false, loader);
        } catch (ClassNotFoundException e) {
            throw new HeapTypeException(path + " holds a constant of enum " + className + ", which " + loader
                    + " cannot find; put the class on this JVM's class path");
        }
        if (!type.isEnum()) {
            throw new HeapTypeException(path + " holds a constant of " + className + ", which is not an enum in this JVM; "
                    + "run the same version of the class everywhere");
        }
        try {
            return Enum.valueOf((Class) type, classAndName.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            throw new HeapTypeException(path + " holds enum constant " + classAndName + ", which this JVM's " + className
                    + " does not have; run the same version of the class everywhere");
        }
    }
}
