package org.sovereign.agent.runtime;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sovereign.agent.collections.SharedContainers;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapException;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapRejectedException;
import org.sovereign.heap.NonPortableObjectException;

/**
 * Makes a graph of unshared values shared, as changes of the caller's transaction (the thread
 * holds a cluster lock): instrumented objects, the supported java.util collections and arrays. In
 * three passes: every reachable value is checked first, so a non-portable one (or a map key that
 * hashes by identity) leaves nothing half-shared; then each gets its heap object and state; then
 * fields and contents are written. An instrumented object gets a lock of its own; a collection or
 * array is guarded by its owner's lock, the nearest instrumented object above it (or the lock
 * given as context, or its own when it is a root); in an external context ({@link LockedGraphs})
 * everything, instrumented objects too, is guarded by the context's lock. A plain collection is replaced by a copy of its
 * shared subclass (in the fields and containers that held it), so a reference to it kept from
 * before is not the shared one; objects and arrays are shared in place.
 */
final class Sharing {
    /**
     * Most heap changes one share may make: the native client's limit for one lock's transaction
     * ({@code PENDING_OPS_MAX} in heap-client-jni/client/src/heap/threads.rs). An object costs a
     * create, its class entry and one change per field; a container its holder's entries and one
     * change per element (two for a linked map or set).
     */
    static final int SHARE_CHANGES_MAX = 10_000;

    /** A shared value: what the field or container holds now (a copy, for a plain collection) and its state. */
    record Shared(Object value, SharedState state) {}

    private enum Kind { OBJECT, COLLECTION, ARRAY }

    /** One value being shared. */
    private static final class Node {
        final Object original;
        final String path;
        final Kind kind;
        /** The JDK collection class or the array class (containers). */
        final Class<?> type;
        final ClassLoader loader;
        /** Whose lock guards it: itself (objects, a root collection), a node above, or null (the context's). */
        Node lockOwner;
        Object shared;
        SharedState state;

        Node(Object original, String path, Kind kind, Class<?> type, ClassLoader loader) {
            this.original = original;
            this.path = path;
            this.kind = kind;
            this.type = type;
            this.loader = loader;
        }
    }

    private final AgentRuntime runtime;
    private final Graph graph;

    Sharing(AgentRuntime runtime, Graph graph) {
        this.runtime = runtime;
        this.graph = graph;
    }

    /** The value a container keeps for {@code value}: as it is when scalar or shared, else shared now (owned by {@code group}). */
    Object adopt(Object value, String path, ThreadTransaction transaction, LockGroup group, ClassLoader loader) {
        if (ElementCodec.isScalar(value) || graph.stateOf(value) != null) {
            return value;
        }
        return share(value, path, transaction, group, loader).value();
    }

    /**
     * Shares {@code value} and every unshared value it reaches; {@code context} is the lock group of
     * the object or container that will hold it (null: a root), {@code loader} the class loader of
     * the code that holds it.
     */
    Shared share(Object value, String path, ThreadTransaction transaction, LockGroup context, ClassLoader loader) {
        SharedState existing = graph.stateOf(value);
        if (existing != null) {
            return new Shared(value, existing);
        }
        Map<Object, Node> found = new IdentityHashMap<>();
        List<Node> nodes = new ArrayList<>();
        Node top = visit(value, path, null, loader, found, nodes);
        if (context == null) {
            if (top.kind == Kind.ARRAY) {
                throw new NonPortableObjectException("cannot share an array (" + top.type.getSimpleName()
                        + ") as root " + path + ": nothing could lock it (synchronized on an array stays in this JVM); "
                        + "hold the array in a field of an instrumented class and make that object the root");
            }
            top.lockOwner = top;
        }
        collect(nodes, found, path);
        if (context != null && context.external) {
            for (Node node : nodes) {
                node.lockOwner = null; // the whole graph is guarded by the external lock
            }
        }
        create(nodes, transaction, context);
        write(nodes, found, transaction);
        return new Shared(top.shared, top.state);
    }

