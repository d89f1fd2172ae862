package org.sovereign.agent.runtime;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapException;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapRejectedException;
import org.sovereign.heap.HeapTypeException;

/**
 * Moves object graphs between Java and the heap. {@link #share} makes a graph of unshared
 * instrumented objects shared: it checks every reachable value first (so a non-portable one leaves
 * nothing half-shared), then creates one heap object per Java object under the caller's lock.
 * {@link #load} makes the Java instances for a heap graph, eagerly, one per heap object
 * ({@link IdentityMap}), without running constructors. {@link #refresh} copies the heap's values
 * into a shared object's fields, after its lock is granted.
 */
final class Graph {
    /**
     * Most heap changes one share may make: the native client's limit for one lock's transaction
     * ({@code PENDING_OPS_MAX} in heap-client-jni/client/src/heap/threads.rs). Each object costs a
     * create, its class entry and one change per field.
     */
    static final int SHARE_CHANGES_MAX = 10_000;
    /** Most objects one load or refresh brings in (each is one read, usually from the client's cache). */
    static final int LOAD_OBJECTS_MAX = 100_000;

    private final AgentRuntime runtime;
    private final IdentityMap identity = new IdentityMap();

    Graph(AgentRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * Shares {@code value} (an instrumented object) and every unshared object it reaches, as changes
     * of the caller's transaction (the thread holds a cluster lock); returns its state.
     */
    SharedState share(Object value, String path, ThreadTransaction transaction) {
        SharedState existing = Shareable.stateOf(value);
        if (existing != null) {
            return existing;
        }
        Map<Object, String> paths = new IdentityHashMap<>();
        List<Object> objects = collect(value, path, paths);
        HeapClient client = runtime.client();
        for (Object object : objects) {
            HeapObject heap = client.newObject(object.getClass().getName());
            SharedState state = new SharedState(client, heap, paths.get(object), runtime.meta(object.getClass()), true);
            ((Shareable) object).$sovereign$state(state);
            identity.putIfAbsent(heap.id(), object);
            transaction.shared(state, object);
        }
        for (Object object : objects) {
            write(object, Shareable.stateOf(object));
        }
        return Shareable.stateOf(value);
    }

    /** Phase one of a share: the unshared objects reachable from {@code value}, every value checked. */
    private List<Object> collect(Object value, String path, Map<Object, String> paths) {
        List<Object> objects = new ArrayList<>();
        paths.put(value, path);
        objects.add(value);
        int changes = 0;
        for (int next = 0; next < objects.size(); next++) {
            Object object = objects.get(next);
            String at = paths.get(object);
            ClassMeta meta = runtime.meta(object.getClass());
            if (meta.problem != null) {
                throw Portability.notShareable(meta, at);
            }
            changes += 2 + meta.fields.size();
            if (changes > SHARE_CHANGES_MAX) {
                throw new HeapRejectedException("sharing " + path + " takes more than " + SHARE_CHANGES_MAX + " heap "
                        + "changes (" + objects.size() + " new objects so far), more than one lock's commit may hold; "
                        + "link the graph in parts, each under its own synchronized block");
            }
            for (FieldMeta field : meta.fields) {
                FieldCodec.encode(field, field.get(object), at + "." + field.name, (reference, referencePath) -> {
                    if (Shareable.stateOf(reference) == null && !paths.containsKey(reference)) {
                        paths.put(reference, referencePath);
                        objects.add(reference);
                    }
                    return null;
                });
            }
        }
        return objects;
    }

    /** Phase two of a share: the class entry and every field of a newly shared object. */
    private void write(Object object, SharedState state) {
        state.heap.set(ClassMeta.CLASS_KEY, object.getClass().getName());
        for (FieldMeta field : state.meta.fields) {
            Object value = FieldCodec.encode(field, field.get(object), state.path + "." + field.name,
                    (reference, referencePath) -> {
                        SharedState target = Shareable.stateOf(reference);
                        if (target == null) {
                            throw new HeapException(referencePath + " changed while its graph was being shared; "
                                    + "change objects before linking them to a shared object, or under its lock");
                        }
                        return target.heap;
                    });
            state.heap.set(field.name, value);
        }
    }

    /** The Java instance for heap object {@code reference}: the known one, or a new one loaded with its graph. */
    Object load(HeapObject reference, ClassLoader loader, String path) {
        Object known = identity.get(reference.id());
        if (known != null) {
            return known;
        }
        Deque<Object> unfilled = new ArrayDeque<>();
        Object instance = materialize(reference, loader, path, unfilled);
        drain(unfilled, loader);
        return instance;
    }

    /** Copies the heap's values of {@code state}'s object into {@code object}'s fields. */
    void refresh(Object object, SharedState state) {
        state.awaitFilled();
        ClassLoader loader = loaderOf(object.getClass());
        Deque<Object> unfilled = new ArrayDeque<>();
        try {
            fill(object, state, loader, unfilled);
        } finally {
            drain(unfilled, loader);
        }
    }

    /** Makes {@code object} unshared again (its share did not commit). */
    void forget(Object object, SharedState state) {
        if (Shareable.stateOf(object) == state) {
            ((Shareable) object).$sovereign$state(null);
        }
        identity.remove(state.id(), object);
    }

    /** How many heap objects have a live Java instance in this JVM. */
    int instances() {
        return identity.size();
    }

    /** The instance for {@code reference}, registered but not filled yet when new (added to {@code unfilled}). */
    private Object materialize(HeapObject reference, ClassLoader loader, String path, Deque<Object> unfilled) {
        Object known = identity.get(reference.id());
        if (known != null) {
            return known;
        }
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
        ClassMeta meta = runtime.meta(type);
        if (meta.problem != null) {
            throw new HeapTypeException("the shared object at " + path + " cannot be loaded: " + meta.problem);
        }
        // May run the class's static initializer, which may load this very object first: then use that one.
        Object instance = meta.allocate();
        SharedState state = new SharedState(runtime.client(), reference, path, meta, false);
        ((Shareable) instance).$sovereign$state(state);
        Object raced = identity.putIfAbsent(reference.id(), instance);
        if (raced != null) {
            return raced;
        }
        unfilled.add(instance);
        return instance;
    }

    /** Fills every registered, unfilled instance (and those they bring in); each is marked filled even on failure. */
    private void drain(Deque<Object> unfilled, ClassLoader loader) {
        int loaded = 0;
        try {
            while (!unfilled.isEmpty()) {
                Object object = unfilled.peek();
                SharedState state = Shareable.stateOf(object);
                if (++loaded > LOAD_OBJECTS_MAX) {
                    throw new HeapRejectedException("loading " + state.path + " brings in more than " + LOAD_OBJECTS_MAX
                            + " objects at once; share smaller graphs, or reach the rest through other roots");
                }
                fill(object, state, loader, unfilled);
                unfilled.poll();
                state.markFilled();
            }
        } finally {
            for (Object object : unfilled) {
                Shareable.stateOf(object).markFilled();
            }
        }
    }

    private void fill(Object object, SharedState state, ClassLoader loader, Deque<Object> unfilled) {
        for (FieldMeta field : state.meta.fields) {
            Object stored = state.heap.get(field.name);
            field.set(object, FieldCodec.decode(field, stored, state.path + "." + field.name,
                    (reference, referencePath) -> materialize(reference, loader, referencePath, unfilled)));
        }
    }

    static ClassLoader loaderOf(Class<?> type) {
        ClassLoader loader = type.getClassLoader();
        return loader != null ? loader : ClassLoader.getSystemClassLoader();
    }
}
