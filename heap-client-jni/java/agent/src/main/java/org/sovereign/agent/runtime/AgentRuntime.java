package org.sovereign.agent.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Lock;
import java.util.function.Supplier;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapRejectedException;
import org.sovereign.heap.Security;

/**
 * The agent's runtime in one JVM: the heap client (connected on first use), the object graph and
 * roots, and the per-thread lock and transaction state behind the {@link Hooks} that rewritten code
 * calls. Its rules:
 * <ul>
 *   <li>A shared object's cluster lock is taken before its JVM monitor and released after it is
 *       left, on every path; nested enters by the same thread only count (also a shared
 *       collection's, which is its owner's lock).
 *   <li>When a thread takes a lock (or comes back from a wait), what it guards is refreshed from the
 *       heap: the owner's fields, and its collections and arrays if any changed ({@link ContainerSync});
 *       reads in between are plain Java reads.
 *   <li>Objects loaded from the heap run their class's on-load method ({@link OnLoads}) before the
 *       access that loaded them returns: a root read, a lock's or a wait's refresh.
 *   <li>A write to a shared object, or a change to a shared collection, needs the write lock that
 *       guards it (or that the thread shared it in the current transaction); it becomes heap changes
 *       that commit with the outermost release. Collections and arrays are compared with the heap
 *       just before that release, and their differences recorded as logical operations.
 * </ul>
 */
public final class AgentRuntime implements AutoCloseable {
    private final AgentConfig config;
    private final Supplier<HeapClient> connector;
    private volatile HeapClient client;
    private final ClassValue<ClassMeta> metas;
    private final ThreadLocal<ThreadTransaction> transactions = ThreadLocal.withInitial(ThreadTransaction::new);
    final OnLoads onLoads = new OnLoads();
    final LockGroups groups = new LockGroups();
    final Graph graph;
    final ContainerSync sync;
    final Roots roots;
    final Waits waits;

    /** A runtime connecting to {@code config}'s endpoints (with the security the environment names) on first use. */
    public AgentRuntime(AgentConfig config) {
        this(config, () -> HeapClient.connect(config.endpoints(), Security.discover(), config.sessionTtlMs()));
    }

    AgentRuntime(AgentConfig config, Supplier<HeapClient> connector) {
        this.config = config;
        this.connector = connector;
        this.metas = new ClassValue<>() {
            @Override
            protected ClassMeta computeValue(Class<?> type) {
                return new ClassMeta(type, config, onLoads);
            }
        };
        this.graph = new Graph(this);
        this.sync = new ContainerSync(graph);
        this.roots = new Roots(this);
        this.waits = new Waits();
    }

    HeapClient client() {
        HeapClient connected = client;
        if (connected == null) {
            synchronized (this) {
                connected = client;
                if (connected == null) {
                    connected = connector.get();
                    client = connected;
                }
            }
        }
        return connected;
    }

    ClassMeta meta(Class<?> type) {
        return metas.get(type);
    }

    ThreadTransaction transaction() {
        return transactions.get();
    }

    AgentConfig config() {
        return config;
    }

    /** Takes the cluster lock guarding {@code object} for this thread (or counts a nested enter) and refreshes what it guards. */
    void enter(Object object, SharedState state, boolean read) {
        ThreadTransaction transaction = transaction();
        ThreadTransaction.Hold hold = transaction.hold(state.lockName);
        if (hold != null) {
            if (hold.read && !read) {
                throw new HeapRejectedException("thread \"" + Thread.currentThread().getName() + "\" holds the read lock "
                        + "of " + state.describe() + " (a read-level [[autolock]]) and asks for its write lock; a "
                        + "cluster lock cannot be upgraded: make the outer method write-level");
            }
            hold.count++;
            return;
        }
        if (state.group.external) {
            throw new HeapRejectedException("thread \"" + Thread.currentThread().getName() + "\" synchronizes on "
                    + state.describe() + ", which belongs to a graph another component locks (an HTTP session's "
                    + "attributes): use it inside a request of that session, where it is locked already");
        }
        Lock lock = read ? state.readLock : state.writeLock;
        lock.lock();
        transaction.held(state.lockName, read, state.group);
        try {
            sync.refresh(state.group);
            onLoads.run(graph);
        } catch (RuntimeException | Error e) {
            transaction.released(state.lockName);
            releaseAfterFailure(lock, transaction, e);
            throw e;
        }
    }

