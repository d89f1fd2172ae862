package org.sovereign.agent.runtime;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;

/**
 * What makes a Java object shared: its heap object (the handle keeps it held while the Java object
 * lives), its cluster lock and that lock's condition, how it was reached from a root (for error
 * messages) and its class's field layout. Created by the runtime only; opaque to rewritten code,
 * which only tests it for null.
 */
public final class SharedState {
    /** Cluster lock names of shared objects: this prefix and the heap id. */
    static final String LOCK_PREFIX = "sovereign.object:";

    final HeapObject heap;
    final String path;
    final ClassMeta meta;
    final String lockName;
    final Lock writeLock;
    final Lock readLock;
    final Condition condition;
    /** Whether the fields were filled from the heap (guarded by this); loads fill after registering. */
    private boolean filled;
    /** The thread filling the fields while not yet filled: it may refresh without waiting for itself. */
    private Thread filler;

    SharedState(HeapClient client, HeapObject heap, String path, ClassMeta meta, boolean filled) {
        this.heap = heap;
        this.path = path;
        this.meta = meta;
        this.lockName = LOCK_PREFIX + heap.id();
        this.writeLock = client.lock(lockName);
        this.readLock = client.readWriteLock(lockName).readLock();
        this.condition = writeLock.newCondition();
        this.filled = filled;
        this.filler = filled ? null : Thread.currentThread();
    }

    long id() {
        return heap.id();
    }

    /** Marks the fields filled and wakes the threads waiting for it. */
    synchronized void markFilled() {
        filled = true;
        filler = null;
        notifyAll();
    }

    /**
     * Waits until the loading thread has filled the fields, so a refresh cannot be overwritten by an
     * older first fill. Uninterruptible: the fill is bounded by the load's own limits.
     */
    synchronized void awaitFilled() {
        boolean interrupted = false;
        while (!filled && filler != Thread.currentThread()) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** "demo.Counter.ROOT (a demo.Counter, heap object 17)": for messages. */
    String describe() {
        return path + " (a " + meta.type.getName() + ", heap object " + heap.id() + ")";
    }

    @Override
    public String toString() {
        return "SharedState[" + describe() + "]";
    }
}
