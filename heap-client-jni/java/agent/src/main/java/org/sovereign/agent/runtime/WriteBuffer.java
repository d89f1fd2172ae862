package org.sovereign.agent.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapRef;
import org.sovereign.heap.HeapRejectedException;

/**
 * The field writes one thread made to shared objects since they last went to the native client:
 * one entry per (object, field) holding the last value written, objects in the order of their
 * first write. A write costs a lookup and a few array stores (none of them allocates once the
 * entry exists); the buffer crosses into the native client in one call ({@link #flush}) when the
 * thread commits (an outermost release, a wait) or before the runtime reads the heap on its behalf.
 * Keeping only the last value is safe: nothing reads these fields from the heap for this thread
 * between two flushes (its reads are plain Java reads), and the commit applies the writes
 * together, atomically, so the values in between are never visible anywhere.
 */
final class WriteBuffer {
    /** Most distinct fields pending: what one lock's commit may hold (the native client's PENDING_OPS_MAX). */
    static final int FIELDS_MAX = HeapClient.SET_ALL_WRITES_MAX;
    /** Fields one object's entry has room for before it grows (most objects have a few). */
    static final int FIELDS_PER_OBJECT_INITIAL = 4;

    /** The pending writes of one object: its fields and their last values, in first-write order. */
    static final class Pending {
        final Object object;
        final SharedState state;
        FieldMeta[] fields = new FieldMeta[FIELDS_PER_OBJECT_INITIAL];
        Object[] values = new Object[FIELDS_PER_OBJECT_INITIAL];
        int size;

        Pending(Object object, SharedState state) {
            this.object = object;
            this.state = state;
        }

        /** The position of {@code field}, or -1. A linear scan: an object has few fields, compared by identity. */
        int indexOf(FieldMeta field) {
            for (int i = 0; i < size; i++) {
                if (fields[i] == field) {
                    return i;
                }
            }
            return -1;
        }

        void add(FieldMeta field, Object value) {
            if (size == fields.length) {
                fields = Arrays.copyOf(fields, size * 2);
                values = Arrays.copyOf(values, size * 2);
            }
            fields[size] = field;
            values[size] = value;
            size++;
        }
    }

    private final List<Pending> objects = new ArrayList<>();
    private final IdentityHashMap<SharedState, Pending> byState = new IdentityHashMap<>();
    /** The object written last: consecutive writes to one object skip the map. */
    private Pending last;
    private int fields;

    /**
     * Records {@code value} (already the heap value) as the new value of {@code field} of
     * {@code object}; returns whether it is the object's first pending write (the caller records
     * the object as written).
     *
     * @throws HeapRejectedException when more than {@link #FIELDS_MAX} distinct fields would be pending
     */
    boolean put(Object object, SharedState state, FieldMeta field, Object value) {
        Pending pending = last;
        boolean first = false;
        if (pending == null || pending.state != state) {
            pending = byState.get(state);
            if (pending == null) {
                pending = new Pending(object, state);
                first = true;
            }
        }
        int index = pending.indexOf(field);
        if (index >= 0) {
            pending.values[index] = value;
        } else {
            if (fields >= FIELDS_MAX) {
                throw new HeapRejectedException("more than " + FIELDS_MAX + " fields of shared objects written under one "
                        + "lock (writing " + state.path + "." + field.name + "): that is more than one commit may hold; "
                        + "release the lock more often");
            }
            pending.add(field, value);
            fields++;
        }
        if (first) {
            byState.put(state, pending);
            objects.add(pending);
        }
        last = pending;
        return first;
    }

    /** Adds each object with pending writes to {@code written} (object to its state). */
    void writtenInto(Map<Object, SharedState> written) {
        for (Pending pending : objects) {
            written.put(pending.object, pending.state);
        }
    }

    /** How many distinct fields are pending. */
    int size() {
        return fields;
    }

    /** The pending value of {@code field} of {@code state}'s object, or {@code absent} (for tests). */
    Object pending(SharedState state, FieldMeta field, Object absent) {
        Pending pending = byState.get(state);
        int index = pending == null ? -1 : pending.indexOf(field);
        return index < 0 ? absent : pending.values[index];
    }

    /**
     * Sends every pending write to the native client in one call, as changes of the thread's open
     * transaction (committed with its next release), and empties the buffer; an empty buffer costs
     * nothing. All or nothing: when the client refuses them (more changes than a commit may hold,
     * say), none is recorded, and the written objects take the values the heap has for this
     * thread back (through {@code graph}), so the Java side matches what will commit.
     */
    void flush(HeapClient client, Graph graph) {
        if (fields == 0) {
            return;
        }
        HeapRef[] targets = new HeapRef[fields];
        String[] keys = new String[fields];
        Object[] values = new Object[fields];
        int next = 0;
        for (Pending pending : objects) {
            for (int i = 0; i < pending.size; i++) {
                targets[next] = pending.state.heap;
                keys[next] = pending.fields[i].name;
                values[next] = pending.values[i];
                next++;
            }
        }
        List<Pending> sent = new ArrayList<>(objects);
        clear();
        try {
            client.setAll(targets, keys, values, next);
            AgentCounters.writeBatchSent(next);
        } catch (RuntimeException | Error e) {
            for (Pending pending : sent) {
                try {
                    graph.refresh(pending.object, pending.state);
                } catch (RuntimeException refreshFailure) {
                    e.addSuppressed(refreshFailure);
                }
            }
            throw e;
        }
    }

    /** Drops every pending write (its transaction failed, or they were sent). */
    void clear() {
        objects.clear();
        byState.clear();
        last = null;
        fields = 0;
    }
}
