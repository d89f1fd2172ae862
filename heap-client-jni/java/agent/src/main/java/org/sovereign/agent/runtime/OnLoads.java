package org.sovereign.agent.runtime;

import java.util.ArrayDeque;

/**
 * The objects each thread loaded from the heap whose class has an on-load method, until it runs.
 * {@link ClassMeta#allocate} adds each new instance; the runtime runs them ({@link #run}) when the
 * access that loaded them is complete: after a root's graph is loaded, after a lock's (or a wait's)
 * refresh, so the whole graph is filled when the first method runs, and the loading thread gets the
 * object back only after its method ran (another thread of this JVM that reaches the object at the
 * same moment may see it before). Bounded by what loads allocate (each load at most
 * {@link Graph#LOAD_OBJECTS_MAX} objects); each object runs once.
 */
final class OnLoads {
    /** Null until the thread first loads an object with an on-load method: most threads never do. */
    private final ThreadLocal<ArrayDeque<Object>> pending = new ThreadLocal<>();

    /** {@code instance} was just allocated to be filled from the heap. */
    void loaded(Object instance) {
        ArrayDeque<Object> queue = pending.get();
        if (queue == null) {
            queue = new ArrayDeque<>();
            pending.set(queue);
        }
        queue.addLast(instance);
    }

    /**
     * Runs the on-load method of every object this thread loaded since the last run, in load order,
     * each once (one that throws does not stop the others; the first failure is thrown, the others
     * added to it as suppressed). An instance the load discarded (another thread registered the
     * same heap object first) or that was unshared again does not run.
     */
    void run(Graph graph) {
        ArrayDeque<Object> queue = pending.get();
        if (queue == null || queue.isEmpty()) {
            return;
        }
        RuntimeException failure = null;
        // An on-load method may load more objects: they join this queue (or a nested run takes them).
        for (Object instance = queue.poll(); instance != null; instance = queue.poll()) {
            SharedState state = Shareable.stateOf(instance);
            if (state == null || state.meta == null || state.meta.onLoad == null
                    || graph.load(state.heap, Graph.loaderOf(instance.getClass()), state.path) != instance) {
                continue;
            }
            try {
                state.meta.onLoad.run(instance, state);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
