package org.sovereign.heap;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A shared object with named fields, the heap's counterpart of a plain Java object. Field values are
 * null, {@code Boolean}, {@code Long}, {@code Double}, {@code String}, {@code byte[]} or a reference
 * to another heap object ({@link HeapObject}, {@link HeapMap}, {@link HeapList}); {@code Integer},
 * {@code Short} and {@code Byte} are stored as {@code Long}, {@code Float} as {@code Double}.
 *
 * <p>Outside any cluster lock, {@link #set} is committed before it returns. While the thread holds a
 * cluster lock (see {@link HeapClient#lock}), its writes are committed together, atomically, when it
 * releases the outermost hold. Reads see the thread's own writes at once.
 */
public final class HeapObject extends HeapRef {
    HeapObject(HeapClient client, long id, boolean pinned) {
        super(client, id, pinned);
    }

    /** Sets field {@code name}; null clears it. Throws {@link HeapTypeException} for a type the heap cannot hold. */
    public void set(String name, Object value) {
        setValue(name, value);
    }

    /** The field's value (a {@code Long}, {@code Double}, ..., a {@link HeapRef}), or null when unset. */
    public Object get(String name) {
        return getValue(name);
    }

    /** The field as a long; 0 when unset; {@link HeapTypeException} when it holds another type. */
    public long getLong(String name) {
        return getLongValue(name);
    }

    /** The field as a double; 0.0 when unset; {@link HeapTypeException} when it holds another type. */
    public double getDouble(String name) {
        return getDoubleValue(name);
    }

    /** The field as a boolean; false when unset; {@link HeapTypeException} when it holds another type. */
    public boolean getBoolean(String name) {
        return getBooleanValue(name);
    }

    /** The field as a String, or null when unset. */
    public String getString(String name) {
        return getTyped(name, String.class, "String");
    }

    /** The field as bytes, or null when unset. */
    public byte[] getBytes(String name) {
        return getTyped(name, byte[].class, "byte[]");
    }

    /** The field as a reference to a fields object, or null when unset. */
    public HeapObject getObject(String name) {
        return getTyped(name, HeapObject.class, "HeapObject");
    }

    /** The field as a reference to a map, or null when unset. */
    public HeapMap getMap(String name) {
        return getTyped(name, HeapMap.class, "HeapMap");
    }

    /** The field as a reference to a list, or null when unset. */
    public HeapList getList(String name) {
        return getTyped(name, HeapList.class, "HeapList");
    }

    /** Clears field {@code name}. */
    public void remove(String name) {
        removeValue(name);
    }

    /**
     * Every field that is set, by name in name order, in one call (a copy). The objects the fields
     * reference are read with them: one round trip for all of those not cached, instead of one each.
     */
    public Map<String, Object> fields() {
        return fields(0, 0);
    }

    /**
     * Every field that is set, as {@link #fields()}; the referenced objects that are not cached are
     * read with what they reach through {@code depth} more references, at most {@code maxObjects}
     * objects (never fewer than the missing ones), in one round trip (see
     * {@link HeapClient#prefetchMissing}).
     */
    public Map<String, Object> fields(int depth, int maxObjects) {
        return entryMap(depth, maxObjects);
    }

    /** The names of the fields that are set. */
    public Set<String> fieldNames() {
        return new LinkedHashSet<>(Arrays.asList(keyArray()));
    }
}
