package org.sovereign.agent.runtime;

import java.util.Collection;
import java.util.Map;

/**
 * What a shared collection asks the runtime before it changes (the {@code org.sovereign.agent.collections}
 * classes call it first in every mutator): whether the calling thread may change it (it holds the
 * cluster write lock of the collection's owner, or shared the collection in its open transaction),
 * and whether a value can be shared at all. A call that returns marks the collection changed, so the
 * thread's next commit compares it with what the heap holds and records the differences.
 */
public interface ContainerGuard {
    /** The guard of a collection that is not shared (yet): nothing to check. */
    ContainerGuard NONE = new ContainerGuard() {
        @Override
        public void change() {}

        @Override
        public void add(Object element) {}

        @Override
        public void put(Object key, Object value) {}
    };

    /**
     * Before a change that brings in no new value (a removal, a reordering, a change by a function).
     *
     * @throws org.sovereign.heap.UnlockedSharedObjectException if the thread may not change it now
     */
    void change();

    /** Before {@code element} is added or stored; also checks that it can be shared. */
    void add(Object element);

    /** Before {@code key} is mapped to {@code value}; also checks that both can be shared. */
    void put(Object key, Object value);

    /** Before every element of {@code elements} is added. */
    default void addAll(Collection<?> elements) {
        change();
        for (Object element : elements) {
            add(element);
        }
    }

    /** Before every entry of {@code entries} is put. */
    default void putAll(Map<?, ?> entries) {
        change();
        for (Map.Entry<?, ?> entry : entries.entrySet()) {
            put(entry.getKey(), entry.getValue());
        }
    }

    /** The guard of {@code container} (a shared collection class's instance), or {@link #NONE} when it is not shared. */
    static ContainerGuard of(Shareable container) {
        SharedState state = container.$sovereign$state();
        return state == null ? NONE : state.guard();
    }
}
