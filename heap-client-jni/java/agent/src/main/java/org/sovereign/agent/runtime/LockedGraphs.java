package org.sovereign.agent.runtime;

import org.sovereign.agent.collections.SharedContainers;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;

/**
 * Graphs of shared objects guarded by a lock that another component takes: the Tomcat session
 * manager's session lock, so that a session's attribute values (instrumented objects, java.util
 * collections) live on the heap as graphs, changed in place by a request without
 * {@code setAttribute} and without {@code synchronized}, as Terracotta's session support did. The
 * component takes its own cluster lock on {@link #client()} (the agent's heap session, so one
 * commit carries both), then tells this class around it:
 * <ol>
 *   <li>{@link #entered} once it holds the lock: the thread may now write every object of the
 *       graph owned by that heap object, and what this JVM has of it is refreshed from the heap;
 *   <li>{@link #beforeRelease} just before its release: the thread's field writes and container
 *       changes go to the native client, so the release commits them with the component's own;
 *   <li>{@link #released} after it: the changes committed, or (failed) the Java side takes the
 *       heap's values back.
 * </ol>
 * The graph's agent lock ({@code sovereign.object:<owner id>}) is never taken: {@code synchronized}
 * on its objects inside such a scope only counts, and outside one is refused with a message, as is
 * {@code wait()}.
 */
public final class LockedGraphs {
    /** A shared value: what the holder keeps (a shared copy, for a plain collection) and its heap object. */
    public record Shared(Object value, HeapObject heap) {}

    private final AgentRuntime runtime;

    private LockedGraphs(AgentRuntime runtime) {
        this.runtime = runtime;
    }

    /** This JVM's agent, or null when no agent runs here (nothing is shared then). */
    public static LockedGraphs current() {
        AgentRuntime installed = Hooks.installed();
        return installed == null ? null : new LockedGraphs(installed);
    }

    /** The agent's heap client: the component takes its locks on this one, so one commit carries everything. */
    public HeapClient client() {
        return runtime.client();
    }

    /**
     * Whether {@code value} is kept as a graph: an instrumented object, a supported java.util
     * collection or an array, whose every reachable value can be shared too (or one already shared).
     */
    public boolean canShare(Object value, String path, ClassLoader loader) {
        if (value == null || ElementCodec.isScalar(value)) {
            return false;
        }
        // The kinds sharing takes at the top, checked without the exception the full check throws:
        // the manager asks this of every attribute at every request's end.
        if (!(value instanceof Shareable) && SharedContainers.jdkClass(value.getClass()) == null
                && !value.getClass().isArray()) {
            return false;
        }
        try {
            runtime.graph.sharing.check(value, path, loader);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Whether {@code value} is already shared (so {@link #share} costs nothing). */
    public boolean isShared(Object value) {
        return runtime.graph.stateOf(value) != null;
    }

    /**
     * After the thread took {@code lock} (its {@code write} lock or read lock) for the graph owned
     * by {@code owner}: registers the hold and refreshes what this JVM has of the graph. A nested
     * call for the same owner only counts.
     */
    public void entered(HeapObject owner, boolean write) {
        String lockName = lockName(owner);
        ThreadTransaction transaction = runtime.transaction();
        ThreadTransaction.Hold hold = transaction.hold(lockName);
        if (hold != null) {
            hold.count++;
            return;
        }
        LockGroup group = runtime.groups.forLock(lockName, owner, true);
        transaction.held(lockName, !write, group);
        try {
            runtime.sync.refresh(group);
            runtime.onLoads.run(runtime.graph);
        } catch (RuntimeException | Error e) {
            transaction.released(lockName);
            throw e;
        }
    }

    /**
     * Shares {@code value} (and what it reaches) into the graph of {@code owner}, whose write lock the
     * thread holds ({@link #entered}); marks the owner external in the same commit. Returns what the
     * holder must keep from now on: the value, or the shared copy of a plain collection.
     */
    public Shared share(Object value, HeapObject owner, String path, ClassLoader loader) {
        SharedState existing = runtime.graph.stateOf(value);
        if (existing != null) {
            return new Shared(value, existing.heap);
        }
        String lockName = lockName(owner);
        ThreadTransaction transaction = runtime.transaction();
        ThreadTransaction.Hold hold = transaction.hold(lockName);
        if (hold == null || hold.read) {
            throw new IllegalStateException("sharing " + path + " needs the write lock of heap object " + owner.id()
                    + "'s graph, entered first; please report it");
        }
        if (owner.getLong(ContainerKeys.EXTERNAL) == 0) {
            owner.set(ContainerKeys.EXTERNAL, 1L);
        }
        Sharing.Shared shared = runtime.graph.sharing.share(value, path, transaction, hold.group, loader);
        return new Shared(shared.value(), shared.state().heap);
    }

    /** The Java instance of graph object {@code reference} (the known one, or loaded now with what it reaches). */
    public Object load(HeapObject reference, ClassLoader loader, String path) {
        Object instance = runtime.graph.load(reference, loader, path);
        runtime.onLoads.run(runtime.graph);
        return instance;
    }

    /** Just before the component releases its lock: the thread's changes go to the native client. */
    public void beforeRelease() {
        runtime.sync.flush(runtime.transaction());
    }

    /**
     * After the component released its lock for {@code owner}'s graph: {@code committed} true, the
     * thread's changes reached the heap; false, they did not (or may not have), and the objects it
     * wrote and shared take the heap's values back.
     */
    public void released(HeapObject owner, boolean committed) {
        String lockName = lockName(owner);
        ThreadTransaction transaction = runtime.transaction();
        ThreadTransaction.Hold hold = transaction.hold(lockName);
        if (hold == null) {
            return;
        }
        if (--hold.count > 0) {
            return;
        }
        transaction.released(lockName);
        if (committed) {
            transaction.committed();
        } else {
            transaction.failed(runtime.graph, runtime.sync);
        }
    }

    private static String lockName(HeapObject owner) {
        return SharedState.LOCK_PREFIX + owner.id();
    }
}
