package org.sovereign.agent.collections;

import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.NavigableSet;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;
import org.sovereign.agent.runtime.SharedState;

/**
 * What a shared object's {@code TreeSet} (natural ordering) becomes (see {@link SharedHashSet}). Its
 * navigable views (head, tail and sub sets, the descending set) are read-only here, because
 * TreeSet's write its inner map directly: change the set itself.
 */
public final class SharedTreeSet<E> extends TreeSet<E> implements Shareable {
    private static final long serialVersionUID = 1L;
    private transient SharedState $sovereign$state;

    /** An empty, unshared set: the runtime fills it, then shares it. */
    public SharedTreeSet() {}

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

    @Override
    public E pollFirst() {
        guard().change();
        return super.pollFirst();
    }

    @Override
    public E pollLast() {
        guard().change();
        return super.pollLast();
    }

    @Override
    public Iterator<E> descendingIterator() {
        return new GuardedIterator<>(super.descendingIterator(), this);
    }

    @Override
    public NavigableSet<E> descendingSet() {
        return Collections.unmodifiableNavigableSet(super.descendingSet());
    }

    @Override
    public NavigableSet<E> headSet(E toElement, boolean inclusive) {
        return Collections.unmodifiableNavigableSet(super.headSet(toElement, inclusive));
    }

    @Override
    public SortedSet<E> headSet(E toElement) {
        return Collections.unmodifiableSortedSet(super.headSet(toElement));
    }

    @Override
    public NavigableSet<E> tailSet(E fromElement, boolean inclusive) {
        return Collections.unmodifiableNavigableSet(super.tailSet(fromElement, inclusive));
    }

    @Override
    public SortedSet<E> tailSet(E fromElement) {
        return Collections.unmodifiableSortedSet(super.tailSet(fromElement));
    }

    @Override
    public NavigableSet<E> subSet(E fromElement, boolean fromInclusive, E toElement, boolean toInclusive) {
        return Collections.unmodifiableNavigableSet(super.subSet(fromElement, fromInclusive, toElement, toInclusive));
    }

    @Override
    public SortedSet<E> subSet(E fromElement, E toElement) {
        return Collections.unmodifiableSortedSet(super.subSet(fromElement, toElement));
    }

    /** A plain TreeSet: a copy is not the shared set. */
    @Override
    public Object clone() {
        return new TreeSet<>(this);
    }

    private Object writeReplace() {
        return new TreeSet<>(this);
    }
}
