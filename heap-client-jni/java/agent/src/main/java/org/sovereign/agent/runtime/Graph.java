package org.sovereign.agent.runtime;

import java.lang.reflect.Array;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import org.sovereign.agent.collections.SharedContainers;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapRejectedException;
import org.sovereign.heap.HeapTypeException;

/**
 * The Java side of the shared graph in this JVM: one Java instance per heap object
 * ({@link IdentityMap}; arrays are found by identity in {@link ArrayStates}), graphs loaded from the
 * heap, eagerly, without running constructors, in batches of reads ({@link LoadBatch}), and the
 * field refresh of an object after its lock is granted. Sharing new graphs is {@link Sharing}'s job.
 */
final class Graph {
    /** Most objects and containers one load or refresh brings in (read in batches into the client's cache). */
    static final int LOAD_OBJECTS_MAX = 100_000;

    private final AgentRuntime runtime;
    private final IdentityMap identity = new IdentityMap();
    final ArrayStates arrays = new ArrayStates();
    final Sharing sharing;

    Graph(AgentRuntime runtime) {
        this.runtime = runtime;
        this.sharing = new Sharing(runtime, this);
    }

    /** The shared state of {@code value} (an instrumented object, a shared collection or array), or null. */
    SharedState stateOf(Object value) {
        SharedState state = Shareable.stateOf(value);
        if (state == null && value != null && value.getClass().isArray()) {
            state = arrays.get(value);
        }
        return state;
    }

    /** Registers a newly shared instance as the one for heap object {@code id}. */
    void register(long id, Object instance) {
        identity.putIfAbsent(id, instance);
    }

    /**
     * The Java instance for heap object {@code reference}: the known one, or a new one loaded with
     * its graph, as a root's first read loads it (the whole graph is expected to be new here).
     */
    Object load(HeapObject reference, ClassLoader loader, String path) {
        Object known = identity.get(reference.id());
        if (known != null) {
            return known;
        }
        return load(reference, loader, path, LoadBatch.forRoot(runtime.client()));
    }

    /** As {@link #load(HeapObject, ClassLoader, String)}, reading in {@code batch}'s batches. */
    Object load(HeapObject reference, ClassLoader loader, String path, LoadBatch batch) {
        Object known = identity.get(reference.id());
        if (known != null) {
            return known;
        }
        batch.start(reference);
        Deque<Object> unfilled = new ArrayDeque<>();
        Object instance = materialize(reference, loader, path, unfilled, batch);
        drain(unfilled, loader, batch);
        return instance;
    }

    /**
     * Copies the heap's values of {@code state}'s object (an instrumented one) into {@code object}'s
     * fields. The thread's buffered field writes go to the native client first, so the heap it
     * reads has them (an object it shared in this transaction, then wrote, then locked).
     */
    void refresh(Object object, SharedState state) {
        ThreadTransaction transaction = runtime.transaction();
        if (transaction.writes().size() > 0) {
            sendWrites(transaction);
        }
        state.awaitFilled();
        ClassLoader loader = loaderOf(object.getClass());
        LoadBatch batch = LoadBatch.forRefresh(runtime.client());
        Deque<Object> unfilled = new ArrayDeque<>();
        try {
            fill(object, state, loader, unfilled, batch);
        } finally {
            drain(unfilled, loader, batch);
        }
    }

    /** Sends the thread's buffered field writes to the native client (before its commit, or a read of the heap for it). */
    void sendWrites(ThreadTransaction transaction) {
        transaction.writes().flush(runtime.client(), this);
    }

    /** A batch for what a refresh of containers meets (elements another JVM added). */
    LoadBatch refreshBatch() {
        return LoadBatch.forRefresh(runtime.client());
    }

    /** Makes {@code object} unshared again (its share did not commit). */
    void forget(Object object, SharedState state) {
        if (object instanceof Shareable && Shareable.stateOf(object) == state) {
            ((Shareable) object).$sovereign$state(null);
        } else if (object != null && object.getClass().isArray()) {
            arrays.remove(object);
        }
        identity.remove(state.id(), object);
    }

    /** How many heap objects have a live Java instance in this JVM. */
    int instances() {
        return identity.size();
    }

