package org.sovereign.agent.runtime;

import java.util.Deque;
import java.util.Map;
import org.sovereign.heap.HeapException;
import org.sovereign.heap.HeapList;
import org.sovereign.heap.HeapMap;

/**
 * The {@link ElementIo} of one container for one operation: adopting shares values as changes of
 * the thread's transaction, owned by the container's lock group; decoding loads references either
 * completely (a refresh) or into the load in progress ({@code unfilled}, while a graph loads);
 * reading the data brings the elements' missing objects in one batch of {@code batch}'s (the load
 * in progress, or the refresh's), so a collection of a thousand objects costs one round trip for
 * them, not a thousand.
 */
final class ContainerIo implements ElementIo {
    private final Graph graph;
    private final ThreadTransaction transaction;
    private final LockGroup group;
    private final ClassLoader loader;
    private final Deque<Object> unfilled;
    /** The batches references are read in; null when this operation reads none (a flush, a share). */
    private final LoadBatch batch;

    ContainerIo(Graph graph, ThreadTransaction transaction, LockGroup group, ClassLoader loader, Deque<Object> unfilled,
            LoadBatch batch) {
        this.graph = graph;
        this.transaction = transaction;
        this.group = group;
        this.loader = loader;
        this.unfilled = unfilled;
        this.batch = batch;
    }

    @Override
    public Object[] elements(HeapList list, int from, int to) {
        return list.toArray(from, to, batch().depth(), batch().budget());
    }

    @Override
    public Map<String, Object> entries(HeapMap map) {
        return map.toMap(batch().depth(), batch().budget());
    }

    /** The batch of this operation, or a refresh's for an operation that was not expected to read (reads correctly either way). */
    private LoadBatch batch() {
        return batch != null ? batch : graph.refreshBatch();
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
                ? graph.materialize(reference, loader, referencePath, unfilled, batch())
                : graph.load(reference, loader, referencePath, batch()));
    }

    @Override
    public Object key(String text, String path) {
        return ElementCodec.key(text, loader, path);
    }
}
