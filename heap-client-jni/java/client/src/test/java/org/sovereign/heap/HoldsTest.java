package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.locks.Lock;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Holds from Java against a real cluster: what Java code references is kept, what it dropped is
 * collected. An object created and never linked goes once its handle is unreachable; an object
 * another client detaches survives while a Java handle to it lives and can be linked again; 50,000
 * creates whose handles are dropped leave no holds behind (before, every create was held until the
 * session ended); and after {@code deleteRoot} the root's graph goes. The cluster's figures come from
 * {@code heapctl gc status --json}.
 */
@Timeout(600)
class HoldsTest extends ClusterTest {
    /** How long the collector may take to free what became garbage (it polls every second). */
    static final Duration COLLECT_TIMEOUT = Duration.ofSeconds(60);
    /** How long a detached object must survive while Java holds it: three collector polls. */
    static final Duration SURVIVE = Duration.ofMillis(3_500);
    static final long POLL_MS = 200;
    /** Creates under a cluster lock: batches of 1,000, each committed by one release. */
    static final int LOCKED_BATCHES = 45;
    static final int LOCKED_BATCH = 1_000;
    /** Creates outside any lock, each its own commit, spread over threads so commits can be grouped. */
    static final int LONE_CREATES = 5_000;
    static final int CREATE_THREADS = 4;
    static final int CREATES = LOCKED_BATCHES * LOCKED_BATCH + LONE_CREATES;
    /** Server holds allowed after the creates: far below 50,000 (other tests' clients hold a few). */
    static final long HOLDS_AFTER_CREATES_MAX = 1_000;

    static long figure(String name) throws Exception {
        String json = cluster.heapctlHere("gc", "status", "--json");
        Matcher matcher = Pattern.compile("\"" + name + "\"\\s*:\\s*(\\d+)").matcher(json);
        if (!matcher.find()) {
            throw new AssertionError("heapctl gc status --json has no " + name + ": " + json);
        }
        return Long.parseLong(matcher.group(1));
    }

