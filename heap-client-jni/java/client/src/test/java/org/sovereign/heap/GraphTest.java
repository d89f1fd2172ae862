package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A graph of 1,000 objects (a list of nodes, each pointing to the next in a ring and to a shared
 * map) written under one cluster lock, committed at its release, and read back whole by another
 * client under the same lock.
 */
@Timeout(180)
class GraphTest extends ClusterTest {
    static final int NODES = 1_000;

    @Test
    void aThousandObjectsWrittenUnderALockAreReadBackByAnotherClient() {
        long started = System.nanoTime();
        try (HeapClient writer = HeapClient.connect(cluster.endpoints())) {
            Lock lock = writer.lock("graph-lock");
            lock.lock();
            try {
                HeapObject root = writer.root("graph");
                HeapList nodes = writer.newList();
                HeapMap shared = writer.newMap();
                shared.put("owner", "graph-test");
                List<HeapObject> created = new ArrayList<>();
                for (int i = 0; i < NODES; i++) {
                    HeapObject node = writer.newObject("test.Node");
                    node.set("index", (long) i);
                    node.set("label", "node-" + i);
                    node.set("shared", shared);
                    created.add(node);
                    nodes.add(node);
                }
                for (int i = 0; i < NODES; i++) {
                    created.get(i).set("next", created.get((i + 1) % NODES));
                }
                root.set("nodes", nodes);
                root.set("count", (long) NODES);
            } finally {
                lock.unlock();
            }
        }
        System.out.printf("[graph] wrote %d objects in %d ms%n", NODES + 2, (System.nanoTime() - started) / 1_000_000);

        started = System.nanoTime();
        try (HeapClient reader = HeapClient.connect(cluster.endpoints())) {
            Lock lock = reader.lock("graph-lock");
            lock.lock();
            try {
                HeapObject root = reader.root("graph");
                assertEquals(NODES, root.getLong("count"));
                HeapList nodes = root.getList("nodes");
                assertEquals(NODES, nodes.size());
                Set<Long> ids = new HashSet<>();
                HeapMap shared = null;
                for (int i = 0; i < NODES; i++) {
                    HeapObject node = (HeapObject) nodes.get(i);
                    ids.add(node.id());
                    assertEquals(i, node.getLong("index"));
                    assertEquals("node-" + i, node.getString("label"));
                    HeapMap nodeShared = node.getMap("shared");
                    if (shared == null) {
                        shared = nodeShared;
                    }
                    assertEquals(shared, nodeShared);
                    assertEquals(((HeapObject) nodes.get((i + 1) % NODES)).id(), node.getObject("next").id());
                }
                assertEquals(NODES, ids.size());
                assertNotNull(shared);
                assertEquals("graph-test", shared.getString("owner"));
                // Walking the ring from node 0 comes back to it after NODES steps.
                HeapObject first = (HeapObject) nodes.get(0);
                HeapObject walker = first;
                for (int i = 0; i < NODES; i++) {
                    walker = walker.getObject("next");
                }
                assertEquals(first, walker);
                assertSame(HeapObject.class, walker.getClass());
            } finally {
                lock.unlock();
            }
        }
        System.out.printf("[graph] read and checked them from another client in %d ms%n",
                (System.nanoTime() - started) / 1_000_000);
    }
}
