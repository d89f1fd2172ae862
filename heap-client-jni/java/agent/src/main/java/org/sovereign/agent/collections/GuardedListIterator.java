package org.sovereign.agent.collections;

import java.util.ListIterator;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;

/** A list iterator of a shared list whose {@code set}, {@code add} and {@code remove} ask the list's guard first. */
final class GuardedListIterator<E> implements ListIterator<E> {
    private final ListIterator<E> inner;
    private final Shareable owner;

    GuardedListIterator(ListIterator<E> inner, Shareable owner) {
        this.inner = inner;
        this.owner = owner;
    }

    @Override
    public boolean hasNext() {
        return inner.hasNext();
    }

    @Override
    public E next() {
        return inner.next();
    }

    @Override
    public boolean hasPrevious() {
        return inner.hasPrevious();
    }

    @Override
    public E previous() {
        return inner.previous();
    }

    @Override
    public int nextIndex() {
        return inner.nextIndex();
    }

    @Override
    public int previousIndex() {
        return inner.previousIndex();
    }

    @Override
    public void remove() {
        ContainerGuard.of(owner).change();
        inner.remove();
    }

    @Override
    public void set(E element) {
        ContainerGuard.of(owner).add(element);
        inner.set(element);
    }

    @Override
    public void add(E element) {
        ContainerGuard.of(owner).add(element);
        inner.add(element);
    }
}
