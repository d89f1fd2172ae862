package org.sovereign.agent.runtime;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;

/**
 * What makes a Java object shared: its heap object (the handle keeps it held while the Java object
 * lives; for a container, its holder), the cluster lock that guards it and that lock's condition,
 * how it was reached from a root (for error messages), and either its class's field layout (an
 * instrumented object) or its {@link ContainerState} (a collection or array). An instrumented
 * object and a root collection have a lock of their own; any other container uses its owner's
 * ({@link LockGroup}). Created by the runtime only; opaque to rewritten code, which only tests it for
 * null, and to the shared collection classes, which only ask it for their {@link #guard()}.
 */
public final class SharedState {
    /** Cluster lock names of shared objects: this prefix and the owner's heap id. */
    static final String LOCK_PREFIX = "sovereign.object:";

    final HeapObject heap;
    final String path;
    /** The field layout of an instrumented object; null for a container. */
    final ClassMeta meta;
    final LockGroup group;
    final String lockName;
    final Lock writeLock;
    final Lock readLock;
    final Condition condition;
    /** A container's state (set once, right after construction); null for an instrumented object. */
    private volatile ContainerState container;
    /** Whether the fields were filled from the heap (guarded by this); loads fill after registering. */
    private boolean filled;
    /** The thread filling the fields while not yet filled: it may refresh without waiting for itself. */
    private Thread filler;

    /** A state; {@code client} and {@code heap} are null only in the runtime's unit tests, which take no lock. */
    SharedState(HeapClient client, HeapObject heap, String path, ClassMeta meta, boolean filled, LockGroup group) {
        this.heap = heap;
        this.path = path;
        this.meta = meta;
        this.group = group;
        this.lockName = group.lockName;
        this.writeLock = client == null ? null : client.lock(lockName);
        this.readLock = client == null ? null : client.readWriteLock(lockName).readLock();
        this.condition = client == null ? null : writeLock.newCondition();
        this.filled = filled;
        this.filler = filled ? null : Thread.currentThread();
    }

    long id() {
        return heap == null ? -1 : heap.id();
    }

    void container(ContainerState state) {
        container = state;
    }

    /** The container's state, or null for an instrumented object. */
    ContainerState container() {
        return container;
    }

    /** For the shared collection classes: the guard their mutators call ({@link ContainerGuard#NONE} for an object). */
    public ContainerGuard guard() {
        ContainerState state = container;
        return state != null ? state : ContainerGuard.NONE;
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
        ContainerState state = container;
        String type = meta != null ? meta.type.getName()
                : state != null ? Portability.typeName(state.type) : "container";
        return path + " (a " + type + ", heap object " + id() + ")";
    }

    @Override
    public String toString() {
        return "SharedState[" + describe() + "]";
    }
}
