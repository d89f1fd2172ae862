package org.sovereign.agent.runtime;

import java.lang.ref.WeakReference;
import java.util.function.BooleanSupplier;
import org.sovereign.heap.HeapClient;

/**
 * One shared container (collection or array) in this JVM: its {@link Mirror}, the version its
 * contents were last synced at, and the guard its mutators call. A change is allowed to the thread
 * holding the write lock of the container's group (its owner's lock), or that shared the container
 * in its open transaction; it marks the container for the thread's next commit. The runtime's own
 * changes (loading, refreshing, adopting values) run "filling", which the guard lets through.
 */
final class ContainerState implements ContainerGuard {
    final AgentRuntime runtime;
    final SharedState shared;
    final Mirror mirror;
    /** The container's Java class as stored: a supported JDK collection class or an array class. */
    final Class<?> type;
    /** The loader enum constants and classes of its elements are found through (its owner's). */
    final ClassLoader loader;
    private final WeakReference<Object> container;
    /** {@link ContainerKeys#VERSION} as last synced; -1: unknown (read everything at the next refresh). */
    private long version;
    /** The thread running a change of the runtime's own on the container, if any. */
    private volatile Thread filling;

    ContainerState(AgentRuntime runtime, SharedState shared, Mirror mirror, Class<?> type, ClassLoader loader,
            Object container, long version) {
        this.runtime = runtime;
        this.shared = shared;
        this.mirror = mirror;
        this.type = type;
        this.loader = loader;
        this.container = new WeakReference<>(container);
        this.version = version;
    }

    /** The Java container, or null once the application dropped it. */
    Object container() {
        return container.get();
    }

    boolean isArray() {
        return type.isArray();
    }

    // ---- the guard ----

    @Override
    public void change() {
        if (filling == Thread.currentThread()) {
            return;
        }
        ThreadTransaction transaction = runtime.transaction();
        if (!transaction.mayWrite(shared)) {
            throw Portability.unlockedContainer(this, transaction.holdsRead(shared.lockName));
        }
        transaction.changed(this);
    }

    @Override
    public void add(Object element) {
        change();
        if (filling != Thread.currentThread()) {
            ElementCodec.check(element, shared.path + "[]");
        }
    }

    @Override
    public void put(Object key, Object value) {
        change();
        if (filling != Thread.currentThread()) {
            String path = ElementCodec.at(shared.path, key);
            ElementCodec.keyText(key, path);
            ElementCodec.check(value, path);
        }
    }

    // ---- the runtime's side (the caller holds the group's monitor) ----

    /** A newly shared container: {@code fill} puts the contents in, then the heap side is created with them. */
    void create(HeapClient client, Runnable fill, ElementIo io) {
        filling(() -> {
            fill.run();
            mirror.create(client, container(), io, shared.path);
            return true;
        });
    }

    /** Fills a newly loaded container from the heap; {@code synced}: loaded under its lock, so its version can be trusted. */
    void load(ElementIo io, boolean synced) {
        Object target = container();
        long heapVersion = shared.heap.getLong(ContainerKeys.VERSION);
        filling(() -> {
            mirror.reload(target, io, shared.path);
            return true;
        });
        version = synced ? heapVersion : -1;
    }

    /**
     * Brings the container to the heap's version: nothing when equal, the changes when it can, else
     * everything. The caller waited until the container was filled (a load in progress fills it).
     */
    void refresh(ElementIo io) {
        Object target = container();
        if (target == null) {
            return;
        }
        long heapVersion = shared.heap.getLong(ContainerKeys.VERSION);
        if (heapVersion == version) {
            return;
        }
        long since = version;
        version = -1; // until the refresh completes
        filling(() -> {
            if (since < 0 || !mirror.catchUp(target, io, shared.path, since)) {
                mirror.reload(target, io, shared.path);
            }
            return true;
        });
        version = heapVersion;
    }

    /** Records the container's changes for the thread's commit; whether there were any. */
    boolean flush(ElementIo io) {
        Object target = container();
        if (target == null) {
            return false;
        }
        // Unknown: another thread of this JVM loaded it outside the lock this thread holds, so nobody
        // could commit a change to it since; the heap's version is the one its contents have.
        long next = (version >= 0 ? version : shared.heap.getLong(ContainerKeys.VERSION)) + 1;
        boolean changed = filling(() -> mirror.flush(target, io, shared.path, next));
        if (changed) {
            shared.heap.set(ContainerKeys.VERSION, next);
            version = next;
        }
        return changed;
    }

    /** After a commit that did not reach the heap: the container takes the heap's contents back. */
    void reloadAfterFailure(ElementIo io) {
        Object target = container();
        if (target == null) {
            return;
        }
        version = -1;
        long heapVersion = shared.heap.getLong(ContainerKeys.VERSION);
        filling(() -> {
            mirror.reload(target, io, shared.path);
            return true;
        });
        version = heapVersion;
    }

    /** Whether the container's size differs from what was synced (a change around the guard). */
    boolean sizeChanged() {
        Object target = container();
        return target != null && mirror.sizeChanged(target);
    }

    private boolean filling(BooleanSupplier work) {
        Thread previous = filling;
        filling = Thread.currentThread();
        try {
            return work.getAsBoolean();
        } finally {
            filling = previous;
        }
    }

    @Override
    public String toString() {
        return "ContainerState[" + shared.describe() + "]";
    }
}
