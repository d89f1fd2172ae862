package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * How a load's batches grow, without a cluster: a root's load reads the most from its first batch;
 * a refresh's starts small and grows by {@link LoadBatch#GROWTH} with each batch that read
 * something, up to the cluster's limit for one read; a batch that read nothing (all cached) does
 * not count. The round trips themselves are counted against a real cluster by GraphLoadIT.
 */
class LoadBatchTest {
    @Test
    void aRefreshStartsSmallAndGrowsOnlyWithBatchesThatRead() {
        LoadBatch batch = LoadBatch.forRefresh(null);
        assertEquals(LoadBatch.REFRESH_OBJECTS_FIRST, batch.budget());
        batch.read(0);
        assertEquals(LoadBatch.REFRESH_OBJECTS_FIRST, batch.budget(), "nothing read: no round trip, no growth");
        assertEquals(0, batch.batches());
        int expected = LoadBatch.REFRESH_OBJECTS_FIRST;
        for (int i = 1; i <= 10; i++) {
            batch.read(1);
            expected = Math.min(expected * LoadBatch.GROWTH, LoadBatch.OBJECTS_MAX);
            assertEquals(expected, batch.budget(), "after batch " + i);
            assertEquals(i, batch.batches());
        }
        assertEquals(LoadBatch.OBJECTS_MAX, batch.budget(), "capped at the cluster's read limit");
    }

    @Test
    void aRootsLoadReadsTheMostFromItsFirstBatch() {
        LoadBatch batch = LoadBatch.forRoot(null);
        assertEquals(LoadBatch.OBJECTS_MAX, batch.budget());
        assertEquals(LoadBatch.DEPTH_MAX, batch.depth());
        batch.read(LoadBatch.OBJECTS_MAX);
        assertEquals(LoadBatch.OBJECTS_MAX, batch.budget());
        assertEquals(LoadBatch.OBJECTS_MAX, LoadBatch.next(Integer.MAX_VALUE), "no int overflow on the way");
    }
}