    /**
     * The instance for {@code reference}, registered but not filled yet when new (added to
     * {@code unfilled}); its class decides what it is: an instrumented class, a supported
     * collection class or an array class. A new one the client has not cached starts a batch.
     */
    Object materialize(HeapObject reference, ClassLoader loader, String path, Deque<Object> unfilled, LoadBatch batch) {
        Object known = identity.get(reference.id());
        if (known != null) {
            return known;
        }
        batch.before(reference);
        String className = reference.getString(ClassMeta.CLASS_KEY);
        if (className == null) {
            throw new HeapTypeException("heap object " + reference.id() + " at " + path + " has no " + ClassMeta.CLASS_KEY
                    + " entry, so the agent did not write it; roots of the agent must be written through the agent only");
        }
        Class<?> type;
        try {
            type = Class.forName(className, false, loader);
        } catch (ClassNotFoundException e) {
            throw new HeapTypeException("the shared object at " + path + " is a " + className + ", which " + loader
                    + " cannot find; put the class on this JVM's class path");
        }
        if (SharedContainers.isSupported(type) || type.isArray()) {
            return materializeContainer(reference, type, loader, path, unfilled);
        }
        ClassMeta meta = runtime.meta(type);
        if (meta.problem != null) {
            throw new HeapTypeException("the shared object at " + path + " cannot be loaded: " + meta.problem);
        }
        // May run the class's static initializer, which may load this very object first: then use that one.
        Object instance = meta.allocate();
        // An object of an external group names its owner (a Tomcat session's heap object).
        HeapObject owner = reference.getObject(ContainerKeys.OWNER);
        HeapObject ownerHeap = owner != null ? owner : reference;
        LockGroup group = runtime.groups.forLock(SharedState.LOCK_PREFIX + ownerHeap.id(), ownerHeap);
        SharedState state = new SharedState(runtime.client(), reference, path, meta, false, group);
        ((Shareable) instance).$sovereign$state(state);
        Object raced = identity.putIfAbsent(reference.id(), instance);
        if (raced != null) {
            return raced;
        }
        if (owner == null) {
            group.owner(instance);
        } else {
            group.member(instance);
        }
        unfilled.add(instance);
        return instance;
    }

    private Object materializeContainer(HeapObject reference, Class<?> type, ClassLoader loader, String path,
            Deque<Object> unfilled) {
        HeapObject owner = reference.getObject(ContainerKeys.OWNER);
        HeapObject ownerHeap = owner != null ? owner : reference;
        LockGroup group = runtime.groups.forLock(SharedState.LOCK_PREFIX + ownerHeap.id(), ownerHeap);
        Object instance;
        if (type.isArray()) {
            long length = reference.getLong(ContainerKeys.LENGTH);
            Mirror.checkLength(length, path);
            instance = Array.newInstance(type.getComponentType(), (int) length);
        } else {
            instance = SharedContainers.newEmpty(type);
        }
        SharedState state = new SharedState(runtime.client(), reference, path, null, false, group);
        // Loaded by a thread holding the group's lock: the contents and their version belong together.
        boolean synced = runtime.transaction().holds(group.lockName);
        state.container(new ContainerState(runtime, state, Mirror.of(type, reference), type, loader, instance, -1));
        Object raced = identity.putIfAbsent(reference.id(), instance);
        if (raced != null) {
            return raced;
        }
        if (type.isArray()) {
            arrays.put(instance, state);
        } else {
            ((Shareable) instance).$sovereign$state(state);
        }
        if (owner == null) {
            group.owner(instance);
        }
        group.add(state.container(), synced);
        unfilled.add(instance);
        return instance;
    }

    /** Fills every registered, unfilled instance (and those they bring in); each is marked filled even on failure. */
    private void drain(Deque<Object> unfilled, ClassLoader loader, LoadBatch batch) {
        int loaded = 0;
        try {
            while (!unfilled.isEmpty()) {
                Object object = unfilled.peek();
                SharedState state = stateOf(object);
                if (++loaded > LOAD_OBJECTS_MAX) {
                    throw new HeapRejectedException("loading " + state.path + " brings in more than " + LOAD_OBJECTS_MAX
                            + " objects at once; share smaller graphs, or reach the rest through other roots");
                }
                fill(object, state, loader, unfilled, batch);
                unfilled.poll();
                state.markFilled();
            }
        } finally {
            for (Object object : unfilled) {
                stateOf(object).markFilled();
            }
        }
    }

    private void fill(Object object, SharedState state, ClassLoader loader, Deque<Object> unfilled, LoadBatch batch) {
        ContainerState container = state.container();
        if (container != null) {
            // No group monitor: until it is marked filled, no other thread touches a new container
            // (refreshes wait for it outside the monitor, see ContainerSync), and its elements may
            // register more containers of the group.
            boolean synced = runtime.transaction().holds(state.lockName);
            container.load(new ContainerIo(this, null, state.group, container.loader, unfilled, batch), synced);
            return;
        }
        // All fields in one call (one copy of the object in the native client, not one per field),
        // the objects they reference that are missing read in one batch of the load's.
        Map<String, Object> stored = state.heap.fields(batch.depth(), batch.budget());
        for (FieldMeta field : state.meta.fields) {
            field.set(object, FieldCodec.decode(field, stored.get(field.name), state.path + "." + field.name,
                    (reference, referencePath) -> materialize(reference, loader, referencePath, unfilled, batch)));
        }
    }

    static ClassLoader loaderOf(Class<?> type) {
        ClassLoader loader = type.getClassLoader();
        return loader != null ? loader : ClassLoader.getSystemClassLoader();
    }
}
