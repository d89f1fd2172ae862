package org.sovereign.agent.runtime;

import java.util.Deque;
import org.sovereign.heap.HeapException;

/**
 * The {@link ElementIo} of one container for one operation: adopting shares values as changes of
 * the thread's transaction, owned by the container's lock group; decoding loads references either
 * completely (a refresh) or into the load in progress ({@code unfilled}, while a graph loads).
 */
final class ContainerIo implements ElementIo {
    private final Graph graph;
    private final ThreadTransaction transaction;
    private final LockGroup group;
    private final ClassLoader loader;
    private final Deque<Object> unfilled;

    ContainerIo(Graph graph, ThreadTransaction transaction, LockGroup group, ClassLoader loader, Deque<Object> unfilled) {
        this.graph = graph;
        this.transaction = transaction;
        this.group = group;
        this.loader = loader;
        this.unfilled = unfilled;
    }

    @Override
    public Object adopt(Object value, String path) {
        if (transaction == null) {
            throw new IllegalStateException("a container was changed outside a commit; please report it");
        }
        return graph.sharing.adopt(value, path, transaction, group, loader);
    }

    @Override
    public Object encode(Object value, String path) {
        return ElementCodec.encode(value, path, (reference, referencePath) -> {
            SharedState state = graph.stateOf(reference);
            if (state == null) {
                throw new HeapException(referencePath + " changed while its container was being shared; change objects "
                        + "before adding them to a shared container, or under its owner's lock");
            }
            return state.heap;
        });
    }

    @Override
    public Object decode(Object stored, String path) {
        return ElementCodec.decode(stored, loader, path, (reference, referencePath) -> unfilled != null
                ? graph.materialize(reference, loader, referencePath, unfilled)
                : graph.load(reference, loader, referencePath));
    }

    @Override
    public Object key(String text, String path) {
        return ElementCodec.key(text, loader, path);
    }
}
