package org.sovereign.agent.runtime;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one application thread holds and has changed: the cluster locks of shared objects it holds
 * (with the reentrant count and mode, so nested {@code synchronized} costs no round trip), the
 * objects it shared and the objects it wrote since its last commit. A commit (the release of an
 * outermost hold, or a wait) clears the changes; a failed one undoes them on the Java side.
 */
final class ThreadTransaction {
    /** One held cluster lock: how many nested enters, and whether it is the read lock. */
    static final class Hold {
        int count = 1;
        final boolean read;

        Hold(boolean read) {
            this.read = read;
        }
    }

    private final Map<SharedState, Hold> holds = new IdentityHashMap<>();
    /** Objects this thread shared since its last commit: writable without their own lock until then. */
    private final Map<SharedState, Object> shared = new IdentityHashMap<>();
    /** Objects this thread wrote since its last commit: refreshed from the heap if the commit fails. */
    private final Map<Object, SharedState> written = new IdentityHashMap<>();

    Hold hold(SharedState state) {
        return holds.get(state);
    }

    void held(SharedState state, boolean read) {
        holds.put(state, new Hold(read));
    }

    void released(SharedState state) {
        holds.remove(state);
    }

    /** Whether this thread may write {@code state}'s fields: it holds its write lock, or shared it in this transaction. */
    boolean mayWrite(SharedState state) {
        Hold hold = holds.get(state);
        return (hold != null && !hold.read) || shared.containsKey(state);
    }

    void shared(SharedState state, Object object) {
        shared.put(state, object);
    }

    void wrote(Object object, SharedState state) {
        written.put(object, state);
    }

    /** The changes reached the heap. */
    void committed() {
        shared.clear();
        written.clear();
    }

    /**
     * The changes did not reach the heap (or may not have): objects shared in this transaction become
     * unshared again, and written objects take the heap's values back, so the Java side matches the
     * heap. Returns the failures of those refreshes, for the caller to attach to its exception.
     */
    List<RuntimeException> failed(Graph graph) {
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
        committed();
        return failures;
    }
}
