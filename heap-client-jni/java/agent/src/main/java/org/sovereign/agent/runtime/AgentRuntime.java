package org.sovereign.agent.runtime;

import java.util.concurrent.locks.Lock;
import java.util.function.Supplier;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapRejectedException;

/**
 * The agent's runtime in one JVM: the heap client (connected on first use), the object graph and
 * roots, and the per-thread lock and transaction state behind the {@link Hooks} that rewritten code
 * calls. Its rules:
 * <ul>
 *   <li>A shared object's cluster lock is taken before its JVM monitor and released after it is
 *       left, on every path; nested enters by the same thread only count.
 *   <li>When a thread takes an object's lock (or comes back from a wait), the object's fields are
 *       refreshed from the heap: reads in between are plain field reads.
 *   <li>A write to a shared object needs its write lock (or that the thread shared the object in the
 *       current transaction); it becomes a heap change that commits with the outermost release.
 * </ul>
 */
public final class AgentRuntime implements AutoCloseable {
    private final AgentConfig config;
    private final Supplier<HeapClient> connector;
    private volatile HeapClient client;
    private final ClassValue<ClassMeta> metas;
    private final ThreadLocal<ThreadTransaction> transactions = ThreadLocal.withInitial(ThreadTransaction::new);
    final Graph graph;
    final Roots roots;
    final Waits waits;

    /** A runtime connecting to {@code config}'s endpoints (with the security the environment names) on first use. */
    public AgentRuntime(AgentConfig config) {
        this(config, () -> HeapClient.connect(config.endpoints()));
    }

    AgentRuntime(AgentConfig config, Supplier<HeapClient> connector) {
        this.config = config;
        this.connector = connector;
        this.metas = new ClassValue<>() {
            @Override
            protected ClassMeta computeValue(Class<?> type) {
                return new ClassMeta(type, config);
            }
        };
        this.graph = new Graph(this);
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

    /** Takes {@code object}'s cluster lock for this thread (or counts a nested enter) and refreshes its fields. */
    void enter(Object object, SharedState state, boolean read) {
        ThreadTransaction transaction = transaction();
        ThreadTransaction.Hold hold = transaction.hold(state);
        if (hold != null) {
            if (hold.read && !read) {
                throw new HeapRejectedException("thread \"" + Thread.currentThread().getName() + "\" holds the read lock "
                        + "of " + state.describe() + " (a read-level [[autolock]]) and asks for its write lock; a "
                        + "cluster lock cannot be upgraded: make the outer method write-level");
            }
            hold.count++;
            return;
        }
        Lock lock = read ? state.readLock : state.writeLock;
        lock.lock();
        transaction.held(state, read);
        try {
            graph.refresh(object, state);
        } catch (RuntimeException | Error e) {
            transaction.released(state);
            releaseAfterFailure(lock, transaction, e);
            throw e;
        }
    }

    /**
     * Counts one exit of {@code state}'s lock; the outermost releases it, committing the thread's
     * changes. Does nothing when the thread does not hold it (the object was shared inside the
     * block, or this is the exception handler's second call after a failed release).
     */
    void exit(SharedState state) {
        ThreadTransaction transaction = transaction();
        ThreadTransaction.Hold hold = transaction.hold(state);
        if (hold == null) {
            return;
        }
        hold.count--;
        if (hold.count > 0) {
            return;
        }
        transaction.released(state);
        release(hold.read ? state.readLock : state.writeLock, transaction);
    }

    /** Checks and records a write of {@code value} to field {@code fieldKey} ("owner.name") of shared {@code object}. */
    void beforeWrite(Object object, SharedState state, Object value, String fieldKey) {
        FieldMeta field = state.meta.field(fieldKey);
        if (field == null) {
            return; // transient or otherwise local: a plain write
        }
        ThreadTransaction transaction = transaction();
        if (!transaction.mayWrite(state)) {
            ThreadTransaction.Hold hold = transaction.hold(state);
            throw Portability.unlocked(state, field, hold != null && hold.read);
        }
        String path = state.path + "." + field.name;
        Object stored = FieldCodec.encode(field, value, path,
                (reference, referencePath) -> graph.share(reference, referencePath, transaction).heap);
        state.heap.set(field.name, stored);
        transaction.wrote(object, state);
    }

    /** {@code object.wait(timeoutMs)} (-1: no timeout) for a shared object whose write lock the thread holds. */
    void await(Object object, SharedState state, long timeoutMs) throws InterruptedException {
        ThreadTransaction transaction = transaction();
        requireWriteLock(state, "wait()");
        Waits.Outcome outcome;
        try {
            outcome = waits.await(object, client(), state.lockName, timeoutMs);
        } catch (RuntimeException | Error e) {
            transaction.failed(graph).forEach(e::addSuppressed);
            throw e;
        }
        transaction.committed();
        graph.refresh(object, state);
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
        ThreadTransaction.Hold hold = transaction().hold(state);
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
            transaction.failed(graph).forEach(e::addSuppressed);
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
