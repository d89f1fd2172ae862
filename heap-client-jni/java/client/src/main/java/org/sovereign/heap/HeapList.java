package org.sovereign.heap;

import java.util.Objects;

/**
 * A shared list of heap values, the counterpart of an {@code ArrayList} shared under Terracotta (a
 * logical collection: each add, set or remove is shipped as one operation). Values and commit rules
 * are those of {@link HeapObject}. An index outside the list throws {@link IndexOutOfBoundsException}
 * when it is negative and {@link HeapRejectedException} when it is past the end.
 */
public final class HeapList extends HeapRef {
    HeapList(HeapClient client, long id, boolean pinned) {
        super(client, id, pinned);
    }

    /** Appends {@code value}. */
    public void add(Object value) {
        int tag = Values.tag(value);
        Native.listPush(client.handle(), HeapClient.thread(), id, tag, Values.bits(value, tag), Values.text(value, tag),
                Values.bytes(value, tag));
    }

    /** Inserts {@code value} at {@code index}, shifting later elements. */
    public void add(int index, Object value) {
        Objects.checkIndex(index, Integer.MAX_VALUE);
        int tag = Values.tag(value);
        Native.listInsert(client.handle(), HeapClient.thread(), id, index, tag, Values.bits(value, tag),
                Values.text(value, tag), Values.bytes(value, tag));
    }

    /** The element at {@code index}. */
    public Object get(int index) {
        Objects.checkIndex(index, Integer.MAX_VALUE);
        return client.wrap(Native.listGet(client.handle(), HeapClient.thread(), id, index));
    }

    /** Replaces the element at {@code index}. */
    public void set(int index, Object value) {
        Objects.checkIndex(index, Integer.MAX_VALUE);
        int tag = Values.tag(value);
        Native.listSet(client.handle(), HeapClient.thread(), id, index, tag, Values.bits(value, tag),
                Values.text(value, tag), Values.bytes(value, tag));
    }

    /** Removes the element at {@code index}, shifting later elements. */
    public void remove(int index) {
        Objects.checkIndex(index, Integer.MAX_VALUE);
        Native.listRemove(client.handle(), HeapClient.thread(), id, index);
    }

    /**
     * Every element, in order, in one call. The objects the elements reference are read with them:
     * one round trip for all of those not cached, instead of one each.
     */
    public Object[] toArray() {
        return toArray(0, Integer.MAX_VALUE, 0, 0);
    }

    /**
     * Elements {@code from} (inclusive) to {@code to} (exclusive; past the end reads to the end), in
     * one call. The objects they reference that are not cached are read first, with what those
     * reach through {@code depth} more references, at most {@code maxObjects} objects (never fewer
     * than the missing ones), in one round trip (see {@link HeapClient#prefetchMissing}).
     */
    public Object[] toArray(int from, int to, int depth, int maxObjects) {
        if (from < 0 || to < 0) {
            throw new IndexOutOfBoundsException("elements " + from + " to " + to + ": neither may be negative");
        }
        if (depth < 0 || maxObjects < 0) {
            throw new IllegalArgumentException("depth " + depth + " and maxObjects " + maxObjects + " must not be negative");
        }
        Object[] values = Native.listValues(client.handle(), HeapClient.thread(), id, from, to, depth, maxObjects);
        for (int i = 0; i < values.length; i++) {
            values[i] = client.wrap(values[i]);
        }
        return values;
    }

    /** The number of elements. */
    public int size() {
        return Native.listLen(client.handle(), HeapClient.thread(), id);
    }
}
