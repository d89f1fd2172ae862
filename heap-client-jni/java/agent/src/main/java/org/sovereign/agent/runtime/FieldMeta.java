package org.sovereign.agent.runtime;

import java.lang.reflect.Field;
import org.sovereign.heap.HeapException;
import org.sovereign.heap.HeapTypeException;

/**
 * One shared field of an instrumented class: the reflective handle the runtime reads and writes it
 * through (writes made this way bypass the rewritten PUTFIELDs, so loading and refreshing never
 * count as application writes), its heap key (the field's name) and how its values are stored.
 */
final class FieldMeta {
    /** How a field's values are stored in the heap, decided by its declared type. */
    enum Kind {
        /** boolean, Boolean: a heap boolean. */
        BOOLEAN,
        /** byte, short, int, long and their boxes: a heap long. */
        INTEGRAL,
        /** char, Character: a heap long (the UTF-16 code unit). */
        CHAR,
        /** float, double and their boxes: a heap double. */
        FLOATING,
        /** String: a heap string. */
        STRING,
        /** An enum type: the constant's name as a heap string. */
        ENUM,
        /** Anything else: a reference to a shared object, or a String, Long, Double or Boolean as such. */
        REFERENCE
    }

    final Field field;
    final String name;
    final Class<?> type;
    final Kind kind;

    FieldMeta(Field field) {
        this.field = field;
        this.name = field.getName();
        this.type = field.getType();
        this.kind = kindOf(type);
        field.setAccessible(true);
    }

    static Kind kindOf(Class<?> type) {
        if (type == boolean.class || type == Boolean.class) {
            return Kind.BOOLEAN;
        } else if (type == long.class || type == int.class || type == short.class || type == byte.class
                || type == Long.class || type == Integer.class || type == Short.class || type == Byte.class) {
            return Kind.INTEGRAL;
        } else if (type == char.class || type == Character.class) {
            return Kind.CHAR;
        } else if (type == double.class || type == float.class || type == Double.class || type == Float.class) {
            return Kind.FLOATING;
        } else if (type == String.class) {
            return Kind.STRING;
        } else if (type.isEnum()) {
            return Kind.ENUM;
        }
        return Kind.REFERENCE;
    }

    /** "demo.Counter.count": the declaring class and the name, for messages. */
    String fullName() {
        return field.getDeclaringClass().getName() + "." + name;
    }

    Object get(Object owner) {
        try {
            return field.get(owner);
        } catch (IllegalAccessException e) {
            throw new HeapException("cannot read " + fullName() + " by reflection (" + e + "); please report it", e);
        }
    }

    void set(Object owner, Object value) {
        try {
            field.set(owner, value);
        } catch (IllegalAccessException e) {
            throw new HeapException("cannot write " + fullName() + " by reflection (" + e + "); please report it", e);
        } catch (IllegalArgumentException e) {
            throw new HeapTypeException("the heap holds a " + value.getClass().getName() + " for " + fullName()
                    + ", declared " + type.getName() + ": another JVM runs a different version of the class; run the "
                    + "same version everywhere");
        }
    }

    /** The value of a field the heap has no entry for: Java's default. */
    Object defaultValue() {
        if (!type.isPrimitive()) {
            return null;
        }
        return FieldCodec.fromLong(type, 0);
    }
}
