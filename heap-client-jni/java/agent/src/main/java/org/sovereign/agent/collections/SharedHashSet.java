package org.sovereign.agent.collections;

import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.function.Predicate;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;
import org.sovereign.agent.runtime.SharedState;

/**
 * What a shared object's {@code HashSet} becomes: a HashSet whose every mutator asks the guard first
 * (the lock rule; elements are checked as map keys: String, boxed primitives, enums) and whose
 * iterator is wrapped, since HashSet's removes from its inner map directly. A copy is a plain HashSet.
 */
public final class SharedHashSet<E> extends HashSet<E> implements Shareable {
    private static final long serialVersionUID = 1L;
    private transient SharedState $sovereign$state;

    /** An empty, unshared set: the runtime fills it, then shares it. */
    public SharedHashSet() {}

    @Override
    public SharedState $sovereign$state() {
        return $sovereign$state;
    }

    @Override
    public void $sovereign$state(SharedState state) {
        $sovereign$state = state;
    }

    private ContainerGuard guard() {
        return ContainerGuard.of(this);
    }

    @Override
    public boolean add(E element) {
        guard().put(element, Boolean.TRUE);
        return super.add(element);
    }

    @Override
    public boolean addAll(Collection<? extends E> elements) {
        guard().change();
        for (E element : elements) {
            guard().put(element, Boolean.TRUE);
        }
        return super.addAll(elements);
    }

    @Override
    public boolean remove(Object element) {
        guard().change();
        return super.remove(element);
    }

    @Override
    public boolean removeAll(Collection<?> elements) {
        guard().change();
        return super.removeAll(elements);
    }

    @Override
    public boolean retainAll(Collection<?> elements) {
        guard().change();
        return super.retainAll(elements);
    }

    @Override
    public boolean removeIf(Predicate<? super E> filter) {
        guard().change();
        return super.removeIf(filter);
    }

    @Override
    public void clear() {
        guard().change();
        super.clear();
    }

    @Override
    public Iterator<E> iterator() {
        return new GuardedIterator<>(super.iterator(), this);
    }

    /** A plain HashSet: a copy is not the shared set. */
    @Override
    public Object clone() {
        return new HashSet<>(this);
    }

    private Object writeReplace() {
        return new HashSet<>(this);
    }
}