    /**
     * Runs Java's garbage collector (so Cleaners unpin dropped handles) until {@code figure} of
     * {@code gc status} satisfies {@code wanted}, or fails after {@link #COLLECT_TIMEOUT}.
     */
    static long awaitFigure(String name, LongPredicate wanted, String what) throws Exception {
        long deadline = System.nanoTime() + COLLECT_TIMEOUT.toNanos();
        long value = figure(name);
        while (!wanted.test(value)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": " + name + " is still " + value + " after " + COLLECT_TIMEOUT);
            }
            System.gc();
            Thread.sleep(POLL_MS);
            value = figure(name);
        }
        return value;
    }

    /**
     * How many of {@code ids} exist, read by a new client (nothing cached, nothing pinned) after a
     * linearizable read of a root, so no lagging node answers from before a create or a free.
     */
    static int existing(long... ids) {
        try (HeapClient checker = HeapClient.connect(cluster.endpoints())) {
            checker.root("holds-probe");
            int found = 0;
            for (long id : ids) {
                try {
                    Native.kind(checker.handle(), id);
                    found++;
                } catch (HeapRejectedException e) {
                    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
                }
            }
            return found;
        }
    }

    static boolean exists(long id) {
        return existing(id) == 1;
    }

    /** Runs Java's garbage collector until none of {@code ids} exists, or fails after {@link #COLLECT_TIMEOUT}. */
    static void awaitCollected(String what, long... ids) throws Exception {
        long deadline = System.nanoTime() + COLLECT_TIMEOUT.toNanos();
        int left = existing(ids);
        while (left > 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": " + left + " of " + ids.length + " objects still exist after "
                        + COLLECT_TIMEOUT);
            }
            System.gc();
            Thread.sleep(POLL_MS);
            left = existing(ids);
        }
    }

    /** Waits {@link #SURVIVE} with a collection cycle in the middle, failing early if {@code id} goes. */
    static void outlastTheCollector(long id) throws Exception {
        long started = System.nanoTime();
        boolean cycled = false;
        while (System.nanoTime() - started < SURVIVE.toNanos()) {
            System.gc();
            if (!cycled && System.nanoTime() - started > SURVIVE.toNanos() / 2) {
                cluster.heapctlHere("gc", "run");
                cycled = true;
            }
            assertTrue(exists(id), "object " + id + " was collected while Java still held it");
            Thread.sleep(POLL_MS);
        }
    }

    @Test
    void anObjectCreatedAndNeverLinkedIsCollectedOnceItsHandleIsDropped() throws Exception {
        try (HeapClient client = HeapClient.connect(cluster.endpoints())) {
            HeapObject object = client.newObject("test.Dropped");
            object.set("payload", "nobody links me");
            long id = object.id();
            assertTrue(exists(id), "the create is stored");
            System.out.println("[holds] created object " + id + "; dropping its only handle");
            object = null;
            long started = System.nanoTime();
            awaitCollected("the dropped object " + id, id);
            System.out.printf("[holds] object %d collected %d ms after its handle was dropped%n", id,
                    (System.nanoTime() - started) / 1_000_000);
        }
    }

    @Test
    void anObjectDetachedByAnotherClientSurvivesWhileJavaHoldsItAndCanBeLinkedAgain() throws Exception {
        long id;
        try (HeapClient writer = HeapClient.connect(cluster.endpoints())) {
            writer.root("holds-detached").set("child", writer.newObject("test.Child"));
            writer.root("holds-detached").getObject("child").set("name", "kept");
        }
        // The writer's session ended: only the root keeps the child, then only the reader's handle.
        try (HeapClient reader = HeapClient.connect(cluster.endpoints());
                HeapClient detacher = HeapClient.connect(cluster.endpoints())) {
            HeapObject held = reader.root("holds-detached").getObject("child");
            id = held.id();
            assertEquals("kept", held.getString("name"));
            detacher.root("holds-detached").remove("child");
            System.out.println("[holds] object " + id + " detached by another client; the reader holds it");
            outlastTheCollector(id);
            reader.root("holds-detached").set("again", held);
            System.out.println("[holds] object " + id + " survived " + SURVIVE + " and was linked again");
        }
        try (HeapClient checker = HeapClient.connect(cluster.endpoints())) {
            HeapObject again = checker.root("holds-detached").getObject("again");
            assertEquals(id, again.id());
            assertEquals("kept", again.getString("name"));
        }
    }

    @Test
    void anObjectCreatedAndLinkedUnderALockIsHeldByItsCreatorAfterItIsDetached() throws Exception {
        try (HeapClient creator = HeapClient.connect(cluster.endpoints());
                HeapClient detacher = HeapClient.connect(cluster.endpoints())) {
            HeapObject root = creator.root("holds-locked");
            HeapObject child;
            Lock lock = creator.lock("holds-locked-lock");
            lock.lock();
            try {
                // Linked in the same commit as its create: the server makes no creation hold, so
                // only the client's Hold for the live handle keeps it once it is detached.
                child = creator.newObject("test.Child");
                child.set("name", "mine");
                root.set("child", child);
            } finally {
                lock.unlock();
            }
            detacher.root("holds-locked").remove("child");
            System.out.println("[holds] object " + child.id() + " created under a lock, detached by another client");
            outlastTheCollector(child.id());
            root.set("again", child);
            assertEquals("mine", detacher.root("holds-locked").getObject("again").getString("name"));
        }
    }

    @Test
    void fiftyThousandDroppedCreatesLeaveNoHoldsBehind() throws Exception {
        try (HeapClient client = HeapClient.connect(cluster.endpoints())) {
            long objectsBefore = figure("objects");
            long started = System.nanoTime();
            Lock lock = client.lock("holds-bulk");
            for (int batch = 0; batch < LOCKED_BATCHES; batch++) {
                lock.lock();
                try {
                    for (int i = 0; i < LOCKED_BATCH; i++) {
                        client.newObject("test.Temporary");
                    }
                } finally {
                    lock.unlock();
                }
            }
            Thread[] threads = new Thread[CREATE_THREADS];
            HeapException[] failures = new HeapException[CREATE_THREADS];
            for (int t = 0; t < CREATE_THREADS; t++) {
                int index = t;
                threads[t] = new Thread(() -> {
                    try {
                        for (int i = 0; i < LONE_CREATES / CREATE_THREADS; i++) {
                            client.newObject("test.Temporary");
                        }
                    } catch (HeapException e) {
                        failures[index] = e;
                    }
                });
                threads[t].start();
            }
            for (int t = 0; t < CREATE_THREADS; t++) {
                threads[t].join();
                if (failures[t] != null) {
                    throw failures[t];
                }
            }
            System.out.printf("[holds] %d creates in %d ms; holds now %d%n", CREATES,
                    (System.nanoTime() - started) / 1_000_000, figure("holds"));
            long holds = awaitFigure("holds", h -> h < HOLDS_AFTER_CREATES_MAX, "holds after " + CREATES + " creates");
            long objects = awaitFigure("objects", o -> o < objectsBefore + HOLDS_AFTER_CREATES_MAX,
                    "objects after " + CREATES + " dropped creates");
            System.out.printf("[holds] after gc: %d holds, %d objects (%d before the creates)%n", holds, objects,
                    objectsBefore);
        }
    }

    @Test
    void deleteRootTakesTheGraphOnlyItReached() throws Exception {
        try (HeapClient client = HeapClient.connect(cluster.endpoints())) {
            client.root("holds-kept").set("n", 1L);
            long[] graph = buildGraph(client, "holds-doomed");
            assertEquals(graph.length, existing(graph), "the graph is stored");
            client.deleteRoot("holds-doomed");
            client.deleteRoot("holds-never-bound");
            long started = System.nanoTime();
            awaitCollected("the graph of the deleted root", graph);
            assertEquals(1L, client.root("holds-kept").getLong("n"), "another root's object is untouched");
            System.out.printf("[holds] deleteRoot: the %d objects of the graph were collected in %d ms%n",
                    graph.length, (System.nanoTime() - started) / 1_000_000);
        }
    }

    /**
     * A root with a list of maps, each referencing its own child; returns the ids of the graph's
     * objects. Its handles are unreachable once it returns.
     */
    static long[] buildGraph(HeapClient client, String rootName) {
        final int maps = 10;
        long[] ids = new long[2 + 2 * maps];
        HeapObject root = client.root(rootName);
        HeapList list = client.newList();
        root.set("items", list);
        ids[0] = root.id();
        ids[1] = list.id();
        for (int i = 0; i < maps; i++) {
            HeapMap map = client.newMap();
            HeapObject child = client.newObject("test.Leaf");
            child.set("index", (long) i);
            map.put("child", child);
            list.add(map);
            ids[2 + 2 * i] = map.id();
            ids[3 + 2 * i] = child.id();
        }
        return ids;
    }

    @Test
    void aReadOfAMissingObjectSaysWhatMayHaveHappened() {
        HeapRejectedException e = assertThrows(HeapRejectedException.class, () -> {
            try (HeapClient client = HeapClient.connect(cluster.endpoints())) {
                Native.kind(client.handle(), Long.MAX_VALUE / 2);
            }
        });
        assertTrue(e.getMessage().contains("collected because nothing referenced it"), e.getMessage());
    }
}