    /**
     * Counts one exit of {@code state}'s lock; the outermost records the changes of the thread's
     * containers and releases it, committing the thread's changes. Does nothing when the thread does
     * not hold it (the object was shared inside the block, or this is the exception handler's second
     * call after a failed release). When recording fails (a value that cannot be shared was put into
     * a collection through a path the guard does not check), the lock is still released, with the
     * thread's other changes, and the failing containers take the heap's contents back.
     */
    void exit(SharedState state) {
        ThreadTransaction transaction = transaction();
        ThreadTransaction.Hold hold = transaction.hold(state.lockName);
        if (hold == null) {
            return;
        }
        hold.count--;
        if (hold.count > 0) {
            return;
        }
        Lock lock = hold.read ? state.readLock : state.writeLock;
        try {
            sync.flush(transaction);
        } catch (RuntimeException | Error e) {
            transaction.released(state.lockName);
            List<RuntimeException> failures = new ArrayList<>();
            sync.reloadAfterFailure(new ArrayList<>(transaction.changed()), failures);
            transaction.clearChanged();
            failures.forEach(e::addSuppressed);
            releaseAfterFailure(lock, transaction, e);
            throw e;
        }
        transaction.released(state.lockName);
        release(lock, transaction);
    }

    /**
     * Checks and records a write of {@code value} to field {@code fieldKey} ("owner.name") of shared
     * {@code object}; returns what the field must hold: {@code value}, or the shared copy of a plain
     * collection. Buffered in the thread's {@link WriteBuffer} until the commit ({@link FieldWrites}).
     */
    Object beforeWrite(Object object, SharedState state, Object value, String fieldKey) {
        return FieldWrites.record(this, object, state, value, fieldKey);
    }

    /** {@code object.wait(timeoutMs)} (-1: no timeout) for a shared object whose write lock the thread holds. */
    void await(Object object, SharedState state, long timeoutMs) throws InterruptedException {
        ThreadTransaction transaction = transaction();
        requireWriteLock(state, "wait()");
        if (state.group.external) {
            throw new IllegalMonitorStateException("wait() on " + state.describe() + ", an object of a graph another "
                    + "component locks (an HTTP session's attributes), is not supported: wait on a shared object "
                    + "of your own, or use the session's attributes between requests");
        }
        sync.flush(transaction);
        Waits.Outcome outcome;
        try {
            outcome = waits.await(object, client(), state.lockName, timeoutMs);
        } catch (RuntimeException | Error e) {
            transaction.failed(graph, sync).forEach(e::addSuppressed);
            throw e;
        }
        transaction.committed();
        sync.refresh(state.group);
        try {
            onLoads.run(graph);
        } catch (RuntimeException | Error e) {
            if (outcome.interrupted()) {
                Thread.currentThread().interrupt(); // the wait's interrupt is not lost
            }
            throw e;
        }
        if (outcome.interrupted()) {
            throw new InterruptedException();
        }
    }

    /** {@code notify()} / {@code notifyAll()} for a shared object: the cluster condition of its lock. */
    void signal(SharedState state, boolean all) {
        requireWriteLock(state, all ? "notifyAll()" : "notify()");
        if (all) {
            state.condition.signalAll();
        } else {
            state.condition.signal();
        }
    }

    private void requireWriteLock(SharedState state, String call) {
        ThreadTransaction.Hold hold = transaction().hold(state.lockName);
        if (hold == null || hold.read) {
            throw new IllegalMonitorStateException(call + " on shared object " + state.describe() + " needs its cluster "
                    + "write lock: call it inside synchronized (object) { ... }"
                    + (hold != null ? ", not in a read-level [[autolock]] method" : ""));
        }
    }

    /** Releases {@code lock}; the changes committed, or (failure) were undone on the Java side. */
    void release(Lock lock, ThreadTransaction transaction) {
        try {
            lock.unlock();
        } catch (RuntimeException | Error e) {
            transaction.failed(graph, sync).forEach(e::addSuppressed);
            throw e;
        }
        transaction.committed();
    }

    /** Releases {@code lock} after {@code failure}, which the caller throws; a release failure is attached to it. */
    void releaseAfterFailure(Lock lock, ThreadTransaction transaction, Throwable failure) {
        try {
            release(lock, transaction);
        } catch (RuntimeException | Error e) {
            failure.addSuppressed(e);
        }
    }

    /** Ends the session: the cluster releases this JVM's locks at once instead of after the lease. */
    @Override
    public void close() {
        waits.close();
        HeapClient connected = client;
        if (connected != null) {
            connected.close();
        }
    }
}
