package org.sovereign.agent.runtime;

import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;

/**
 * The batched reads of one graph load, so a graph faults in by batches and not one round trip
 * per object (issue 10). A load starts with one prefetch from its first object ({@link #start}),
 * which walks through what the client has cached and reads everything it finds missing below,
 * breadth-first, in one round trip, up to the batch's budget. Each object the load then
 * materializes that is still missing (beyond the budget, or past the read's byte limit) starts a
 * batch of its own ({@link #before}), and each container reads its elements with what they
 * reference in one round trip ({@link ContainerIo}). A root's load has the largest budget from
 * the start: its whole graph is new to this JVM. A load during a refresh (an element another JVM
 * added) starts small, since most of what it references is loaded here already and a big read
 * would mostly bring that again, and grows with every batch it turns out to need.
 */
final class LoadBatch {
    /** Most objects one batch reads: the cluster's limit for one graph read. */
    static final int OBJECTS_MAX = HeapClient.PREFETCH_OBJECTS_MAX;
    /** How deep a batch reads: a path within one batch is at most as long as the batch itself. */
    static final int DEPTH_MAX = OBJECTS_MAX;
    /** The first budget of a load during a refresh (a new element and what is new below it). */
    static final int REFRESH_OBJECTS_FIRST = 64;
    /** Each batch a load needs after its first may read this many times as many objects. */
    static final int GROWTH = 4;

    static {
        assert REFRESH_OBJECTS_FIRST <= OBJECTS_MAX : "the first budget is within the read limit";
    }

    private final HeapClient client;
    /** Whether a load's first batch walks through what is cached below its first object. */
    private final boolean walkFirst;
    private int budget;
    private int batches;

    private LoadBatch(HeapClient client, boolean walkFirst, int budget) {
        this.client = client;
        this.walkFirst = walkFirst;
        this.budget = budget;
    }

    /**
     * The batches of a root's load: the whole graph is expected to be new here, and its first object
     * is usually cached already (the root lookup read it), so the first batch walks through the
     * cached part and reads everything missing below it at once.
     */
    static LoadBatch forRoot(HeapClient client) {
        return new LoadBatch(client, true, OBJECTS_MAX);
    }

    /**
     * The batches of what a refresh meets (elements another JVM added, new references): mostly
     * loaded here already, and often many loads share one batch (each new element of a list), so a
     * cached first object costs nothing, not a walk below it.
     */
    static LoadBatch forRefresh(HeapClient client) {
        return new LoadBatch(client, false, REFRESH_OBJECTS_FIRST);
    }

    /** A load's first batch, from {@code first}: a walk through the cached part (a root's), or a read from it if missing. */
    void start(HeapObject first) {
        read(walkFirst ? client.prefetch(DEPTH_MAX, budget, first) : client.prefetchMissing(DEPTH_MAX, budget, first));
    }

    /** Before {@code reference} is materialized: if it is not cached, a batch from it (else nothing, and no walk). */
    void before(HeapObject reference) {
        read(client.prefetchMissing(DEPTH_MAX, budget, reference));
    }

    /** How deep a container's element read goes below the elements. */
    int depth() {
        return DEPTH_MAX;
    }

    /** How many objects a read of this load may bring now. */
    int budget() {
        return budget;
    }

    /** How many batches (round trips) this load has read so far, containers' element reads not counted. */
    int batches() {
        return batches;
    }

    /** After a batch that read {@code objects}: a load that needed it may need bigger ones. */
    void read(int objects) {
        if (objects > 0) {
            batches++;
            budget = next(budget);
        }
    }

    /** The budget after {@code budget}: {@link #GROWTH} times it, at most {@link #OBJECTS_MAX}. */
    static int next(int budget) {
        return (int) Math.min((long) budget * GROWTH, OBJECTS_MAX);
    }
}
