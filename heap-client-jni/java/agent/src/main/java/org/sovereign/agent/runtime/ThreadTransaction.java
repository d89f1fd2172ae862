package org.sovereign.agent.runtime;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one application thread holds and has changed: the cluster locks it holds, by name (with the
 * reentrant count, mode and lock group, so nested {@code synchronized} costs no round trip, also
 * when it is a shared collection's that uses its owner's lock), the objects and containers it
 * shared, the objects it wrote and the containers it changed since its last commit, and its field
 * writes not yet sent to the native client ({@link WriteBuffer}). A commit (the release of an
 * outermost hold, or a wait) clears the changes; a failed one undoes them on the Java side. The
 * write buffer is emptied by sending it (before each commit of this thread's own locks), or by a
 * failure; a commit it was not sent for (a root's first assignment inside another lock) leaves it
 * for the commit of the lock it was written under.
 */
final class ThreadTransaction {
    /** One held cluster lock: how many nested enters, whether it is the read lock, and what it guards. */
    static final class Hold {
        int count = 1;
        final boolean read;
        final LockGroup group;

        Hold(boolean read, LockGroup group) {
            this.read = read;
            this.group = group;
        }
    }

    private final Map<String, Hold> holds = new HashMap<>();
    /** Objects and containers this thread shared since its last commit: writable without their lock until then. */
    private final Map<SharedState, Object> shared = new IdentityHashMap<>();
    /** Objects this thread wrote since its last commit: refreshed from the heap if the commit fails. */
    private final Map<Object, SharedState> written = new IdentityHashMap<>();
    /** Containers whose guard let this thread change them since the last flush. */
    private final Set<ContainerState> changed = new LinkedHashSet<>();
    /** Containers whose changes went into the pending commit: reloaded from the heap if it fails. */
    private final List<ContainerState> flushed = new ArrayList<>();
    /** Field writes not yet sent to the native client. */
    private final WriteBuffer writes = new WriteBuffer();

    Hold hold(String lockName) {
        return holds.get(lockName);
    }

    boolean holds(String lockName) {
        return holds.containsKey(lockName);
    }

    boolean holdsRead(String lockName) {
        Hold hold = holds.get(lockName);
        return hold != null && hold.read;
    }

    void held(String lockName, boolean read, LockGroup group) {
        holds.put(lockName, new Hold(read, group));
    }

    void released(String lockName) {
        holds.remove(lockName);
    }

    /** The groups whose write locks this thread holds. */
    List<LockGroup> writeGroups() {
        List<LockGroup> groups = new ArrayList<>();
        for (Hold hold : holds.values()) {
            if (!hold.read) {
                groups.add(hold.group);
            }
        }
        return groups;
    }

    /** Whether this thread may write {@code state}'s fields or contents: it holds its write lock, or shared it in this transaction. */
    boolean mayWrite(SharedState state) {
        Hold hold = holds.get(state.lockName);
        return (hold != null && !hold.read) || shared.containsKey(state);
    }

    void shared(SharedState state, Object object) {
        shared.put(state, object);
    }

    void wrote(Object object, SharedState state) {
        written.put(object, state);
    }

    void changed(ContainerState container) {
        changed.add(container);
    }

    Set<ContainerState> changed() {
        return changed;
    }

    void clearChanged() {
        changed.clear();
    }

    WriteBuffer writes() {
        return writes;
    }

    void flushed(ContainerState container) {
        flushed.add(container);
    }

    /** The changes reached the heap. */
    void committed() {
        shared.clear();
        written.clear();
        writes.writtenInto(written); // still pending (not sent for this commit): written until theirs
        changed.clear();
        flushed.clear();
    }

    /**
     * The changes did not reach the heap (or may not have): objects and containers shared in this
     * transaction become unshared again, and written objects and changed containers take the heap's
     * values back, so the Java side matches the heap. Returns the failures of those refreshes, for
     * the caller to attach to its exception.
     */
    List<RuntimeException> failed(Graph graph, ContainerSync sync) {
        writes.clear(); // the written objects below take the heap's values back
        List<RuntimeException> failures = new ArrayList<>();
        for (Map.Entry<SharedState, Object> entry : shared.entrySet()) {
            graph.forget(entry.getValue(), entry.getKey());
        }
        for (Map.Entry<Object, SharedState> entry : written.entrySet()) {
            if (!shared.containsKey(entry.getValue())) {
                try {
                    graph.refresh(entry.getKey(), entry.getValue());
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }
        }
        Set<ContainerState> containers = new LinkedHashSet<>(flushed);
        containers.addAll(changed);
        containers.removeIf(container -> shared.containsKey(container.shared));
        sync.reloadAfterFailure(containers, failures);
        committed();
        return failures;
    }
}
