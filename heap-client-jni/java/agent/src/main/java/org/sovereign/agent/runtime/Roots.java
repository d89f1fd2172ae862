package org.sovereign.agent.runtime;

import java.lang.reflect.Field;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapTypeException;

/**
 * Root static fields. Heap root {@code demo.Counter.ROOT} (the field's full name) is a holder object
 * whose entry {@value #VALUE_KEY} references the shared instance; the holder exists from the first
 * access, and the root counts as assigned once the entry is set. The first assignment cluster-wide
 * wins: under the cluster lock {@code sovereign.root:<name>}, an unset entry is set to the newly
 * shared value, and a set one makes the assignment take the existing graph instead (as in DSO).
 * Assigning null never unsets a root. A root may be an instrumented object or a supported java.util
 * collection (which then is its own lock's owner: {@code synchronized (ROOT)} guards it); the static
 * field gets the shared copy of a plain collection. A loaded graph's on-load methods run before the
 * read or assignment returns.
 */
final class Roots {
    /** The holder entry referencing the root's object. */
    static final String VALUE_KEY = "value";
    /** Cluster lock names serializing the first assignment of each root. */
    static final String LOCK_PREFIX = "sovereign.root:";

    private final AgentRuntime runtime;
    private final ConcurrentHashMap<String, HeapObject> holders = new ConcurrentHashMap<>();

    Roots(AgentRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * The value a read of root {@code owner.field} returns: {@code current} (what the static holds)
     * unless the cluster has the root assigned, then the shared instance, loaded on first use and
     * stored into the static for the next read.
     */
    Object read(Object current, Class<?> owner, String field) {
        String name = owner.getName() + "." + field;
        HeapObject reference = holder(name).getObject(VALUE_KEY);
        if (reference == null) {
            return current;
        }
        Object shared = runtime.graph.load(reference, Graph.loaderOf(owner), name);
        store(owner, field, shared);
        runtime.onLoads.run(runtime.graph);
        return shared;
    }

    /** The value an assignment of {@code value} to root {@code owner.field} stores (see the class comment). */
    Object assign(Object value, Class<?> owner, String field) {
        String name = owner.getName() + "." + field;
        HeapObject holder = holder(name);
        ThreadTransaction transaction = runtime.transaction();
        Lock lock = runtime.client().lock(LOCK_PREFIX + name);
        lock.lock();
        Object result;
        try {
            HeapObject existing = holder.getObject(VALUE_KEY);
            if (existing != null) {
                result = runtime.graph.load(existing, Graph.loaderOf(owner), name);
            } else if (value != null) {
                Sharing.Shared shared = runtime.graph.sharing.share(value, name, transaction, null, Graph.loaderOf(owner));
                holder.set(VALUE_KEY, shared.state().heap);
                result = shared.value();
            } else {
                result = null;
            }
        } catch (RuntimeException | Error e) {
            runtime.releaseAfterFailure(lock, transaction, e);
            throw e;
        }
        runtime.release(lock, transaction);
        check(owner, field, result);
        runtime.onLoads.run(runtime.graph); // outside the root's lock: the methods may take locks of their own
        return result;
    }

    private HeapObject holder(String name) {
        return holders.computeIfAbsent(name, root -> runtime.client().root(root));
    }

    private static Field field(Class<?> owner, String field) {
        try {
            Field declared = owner.getDeclaredField(field);
            declared.setAccessible(true);
            return declared;
        } catch (NoSuchFieldException e) {
            throw new HeapTypeException("root " + owner.getName() + "." + field + " is not a field of " + owner.getName()
                    + "; fix `roots` in the agent config");
        }
    }

    private static void check(Class<?> owner, String field, Object value) {
        Class<?> type = field(owner, field).getType();
        if (value != null && !type.isInstance(value)) {
            throw new HeapTypeException("root " + owner.getName() + "." + field + " holds a " + value.getClass().getName()
                    + " in the cluster, which its type " + type.getName() + " cannot hold; another JVM runs a "
                    + "different version of " + owner.getName() + ", or the root name is used by another field");
        }
    }

    /** Stores the loaded instance into the static, so later reads take the fast path (the transformer made it non-final). */
    private static void store(Class<?> owner, String field, Object value) {
        check(owner, field, value);
        try {
            field(owner, field).set(null, value);
        } catch (IllegalAccessException e) {
            // Still correct: every read of the root comes back here and returns the shared instance.
        }
    }
}
