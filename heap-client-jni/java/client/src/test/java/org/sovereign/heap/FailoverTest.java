package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The leader SIGKILLed while a Java thread runs a loop of locked read-modify-write updates: no
 * exception reaches the caller, and afterwards every update is there exactly once (a counter equals
 * the number of iterations and a list holds each iteration's number once, in order).
 */
@Timeout(300)
class FailoverTest extends ClusterTest {
    static final int UPDATES = 200;
    /** The leader is killed once this many updates are done. */
    static final int KILL_AFTER = 60;

    @Test
    void aLeaderKilledDuringLockedUpdatesLosesAndDoublesNothing() throws Exception {
        AtomicInteger done = new AtomicInteger();
        AtomicReference<Throwable> killerFailure = new AtomicReference<>();
        int[] killed = {0};
        Thread killer = new Thread(() -> {
            try {
                while (done.get() < KILL_AFTER) {
                    Thread.sleep(5);
                }
                killed[0] = cluster.leader();
                System.out.println("[failover] fault: SIGKILL leader node " + killed[0] + " after " + done.get()
                        + " updates");
                cluster.kill(killed[0]);
            } catch (Throwable t) {
                killerFailure.set(t);
            }
        }, "leader-killer");

        long started = System.nanoTime();
        long slowestMs = 0;
        try (HeapClient client = HeapClient.connect(cluster.endpoints())) {
            System.out.println("[failover] act: " + UPDATES + " locked updates");
            HeapObject counter = client.root("failover-counter");
            HeapList log = client.rootList("failover-log");
            Lock lock = client.lock("failover-lock");
            killer.start();
            for (int i = 0; i < UPDATES; i++) {
                long start = System.nanoTime();
                lock.lock();
                try {
                    counter.set("n", counter.getLong("n") + 1);
                    log.add((long) i);
                } finally {
                    lock.unlock();
                }
                slowestMs = Math.max(slowestMs, (System.nanoTime() - start) / 1_000_000);
                done.incrementAndGet();
            }
        }
        killer.join();
        assertNull(killerFailure.get(), "the killer failed: " + killerFailure.get());
        System.out.printf("[failover] %d updates in %d ms; slowest update %d ms (the failover)%n", UPDATES,
                (System.nanoTime() - started) / 1_000_000, slowestMs);

        System.out.println("[failover] check: read back from a new client");
        try (HeapClient checker = HeapClient.connect(cluster.endpoints())) {
            Lock lock = checker.lock("failover-lock");
            lock.lock();
            try {
                assertEquals(UPDATES, checker.root("failover-counter").getLong("n"), "lost or doubled updates");
                HeapList log = checker.rootList("failover-log");
                assertEquals(UPDATES, log.size(), "lost or doubled list entries");
                for (int i = 0; i < UPDATES; i++) {
                    assertEquals((long) i, log.get(i), "entry " + i);
                }
            } finally {
                lock.unlock();
            }
        }
        // Bring the node back so the cluster is whole again (its log catches up).
        cluster.startNode(killed[0]);
    }
}
