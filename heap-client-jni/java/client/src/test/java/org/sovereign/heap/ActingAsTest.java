package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link HeapClient#actingAs}: two Java threads acting in turn as one heap thread id hold one
 * cluster lock and build one set of pending changes, committed together by whichever of them
 * releases the lock; a thread not acting as that id cannot release it; the override nests and
 * ends with the action.
 */
@Timeout(120)
class ActingAsTest extends ClusterTest {
    /** How long one step on a helper thread may take before the test fails. */
    private static final long STEP_TIMEOUT_SECONDS = 60;

    private static HeapClient first;
    private static HeapClient second;
    private static ExecutorService threadA;
    private static ExecutorService threadB;

    @BeforeAll
    static void connect() {
        first = HeapClient.connect(cluster.endpoints());
        second = HeapClient.connect(cluster.endpoints());
        threadA = Executors.newSingleThreadExecutor(task -> new Thread(task, "acting-as-A"));
        threadB = Executors.newSingleThreadExecutor(task -> new Thread(task, "acting-as-B"));
    }

    @AfterAll
    static void disconnect() {
        threadA.shutdownNow();
        threadB.shutdownNow();
        first.close();
        second.close();
    }

    /** Runs {@code step} on {@code thread} and returns what it returned (or throws what it threw). */
    private static <T> T on(ExecutorService thread, Callable<T> step) throws Exception {
        try {
            return thread.submit(step).get(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception) {
                throw (Exception) e.getCause();
            }
            throw e;
        }
    }

    /** Runs {@code step} on {@code thread} (throwing what it threw). */
    private static void run(ExecutorService thread, Runnable step) throws Exception {
        on(thread, () -> {
            step.run();
            return null;
        });
    }

    @Test
    void twoJavaThreadsActingAsOneHeapThreadShareALockAndItsPendingChanges() throws Exception {
        long shared = HeapClient.newHeapThreadId();
        HeapObject mine = first.root("acting-as");
        HeapObject theirs = second.root("acting-as");
        Lock lock = first.lock("acting-as-lock");
        long idA = on(threadA, () -> Thread.currentThread().getId());
        long idB = on(threadB, () -> Thread.currentThread().getId());
        assertNotEquals(idA, idB, "the two steps run on different Java threads");

        run(threadA, () -> HeapClient.actingAs(shared, () -> {
            lock.lock();
            mine.set("fromA", 1L);
        }));
        System.out.println("[acting-as] thread A, acting as " + shared + ", took the lock and wrote fromA");
        // The client's own reads outside a lock are never older than its own commits: 0 means pending.
        assertEquals(0L, mine.getLong("fromA"), "a thread not acting as the id does not see its pending change");
        assertThrows(IllegalMonitorStateException.class, lock::unlock,
                "this thread does not hold the lock the shared id holds");
        assertThrows(IllegalMonitorStateException.class, () -> run(threadA, lock::unlock),
                "thread A, no longer acting as the id, does not hold it either");
        assertFalse(second.lock("acting-as-lock").tryLock(), "the lock is held");

        long seenByB = on(threadB, () -> HeapClient.actingAs(shared, () -> {
            mine.set("fromB", 2L);
            return mine.getLong("fromA");
        }));
        assertEquals(1L, seenByB, "thread B, acting as the id, sees what thread A wrote as it");
        assertEquals(0L, mine.getLong("fromB"), "thread B's write is pending with the shared id, not committed");
        assertEquals(0L, theirs.getLong("fromA"));
        assertEquals(0L, theirs.getLong("fromB"));
        System.out.println("[acting-as] thread B wrote fromB; nothing is committed yet");

        run(threadB, () -> HeapClient.actingAs(shared, lock::unlock));
        System.out.println("[acting-as] thread B, acting as the id, released the lock");
        Lock theirLock = second.lock("acting-as-lock");
        assertTrue(theirLock.tryLock(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS), "the lock is free after the release");
        try {
            assertEquals(1L, theirs.getLong("fromA"), "thread A's change committed with the release");
            assertEquals(2L, theirs.getLong("fromB"), "thread B's change committed with the same release");
        } finally {
            theirLock.unlock();
        }
    }

    @Test
    void actingAsNestsAndEndsWithTheAction() {
        long own = Thread.currentThread().getId();
        long outer = HeapClient.newHeapThreadId();
        long inner = HeapClient.newHeapThreadId();
        assertTrue(outer >= HeapClient.HEAP_THREAD_ID_FIRST, "ids come from above every Java thread id");
        assertNotEquals(outer, inner);
        assertEquals(own, HeapClient.thread());
        long[] seen = HeapClient.actingAs(outer, () -> {
            long before = HeapClient.thread();
            long nested = HeapClient.actingAs(inner, HeapClient::thread);
            return new long[] {before, nested, HeapClient.thread()};
        });
        assertEquals(outer, seen[0]);
        assertEquals(inner, seen[1]);
        assertEquals(outer, seen[2], "the outer id is back after the nested action");
        assertEquals(own, HeapClient.thread(), "the thread's own id is back after the action");
        assertThrows(IllegalStateException.class, () -> HeapClient.actingAs(outer, () -> {
            throw new IllegalStateException("the action fails");
        }));
        assertEquals(own, HeapClient.thread(), "the thread's own id is back after an action that threw");
        assertThrows(IllegalArgumentException.class, () -> HeapClient.actingAs(-1L, () -> { }),
                "-1 is the client's reserved session id");
    }
}
