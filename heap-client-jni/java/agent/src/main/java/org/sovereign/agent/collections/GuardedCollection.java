package org.sovereign.agent.collections;

import java.util.Collection;
import java.util.Iterator;
import java.util.function.Predicate;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;

/**
 * A view of a shared collection ({@code values()}, a {@code keySet()}) whose changes ask the guard of
 * the collection behind it first. Reads go straight to the JDK's view; {@code spliterator} and
 * {@code stream} are the defaults built on {@link #iterator}, so nothing reaches the JDK's view
 * around the guard.
 */
class GuardedCollection<E> implements Collection<E> {
    final Collection<E> inner;
    final Shareable owner;

    GuardedCollection(Collection<E> inner, Shareable owner) {
        this.inner = inner;
        this.owner = owner;
    }

    final ContainerGuard guard() {
        return ContainerGuard.of(owner);
    }

    @Override
    public int size() {
        return inner.size();
    }

    @Override
    public boolean isEmpty() {
        return inner.isEmpty();
    }

    @Override
    public boolean contains(Object element) {
        return inner.contains(element);
    }

    @Override
    public Iterator<E> iterator() {
        return new GuardedIterator<>(inner.iterator(), owner);
    }

    @Override
    public Object[] toArray() {
        return inner.toArray();
    }

    @Override
    public <T> T[] toArray(T[] array) {
        return inner.toArray(array);
    }

    @Override
    public boolean add(E element) {
        guard().add(element);
        return inner.add(element);
    }

    @Override
    public boolean remove(Object element) {
        guard().change();
        return inner.remove(element);
    }

    @Override
    public boolean containsAll(Collection<?> elements) {
        return inner.containsAll(elements);
    }

    @Override
    public boolean addAll(Collection<? extends E> elements) {
        guard().addAll(elements);
        return inner.addAll(elements);
    }

    @Override
    public boolean removeAll(Collection<?> elements) {
        guard().change();
        return inner.removeAll(elements);
    }

    @Override
    public boolean retainAll(Collection<?> elements) {
        guard().change();
        return inner.retainAll(elements);
    }

    @Override
    public boolean removeIf(Predicate<? super E> filter) {
        guard().change();
        return inner.removeIf(filter);
    }

    @Override
    public void clear() {
        guard().change();
        inner.clear();
    }

    @Override
    public String toString() {
        return inner.toString();
    }
}
