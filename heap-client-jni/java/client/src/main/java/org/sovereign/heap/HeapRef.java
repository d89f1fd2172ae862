package org.sovereign.heap;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A shared heap object as Java sees it: a cluster-wide id plus the client it is read and written
 * through. It is a light handle, not a copy: every read goes to the client's cache (kept current by
 * the cluster) and every write to the cluster, so two handles with the same id are the same object.
 * Subclasses add the operations of the object's kind: {@link HeapObject} (named fields),
 * {@link HeapMap} (string keys) and {@link HeapList} (an ordered list). A handle may be stored as a
 * value in another object, which makes a reference between the two.
 *
 * <p>While a handle is reachable, the client's session holds its object, so the object is not
 * collected even if nothing in the heap references it; once every handle to it is unreachable (and
 * Java's garbage collector has found that out) the hold is released. See {@link HeapClient}.
 */
public abstract class HeapRef {
    final HeapClient client;
    final long id;

    /**
     * A handle to object {@code id}. It pins the id in the client (the client's session holds the
     * object while any handle to it is reachable) unless {@code pinned} says the native call that
     * returned the id already did (a create), and registers the unpin for when this handle becomes
     * unreachable.
     */
    HeapRef(HeapClient client, long id, boolean pinned) {
        this.client = client;
        this.id = id;
        client.track(this, id, pinned);
    }

    /** The object's cluster-wide id; the same in every JVM. */
    public final long id() {
        return id;
    }

    /** The client this handle reads and writes through. */
    public final HeapClient client() {
        return client;
    }

    // The operations by key shared by HeapObject (fields) and HeapMap (entries).

    // Reads go by the key's interned id (Keys) when it has one: no String crosses into native code.

    final Object getValue(String key) {
        int keyId = Keys.id(key);
        return client.wrap(keyId >= 0
                ? Native.getById(client.handle(), HeapClient.thread(), id, keyId)
                : Native.get(client.handle(), HeapClient.thread(), id, key));
    }

    final long getLongValue(String key) {
        int keyId = Keys.id(key);
        return keyId >= 0
                ? Native.getLongById(client.handle(), HeapClient.thread(), id, keyId)
                : Native.getLong(client.handle(), HeapClient.thread(), id, key);
    }

    final double getDoubleValue(String key) {
        int keyId = Keys.id(key);
        return keyId >= 0
                ? Native.getDoubleById(client.handle(), HeapClient.thread(), id, keyId)
                : Native.getDouble(client.handle(), HeapClient.thread(), id, key);
    }

    final boolean getBooleanValue(String key) {
        int keyId = Keys.id(key);
        return keyId >= 0
                ? Native.getBooleanById(client.handle(), HeapClient.thread(), id, keyId)
                : Native.getBoolean(client.handle(), HeapClient.thread(), id, key);
    }

    final <T> T getTyped(String key, Class<T> type, String wanted) {
        Object value = getValue(key);
        if (value == null || type.isInstance(value)) {
            return type.cast(value);
        }
        throw Values.wrongType(key, id, value, wanted);
    }

    final void setValue(String key, Object value) {
        Objects.requireNonNull(key, "key");
        int tag = Values.tag(value);
        Native.set(client.handle(), HeapClient.thread(), id, key, tag, Values.bits(value, tag),
                Values.text(value, tag), Values.bytes(value, tag));
    }

    final void removeValue(String key) {
        Native.remove(client.handle(), HeapClient.thread(), id, Objects.requireNonNull(key, "key"));
    }

    /** Every entry in key order, the missing referenced objects read in one round trip (see HeapMap.toMap). */
    final Map<String, Object> entryMap(int depth, int maxObjects) {
        if (depth < 0 || maxObjects < 0) {
            throw new IllegalArgumentException("depth " + depth + " and maxObjects " + maxObjects + " must not be negative");
        }
        Object[] flat = Native.entries(client.handle(), HeapClient.thread(), id, depth, maxObjects);
        Map<String, Object> entries = new LinkedHashMap<>(flat.length);
        for (int i = 0; i + 1 < flat.length; i += 2) {
            entries.put((String) flat[i], client.wrap(flat[i + 1]));
        }
        return entries;
    }

    final String[] keyArray() {
        return Native.keys(client.handle(), HeapClient.thread(), id);
    }

    /** Handles are equal when they name the same heap object (same kind and id). */
    @Override
    public final boolean equals(Object other) {
        return other != null && other.getClass() == getClass() && ((HeapRef) other).id == id;
    }

    @Override
    public final int hashCode() {
        return Long.hashCode(id);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "#" + id;
    }
}
