package org.sovereign.heap;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A shared map from String keys to heap values, the counterpart of a {@code HashMap} shared under
 * Terracotta (a logical collection: each put or remove is shipped as one operation, not the whole
 * map). Values and commit rules are those of {@link HeapObject}.
 */
public final class HeapMap extends HeapRef {
    HeapMap(HeapClient client, long id, boolean pinned) {
        super(client, id, pinned);
    }

    /** Maps {@code key} to {@code value}; a null value removes the entry. */
    public void put(String key, Object value) {
        if (value == null) {
            removeValue(key);
        } else {
            setValue(key, value);
        }
    }

    /** The value for {@code key}, or null when absent. */
    public Object get(String key) {
        return getValue(key);
    }

    /** The value for {@code key} as a long; 0 when absent. */
    public long getLong(String key) {
        return getLongValue(key);
    }

    /** The value for {@code key} as a String, or null when absent. */
    public String getString(String key) {
        return getTyped(key, String.class, "String");
    }

    /** Whether {@code key} has an entry. */
    public boolean containsKey(String key) {
        return getValue(key) != null;
    }

    /** Removes the entry for {@code key}, if any. */
    public void remove(String key) {
        removeValue(key);
    }

    /** A snapshot of the keys (a copy; changing it does not change the map). */
    public Set<String> keySet() {
        return new LinkedHashSet<>(Arrays.asList(keyArray()));
    }

    /**
     * Every entry, in key order, in one call (a copy). The objects the values reference are read
     * with them: one round trip for all of those not cached, instead of one each.
     */
    public Map<String, Object> toMap() {
        return toMap(0, 0);
    }

    /**
     * Every entry, in key order, in one call (a copy). The objects the values reference that are not
     * cached are read first, with what those reach through {@code depth} more references, at most
     * {@code maxObjects} objects (never fewer than the missing ones), in one round trip (see
     * {@link HeapClient#prefetchMissing}).
     */
    public Map<String, Object> toMap(int depth, int maxObjects) {
        return entryMap(depth, maxObjects);
    }

    /** The number of entries. */
    public int size() {
        return keyArray().length;
    }
}
