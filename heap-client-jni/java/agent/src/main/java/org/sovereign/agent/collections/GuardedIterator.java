package org.sovereign.agent.collections;

import java.util.Iterator;
import java.util.function.Consumer;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;

/**
 * An iterator of a shared collection (or of one of its views) whose {@code remove} asks the
 * collection's guard first: the JDK's own iterators remove through private methods that no
 * subclass override sees.
 */
final class GuardedIterator<E> implements Iterator<E> {
    private final Iterator<E> inner;
    private final Shareable owner;

    GuardedIterator(Iterator<E> inner, Shareable owner) {
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
    public void remove() {
        ContainerGuard.of(owner).change();
        inner.remove();
    }

    @Override
    public void forEachRemaining(Consumer<? super E> action) {
        inner.forEachRemaining(action);
    }
}
