package org.sovereign.heap;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * A named cluster lock as a {@link Lock}: held per (client, thread), reentrant, granted in FIFO
 * order across the cluster. Releasing the outermost hold commits the thread's changes made under
 * it, atomically, before {@link #unlock()} returns.
 *
 * <p>Interruption: the cluster cannot withdraw a queued request from a blocked native call, so
 * {@link #lockInterruptibly()} and {@link #tryLock(long, TimeUnit)} check the interrupt status
 * before they block (throwing {@link InterruptedException}) but not while they wait, as the
 * {@link Lock} contract allows. Use {@link #tryLock(long, TimeUnit)} to bound a wait.
 */
final class ClusterLock implements Lock {
    private final HeapClient client;
    private final String name;
    private final boolean read;

    ClusterLock(HeapClient client, String name, boolean read) {
        this.client = client;
        this.name = name;
        this.read = read;
    }

    String name() {
        return name;
    }

    HeapClient client() {
        return client;
    }

    @Override
    public void lock() {
        if (!Native.lock(client.handle(), HeapClient.thread(), name, read, -1)) {
            throw new HeapException("lock " + name + " was reported not granted without a timeout; please report it");
        }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        lock();
    }

    /** Takes the lock only if it is free now (one round trip to the cluster). */
    @Override
    public boolean tryLock() {
        return Native.lock(client.handle(), HeapClient.thread(), name, read, 0);
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        return Native.lock(client.handle(), HeapClient.thread(), name, read, ClusterCondition.toMillis(unit.toNanos(time)));
    }

    /** Releases one hold; the outermost release commits. {@link IllegalMonitorStateException} if not held. */
    @Override
    public void unlock() {
        Native.unlock(client.handle(), HeapClient.thread(), name);
    }

    /** A cluster-wide condition of this (write) lock; read locks have none, as in {@code ReentrantReadWriteLock}. */
    @Override
    public Condition newCondition() {
        if (read) {
            throw new UnsupportedOperationException("a read lock has no conditions; use the write lock's");
        }
        return new ClusterCondition(this);
    }

    @Override
    public String toString() {
        return "ClusterLock[" + name + (read ? ", read" : "") + "]";
    }
}
