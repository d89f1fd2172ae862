package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The batch calls against a real cluster, with the client's count of read requests as the proof:
 * a prefetch reads a whole graph in one round trip, after which reading every object costs none
 * (and the same walk without it costs one per object, so the count is real); a list's or map's
 * elements come with the objects they reference in one more; {@code setAll} commits many writes
 * together, under a lock at its release, and writes nothing when one of them is bad.
 */
@Timeout(180)
class BatchTest extends ClusterTest {
    static final int NODES = 300;
    static final String ROOT = "batch-graph";

    /** A root with a list of NODES nodes, each with a child object and a label: 2 + 2 * NODES objects. */
    @BeforeAll
    static void writeGraph() {
        try (HeapClient writer = HeapClient.connect(cluster.endpoints())) {
            Lock lock = writer.lock("batch-lock");
            lock.lock();
            try {
                HeapObject root = writer.root(ROOT);
                HeapList nodes = writer.newList();
                for (int i = 0; i < NODES; i++) {
                    HeapObject node = writer.newObject("test.Node");
                    HeapObject child = writer.newObject("test.Child");
                    child.set("square", (long) i * i);
                    node.set("index", (long) i);
                    node.set("child", child);
                    nodes.add(node);
                }
                HeapMap byName = writer.newMap();
                byName.put("b", nodes.get(1));
                byName.put("a", nodes.get(0));
                byName.put("count", (long) NODES);
                root.set("nodes", nodes);
                root.set("byName", byName);
            } finally {
                lock.unlock();
            }
        }
    }

    /** Reads every object of the graph; returns the sum of the squares (so nothing is skipped). */
    private static long walk(HeapObject root) {
        HeapList nodes = root.getList("nodes");
        long sum = 0;
        for (int i = 0; i < nodes.size(); i++) {
            HeapObject node = (HeapObject) nodes.get(i);
            assertEquals(i, node.getLong("index"));
            sum += node.getObject("child").getLong("square");
        }
        return sum;
    }

    private static long expectedSum() {
        long sum = 0;
        for (long i = 0; i < NODES; i++) {
            sum += i * i;
        }
        return sum;
    }

    @Test
    void aPrefetchReadsTheWholeGraphInOneRoundTripAndTheWalkThenCostsNone() {
        long unbatched;
        try (HeapClient plain = HeapClient.connect(cluster.endpoints())) {
            HeapObject root = plain.root(ROOT);
            long before = plain.readRequests();
            assertEquals(expectedSum(), walk(root));
            unbatched = plain.readRequests() - before;
        }
        assertTrue(unbatched >= 2 * NODES, "without a prefetch each object is a round trip: " + unbatched);

        try (HeapClient reader = HeapClient.connect(cluster.endpoints())) {
            HeapObject root = reader.root(ROOT);
            long before = reader.readRequests();
            assertEquals(0, reader.prefetchMissing(16, HeapClient.PREFETCH_OBJECTS_MAX, root),
                    "root() cached the root: nothing is missing at it");
            assertEquals(before, reader.readRequests());
            // The walk goes through the cached root and reads the list, the map and all below them.
            int read = reader.prefetch(16, HeapClient.PREFETCH_OBJECTS_MAX, root);
            assertEquals(before + 1, reader.readRequests(), "one round trip for the graph");
            assertEquals(2 + 2 * NODES, read, "the list, the map, the nodes and their children");
            assertEquals(expectedSum(), walk(root));
            assertEquals(before + 1, reader.readRequests(), "every object came from the cache");
            assertEquals(0, reader.prefetch(16, HeapClient.PREFETCH_OBJECTS_MAX, root), "all cached: no read");
            assertEquals(before + 1, reader.readRequests());
            System.out.printf("[batch] walk of %d objects: %d round trips without a prefetch, 1 with one%n",
                    2 + 2 * NODES, unbatched);
        }
    }