    /**
     * Whether {@code value} can be shared, checked as pass one checks it (every reachable value
     * portable, the change count bounded) without sharing anything.
     *
     * @throws NonPortableObjectException or {@link HeapRejectedException} naming what cannot be
     */
    void check(Object value, String path, ClassLoader loader) {
        if (graph.stateOf(value) != null) {
            return;
        }
        Map<Object, Node> found = new IdentityHashMap<>();
        List<Node> nodes = new ArrayList<>();
        visit(value, path, null, loader, found, nodes);
        collect(nodes, found, path);
    }

    /** Pass one: every value reachable from the nodes found so far, checked; the change count bounded. */
    private void collect(List<Node> nodes, Map<Object, Node> found, String path) {
        int changes = 0;
        for (int next = 0; next < nodes.size(); next++) {
            Node node = nodes.get(next);
            changes += expand(node, found, nodes);
            if (changes > SHARE_CHANGES_MAX) {
                throw new HeapRejectedException("sharing " + path + " takes more than " + SHARE_CHANGES_MAX + " heap "
                        + "changes (" + nodes.size() + " new objects and containers so far), more than one lock's commit "
                        + "may hold; link the graph in parts, each under its own synchronized block");
            }
        }
    }

    /** Visits what {@code node} holds; returns the heap changes sharing it costs. */
    private int expand(Node node, Map<Object, Node> found, List<Node> nodes) {
        Object value = node.original;
        switch (node.kind) {
            case OBJECT: {
                ClassMeta meta = runtime.meta(value.getClass());
                if (meta.problem != null) {
                    throw Portability.notShareable(meta, node.path);
                }
                for (FieldMeta field : meta.fields) {
                    FieldCodec.encode(field, field.get(value), node.path + "." + field.name, (reference, at) -> {
                        visit(reference, at, node, node.loader, found, nodes);
                        return null;
                    });
                }
                return 2 + meta.fields.size();
            }
            case COLLECTION: {
                Portability.checkCollection(value, node.path);
                int size = value instanceof Map ? ((Map<?, ?>) value).size() : ((Collection<?>) value).size();
                Mirror.checkSize(size, node.path);
                if (value instanceof Map) {
                    for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                        String at = ElementCodec.at(node.path, entry.getKey());
                        ElementCodec.keyText(entry.getKey(), at);
                        element(entry.getValue(), at, node, found, nodes);
                    }
                } else if (value instanceof Set) {
                    for (Object element : (Set<?>) value) {
                        ElementCodec.keyText(element, ElementCodec.at(node.path, element));
                    }
                } else {
                    int index = 0;
                    for (Object element : (Collection<?>) value) {
                        element(element, ElementCodec.at(node.path, index++), node, found, nodes);
                    }
                }
                return 10 + 2 * size;
            }
            default: {
                int length = Array.getLength(value);
                if (value instanceof Object[]) {
                    Object[] elements = (Object[]) value;
                    for (int i = 0; i < elements.length; i++) {
                        element(elements[i], ElementCodec.at(node.path, i), node, found, nodes);
                    }
                    return 6 + length;
                }
                return 6;
            }
        }
    }

    private void element(Object value, String path, Node parent, Map<Object, Node> found, List<Node> nodes) {
        if (!ElementCodec.isScalar(value)) {
            visit(value, path, parent, parent.loader, found, nodes);
        }
    }

    /** The node of unshared {@code value} (found before, or new); null for a value already shared. */
    private Node visit(Object value, String path, Node parent, ClassLoader loader, Map<Object, Node> found,
            List<Node> nodes) {
        if (graph.stateOf(value) != null) {
            return null;
        }
        Node known = found.get(value);
        if (known != null) {
            return known;
        }
        Class<?> collection = SharedContainers.jdkClass(value.getClass());
        Node node;
        if (collection != null) {
            node = new Node(value, path, Kind.COLLECTION, collection, loader);
        } else if (value.getClass().isArray()) {
            node = new Node(value, path, Kind.ARRAY, value.getClass(), loader);
        } else if (value instanceof Shareable) {
            node = new Node(value, path, Kind.OBJECT, value.getClass(), Graph.loaderOf(value.getClass()));
        } else {
            throw Portability.nonPortable(value, path);
        }
        node.lockOwner = node.kind == Kind.OBJECT ? node : parent == null ? null : parent.lockOwner;
        found.put(value, node);
        nodes.add(node);
        return node;
    }

    /** Pass two: a heap object, state and lock group for every node. */
    private void create(List<Node> nodes, ThreadTransaction transaction, LockGroup context) {
        HeapClient client = runtime.client();
        for (Node node : nodes) {
            HeapObject heap = client.newObject(node.type.getName());
            LockGroup group = node.lockOwner == node ? runtime.groups.created(SharedState.LOCK_PREFIX + heap.id(), heap)
                    : node.lockOwner == null ? context : node.lockOwner.state.group;
            if (node.kind == Kind.OBJECT) {
                node.state = new SharedState(client, heap, node.path, runtime.meta(node.type), true, group);
                node.shared = node.original;
                ((Shareable) node.original).$sovereign$state(node.state);
            } else {
                node.state = new SharedState(client, heap, node.path, null, true, group);
                node.shared = node.kind == Kind.ARRAY ? node.original : SharedContainers.newEmpty(node.type);
                ContainerState container = new ContainerState(runtime, node.state, Mirror.of(node.type, heap), node.type,
                        node.loader, node.shared, 0);
                node.state.container(container);
                group.add(container, true);
                if (node.kind == Kind.ARRAY) {
                    graph.arrays.put(node.shared, node.state);
                } else {
                    ((Shareable) node.shared).$sovereign$state(node.state);
                }
            }
            if (node.lockOwner == node) {
                group.owner(node.shared);
            } else if (node.kind == Kind.OBJECT) {
                group.member(node.shared);
            }
            graph.register(heap.id(), node.shared);
            transaction.shared(node.state, node.shared);
        }
    }

    /** Pass three: class entries, fields and contents; a plain collection is replaced by its copy wherever it was held. */
    private void write(List<Node> nodes, Map<Object, Node> found, ThreadTransaction transaction) {
        HeapClient client = runtime.client();
        for (Node node : nodes) {
            HeapObject heap = node.state.heap;
            heap.set(ClassMeta.CLASS_KEY, node.type.getName());
            LockGroup group = node.state.group;
            if (group.ownerHeap != heap) {
                heap.set(ContainerKeys.OWNER, group.ownerHeap);
            }
            if (node.kind == Kind.OBJECT) {
                writeFields(node, found);
                continue;
            }
            ContainerIo io = new ContainerIo(graph, transaction, group, node.loader, null, null);
            node.state.container().create(client, () -> fill(node, found), io);
        }
    }

    private void writeFields(Node node, Map<Object, Node> found) {
        Object object = node.original;
        for (FieldMeta field : node.state.meta.fields) {
            Object value = field.get(object);
            Object kept = mapped(value, found);
            if (kept != value) {
                field.set(object, kept);
            }
            node.state.heap.set(field.name, FieldCodec.encode(field, kept, node.path + "." + field.name,
                    (reference, at) -> heapOf(reference, at)));
        }
    }

    /** Puts the original's contents, with shared copies for plain collections, into the node's shared container. */
    @SuppressWarnings("unchecked")
    private static void fill(Node node, Map<Object, Node> found) {
        if (node.kind == Kind.ARRAY) {
            if (node.original instanceof Object[]) {
                Object[] elements = (Object[]) node.original;
                for (int i = 0; i < elements.length; i++) {
                    elements[i] = mapped(elements[i], found);
                }
            }
        } else if (node.original instanceof Map) {
            Map<Object, Object> copy = (Map<Object, Object>) node.shared;
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) node.original).entrySet()) {
                copy.put(entry.getKey(), mapped(entry.getValue(), found));
            }
        } else {
            Collection<Object> copy = (Collection<Object>) node.shared;
            for (Object element : (Collection<?>) node.original) {
                copy.add(mapped(element, found));
            }
        }
    }

    private static Object mapped(Object value, Map<Object, Node> found) {
        Node node = value == null ? null : found.get(value);
        return node == null ? value : node.shared;
    }

    private HeapObject heapOf(Object reference, String path) {
        SharedState state = graph.stateOf(reference);
        if (state == null) {
            throw new HeapException(path + " changed while its graph was being shared; change objects "
                    + "before linking them to a shared object, or under its lock");
        }
        return state.heap;
    }
}
