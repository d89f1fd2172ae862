package org.sovereign.agent.runtime;

import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;
import org.sovereign.heap.HeapObject;

/**
 * The {@link LockGroup} of each cluster lock in this JVM, by lock name. Weak: a group lives while a
 * shared object or container of it does (their states hold it), so the table does not keep every
 * object this JVM ever saw.
 */
final class LockGroups {
    /** The table is swept of collected groups when it grows past twice its size after the last sweep, and at least this. */
    static final int SWEEP_SIZE_MIN = 1024;

    private final ConcurrentHashMap<String, WeakReference<LockGroup>> groups = new ConcurrentHashMap<>();
    /** Table size after the last sweep of collected groups; the next sweep comes when it doubles. */
    private volatile int sweptSize = SWEEP_SIZE_MIN;

    /** The group of {@code lockName}, made for a newly shared owner (nothing of it is in the heap yet). */
    LockGroup created(String lockName, HeapObject ownerHeap) {
        LockGroup group = new LockGroup(lockName, ownerHeap, 0, false);
        groups.put(lockName, new WeakReference<>(group));
        sweep();
        return group;
    }

    /**
     * The group of {@code lockName} (whose owner's heap object is {@code ownerHeap}), made when
     * unknown; external when the owner's heap object says so ({@link ContainerKeys#EXTERNAL}).
     */
    LockGroup forLock(String lockName, HeapObject ownerHeap) {
        return forLock(lockName, ownerHeap, false);
    }

    /**
     * The group of {@code lockName}, made when unknown; {@code external} true makes a new one
     * external whatever the heap says yet (its owner is being created in this transaction).
     */
    LockGroup forLock(String lockName, HeapObject ownerHeap, boolean external) {
        LockGroup known = live(lockName);
        if (known != null) {
            return known;
        }
        // Read outside the table's lock: a native call.
        boolean isExternal = external || ownerHeap.getLong(ContainerKeys.EXTERNAL) != 0;
        LockGroup[] found = new LockGroup[1];
        groups.compute(lockName, (name, reference) -> {
            LockGroup live = reference == null ? null : reference.get();
            if (live != null) {
                found[0] = live;
                return reference;
            }
            found[0] = new LockGroup(name, ownerHeap, -1, isExternal);
            return new WeakReference<>(found[0]);
        });
        sweep();
        return found[0];
    }

    private LockGroup live(String lockName) {
        WeakReference<LockGroup> reference = groups.get(lockName);
        return reference == null ? null : reference.get();
    }

    private void sweep() {
        if (groups.size() > 2 * sweptSize) {
            groups.values().removeIf(reference -> reference.get() == null);
            sweptSize = Math.max(SWEEP_SIZE_MIN, groups.size());
        }
    }
}
