package org.sovereign.heap;

import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/**
 * The cluster-wide condition of a {@link ClusterLock}: {@code await} releases the lock completely
 * (every reentrant hold, committing the thread's changes) and waits for a {@code signal} from any
 * thread of any JVM holding the same lock; it returns holding the lock again with the same hold
 * count. The wait is replicated state, so no signal is lost when the cluster's leader changes.
 *
 * <p>Interruption is checked when an await starts and when it returns (then
 * {@link InterruptedException} is thrown with the lock held again), not while the thread is
 * suspended in the native call, as the {@link Condition} contract allows. Spurious wakeups do not
 * happen, but callers should wait in a loop on their predicate anyway.
 */
final class ClusterCondition implements Condition {
    private final ClusterLock lock;

    ClusterCondition(ClusterLock lock) {
        this.lock = lock;
    }

    /** The cluster's longest lock or wait timeout (heap-machine's LOCK_TIMEOUT_MS_MAX): 24 hours. */
    static final long TIMEOUT_MS_MAX = 24L * 60 * 60 * 1000;

    /**
     * Milliseconds for the native call: rounded up, so a short positive wait is not a "try"; a wait
     * longer than the cluster accepts becomes a wait without timeout (-1).
     */
    static long toMillis(long nanos) {
        if (nanos <= 0) {
            return 0;
        }
        long millis = nanos / 1_000_000 + (nanos % 1_000_000 == 0 ? 0 : 1);
        return millis > TIMEOUT_MS_MAX ? -1 : millis;
    }

    private boolean nativeAwait(long timeoutMs) {
        return Native.await(lock.client().handle(), HeapClient.thread(), lock.name(), timeoutMs);
    }

    @Override
    public void await() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        nativeAwait(-1);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
    }

    @Override
    public void awaitUninterruptibly() {
        nativeAwait(-1);
    }

    @Override
    public long awaitNanos(long nanosTimeout) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (nanosTimeout <= 0) {
            return nanosTimeout;
        }
        long start = System.nanoTime();
        boolean signalled = nativeAwait(toMillis(nanosTimeout));
        long remaining = nanosTimeout - (System.nanoTime() - start);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        // Keep the contract's meaning: positive only when signalled, at most zero when timed out.
        return signalled ? Math.max(remaining, 1) : Math.min(remaining, 0);
    }

    @Override
    public boolean await(long time, TimeUnit unit) throws InterruptedException {
        return awaitNanos(unit.toNanos(time)) > 0;
    }

    @Override
    public boolean awaitUntil(Date deadline) throws InterruptedException {
        return await(deadline.getTime() - System.currentTimeMillis(), TimeUnit.MILLISECONDS);
    }

    /** Wakes the longest waiter, if any; the caller must hold the lock. */
    @Override
    public void signal() {
        Native.signal(lock.client().handle(), HeapClient.thread(), lock.name(), false);
    }

    /** Wakes every waiter; the caller must hold the lock. */
    @Override
    public void signalAll() {
        Native.signal(lock.client().handle(), HeapClient.thread(), lock.name(), true);
    }
}