    @Test
    void aPrefetchBelowACachedObjectStartsFromTheObjectsItMisses() {
        try (HeapClient reader = HeapClient.connect(cluster.endpoints())) {
            HeapObject root = reader.root(ROOT);
            HeapList nodes = root.getList("nodes");
            long before = reader.readRequests();
            // The root and the list are cached: prefetching from the list's elements reads them and
            // their children (depth 1) in one round trip.
            Object[] elements = nodes.toArray(0, Integer.MAX_VALUE, 1, 2 * NODES);
            assertEquals(NODES, elements.length);
            assertEquals(before + 1, reader.readRequests(), "the elements and their children in one round trip");
            long sum = 0;
            for (Object element : elements) {
                sum += ((HeapObject) element).getObject("child").getLong("square");
            }
            assertEquals(expectedSum(), sum);
            assertEquals(before + 1, reader.readRequests(), "the children came with the elements");

            Object[] middle = nodes.toArray(10, 20, 0, 0);
            assertArrayEquals(java.util.Arrays.copyOfRange(elements, 10, 20), middle);
            assertEquals(0, nodes.toArray(NODES, NODES + 5, 0, 0).length, "a range past the end stops at the end");
            assertThrows(HeapRejectedException.class, () -> nodes.toArray(NODES + 1, NODES + 2, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> nodes.toArray(0, 1, -1, 0));
        }
    }

    @Test
    void aMapsEntriesComeInKeyOrderWithTheObjectsTheyReference() {
        try (HeapClient reader = HeapClient.connect(cluster.endpoints())) {
            HeapMap byName = reader.root(ROOT).getMap("byName");
            long before = reader.readRequests();
            Map<String, Object> entries = byName.toMap();
            assertEquals(List.of("a", "b", "count"), List.copyOf(entries.keySet()));
            assertEquals((long) NODES, entries.get("count"));
            assertEquals(0L, ((HeapObject) entries.get("a")).getLong("index"));
            assertEquals(1L, ((HeapObject) entries.get("b")).getLong("index"));
            assertEquals(before + 1, reader.readRequests(), "both referenced nodes in one round trip");
        }
    }

    @Test
    void setAllCommitsItsWritesTogetherAndWritesNothingWhenOneIsBad() {
        try (HeapClient writer = HeapClient.connect(cluster.endpoints());
                HeapClient reader = HeapClient.connect(cluster.endpoints())) {
            HeapObject a = writer.root("batch-set-a");
            HeapObject b = writer.root("batch-set-b");
            Lock lock = writer.lock("batch-set-lock");
            lock.lock();
            try {
                writer.setAll(new HeapRef[] {a, b, a, a, b}, new String[] {"x", "y", "x", "bytes", "link"},
                        new Object[] {1L, "why", 2L, new byte[] {7, 8}, a}, 5);
                assertEquals(2L, a.getLong("x"), "the thread reads its own writes at once; the later one wins");
                assertNull(reader.root("batch-set-a").get("x"), "nothing is visible before the release");
            } finally {
                lock.unlock();
            }
            HeapObject seenA = reader.root("batch-set-a");
            HeapObject seenB = reader.root("batch-set-b");
            assertEquals(2L, seenA.getLong("x"));
            assertArrayEquals(new byte[] {7, 8}, seenA.getBytes("bytes"));
            assertEquals("why", seenB.getString("y"));
            assertEquals(a.id(), seenB.getObject("link").id());

            // Outside a lock: committed at once, all of them or none.
            writer.setAll(new HeapRef[] {a, b}, new String[] {"x", "y"}, new Object[] {3L, "now"}, 2);
            assertEquals(3L, a.getLong("x"));
            HeapList list = writer.newList();
            assertThrows(HeapTypeException.class, () -> writer.setAll(new HeapRef[] {a, list},
                    new String[] {"x", "y"}, new Object[] {4L, 5L}, 2), "a list has no named entries");
            assertThrows(HeapTypeException.class, () -> writer.setAll(new HeapRef[] {a, b},
                    new String[] {"x", "y"}, new Object[] {5L, new Object()}, 2), "an Object cannot be stored");
            assertEquals(3L, reader.root("batch-set-a").getLong("x"), "a refused batch wrote nothing");
            assertEquals(3L, a.getLong("x"));
        }
    }
}
