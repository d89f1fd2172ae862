package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Cluster locks from Java: changes made under a lock become visible, to another client and to
 * another JVM, exactly when the outermost hold is released; conditions wake waiters of other
 * clients; read locks share, write locks exclude; timed tries time out.
 */
@Timeout(120)
class LockTest extends ClusterTest {
    private static HeapClient first;
    private static HeapClient second;

    @BeforeAll
    static void connect() {
        first = HeapClient.connect(cluster.endpoints());
        second = HeapClient.connect(cluster.endpoints());
    }

    @AfterAll
    static void disconnect() {
        first.close();
        second.close();
    }

    @Test
    void changesUnderALockAreCommittedAtTheOutermostUnlock() throws Exception {
        HeapObject mine = first.root("commit-at-release");
        HeapObject theirs = second.root("commit-at-release");
        Lock lock = first.lock("commit-lock");
        lock.lock();
        lock.lock(); // reentrant
        mine.set("x", 1L);
        assertEquals(1L, mine.getLong("x"), "the writer sees its own change at once");
        assertEquals(0L, theirs.getLong("x"), "nobody else sees it before the release");
        lock.unlock();
        assertEquals(0L, theirs.getLong("x"), "still held once: not committed");
        lock.unlock();
        // Committed before unlock() returned: the next holder sees it, whatever it has cached.
        Lock theirLock = second.lock("commit-lock");
        theirLock.lock();
        try {
            assertEquals(1L, theirs.getLong("x"));
        } finally {
            theirLock.unlock();
        }
    }

    @Test
    void commitAtReleaseIsVisibleFromASecondJvm() throws Exception {
        HeapObject object = first.root("cross-jvm");
        Lock lock = first.lock("cross-jvm-lock");
        try (ChildJvm other = ChildJvm.start(List.of(), SecondJvm.class, cluster.endpoints())) {
            assertEquals("ready", other.readLine());
            System.out.println("[cross-jvm] second JVM connected");
            lock.lock();
            try {
                object.set("x", 7L);
                assertEquals("0", other.ask("read cross-jvm x"), "uncommitted change visible in the other JVM");
                assertEquals("false", other.ask("trylock cross-jvm-lock 200"), "the other JVM got a held lock");
            } finally {
                lock.unlock();
            }
            assertEquals("7", other.ask("lockread cross-jvm-lock cross-jvm x"), "committed change not seen under the lock");
            assertEquals("7", other.ask("read cross-jvm x"), "a read after the lock went back in time");
            // And back: the other JVM writes under the lock, this one sees it under the lock.
            assertEquals("ok", other.ask("lockset cross-jvm-lock cross-jvm y 9"));
            lock.lock();
            try {
                assertEquals(9L, object.getLong("y"));
            } finally {
                lock.unlock();
            }
        }
    }

    @Test
    void aSignalWakesAWaiterOfAnotherClient() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Long> waiter = pool.submit(() -> {
                Lock lock = first.lock("condition-lock");
                Condition ready = lock.newCondition();
                HeapObject state = first.root("condition");
                lock.lock();
                try {
                    state.set("waiting", true); // committed when await releases the lock
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (!state.getBoolean("ready")) {
                        assertTrue(ready.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS), "no signal");
                    }
                    return state.getLong("value");
                } finally {
                    lock.unlock();
                }
            });
            Lock lock = second.lock("condition-lock");
            Condition ready = lock.newCondition();
            HeapObject state = second.root("condition");
            awaitTrue(() -> {
                lock.lock();
                try {
                    return state.getBoolean("waiting");
                } finally {
                    lock.unlock();
                }
            });
            lock.lock();
            try {
                state.set("value", 42L);
                state.set("ready", true);
                ready.signal();
            } finally {
                lock.unlock();
            }
            assertEquals(42L, waiter.get(60, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void signalAllWakesEveryWaiterAndATimedAwaitTimesOut() throws Exception {
        int waiters = 2;
        List<HeapClient> clients = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(waiters);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < waiters; i++) {
                HeapClient client = HeapClient.connect(cluster.endpoints());
                clients.add(client);
                results.add(pool.submit(() -> {
                    Lock lock = client.lock("all-lock");
                    Condition go = lock.newCondition();
                    HeapObject state = client.root("all");
                    lock.lock();
                    try {
                        state.set("waiting", state.getLong("waiting") + 1);
                        return go.await(60, TimeUnit.SECONDS);
                    } finally {
                        lock.unlock();
                    }
                }));
            }
            Lock lock = second.lock("all-lock");
            Condition go = lock.newCondition();
            HeapObject state = second.root("all");
            awaitTrue(() -> {
                lock.lock();
                try {
                    return state.getLong("waiting") == waiters;
                } finally {
                    lock.unlock();
                }
            });
            lock.lock();
            try {
                long start = System.nanoTime();
                long left = go.awaitNanos(TimeUnit.MILLISECONDS.toNanos(300));
                assertTrue(left <= 0, "a timed await nobody signals times out, left " + left);
                assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(300));
                go.signalAll();
            } finally {
                lock.unlock();
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get(60, TimeUnit.SECONDS), "every waiter was signalled");
            }
        } finally {
            pool.shutdownNow();
            for (HeapClient client : clients) {
                client.close();
            }
        }
    }

    @Test
    void readLocksShareAndWriteLocksExclude() throws Exception {
        ReadWriteLock mine = first.readWriteLock("rw");
        ReadWriteLock theirs = second.readWriteLock("rw");
        mine.readLock().lock();
        try {
            assertTrue(theirs.readLock().tryLock(5, TimeUnit.SECONDS), "two readers share");
            theirs.readLock().unlock();
            assertFalse(theirs.writeLock().tryLock(), "a writer waits for readers");
            long start = System.nanoTime();
            assertFalse(theirs.writeLock().tryLock(200, TimeUnit.MILLISECONDS));
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(200), "tryLock waited its time");
        } finally {
            mine.readLock().unlock();
        }
        assertTrue(theirs.writeLock().tryLock(5, TimeUnit.SECONDS));
        try {
            assertFalse(mine.readLock().tryLock(), "a reader waits for the writer");
            assertFalse(first.lock("rw").tryLock(), "lock(name) is the write lock of the same name");
        } finally {
            theirs.writeLock().unlock();
        }
    }

    @Test
    void interruptIsCheckedBeforeBlocking() {
        Lock lock = first.lock("interrupt-lock");
        Thread.currentThread().interrupt();
        try {
            org.junit.jupiter.api.Assertions.assertThrows(InterruptedException.class, lock::lockInterruptibly);
        } finally {
            Thread.interrupted();
        }
        assertTrue(lock.tryLock());
        lock.unlock();
    }

    interface Check {
        boolean holds() throws Exception;
    }

    /** Polls {@code check} until it holds, for at most 60 s. */
    static void awaitTrue(Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!check.holds()) {
            assertTrue(System.nanoTime() < deadline, "condition not reached in 60 s");
            Thread.sleep(20);
        }
    }
}
