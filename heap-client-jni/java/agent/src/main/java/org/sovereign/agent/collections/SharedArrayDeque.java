package org.sovereign.agent.collections;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Iterator;
import java.util.function.Predicate;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;
import org.sovereign.agent.runtime.SharedState;

/**
 * What a shared object's {@code ArrayDeque} becomes (see {@link SharedArrayList}): every mutator asks
 * the guard first and the iterators are wrapped, since ArrayDeque's delete by index directly. Stored
 * in the heap as a list, head first, so a queue (add at the tail, poll at the head) is shipped as
 * appends and head removals.
 */
public final class SharedArrayDeque<E> extends ArrayDeque<E> implements Shareable {
    private static final long serialVersionUID = 1L;
    private transient SharedState $sovereign$state;

    /** An empty, unshared deque: the runtime fills it, then shares it. */
    public SharedArrayDeque() {}

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
        guard().add(element);
        return super.add(element);
    }

    @Override
    public boolean addAll(Collection<? extends E> elements) {
        guard().addAll(elements);
        return super.addAll(elements);
    }

    @Override
    public void addFirst(E element) {
        guard().add(element);
        super.addFirst(element);
    }

    @Override
    public void addLast(E element) {
        guard().add(element);
        super.addLast(element);
    }

    @Override
    public boolean offer(E element) {
        guard().add(element);
        return super.offer(element);
    }

    @Override
    public boolean offerFirst(E element) {
        guard().add(element);
        return super.offerFirst(element);
    }

    @Override
    public boolean offerLast(E element) {
        guard().add(element);
        return super.offerLast(element);
    }

    @Override
    public void push(E element) {
        guard().add(element);
        super.push(element);
    }

    @Override
    public E remove() {
        guard().change();
        return super.remove();
    }

    @Override
    public boolean remove(Object element) {
        guard().change();
        return super.remove(element);
    }

    @Override
    public E removeFirst() {
        guard().change();
        return super.removeFirst();
    }

    @Override
    public E removeLast() {
        guard().change();
        return super.removeLast();
    }

    @Override
    public boolean removeFirstOccurrence(Object element) {
        guard().change();
        return super.removeFirstOccurrence(element);
    }

    @Override
    public boolean removeLastOccurrence(Object element) {
        guard().change();
        return super.removeLastOccurrence(element);
    }

    @Override
    public E pop() {
        guard().change();
        return super.pop();
    }

    @Override
    public E poll() {
        guard().change();
        return super.poll();
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
    public Iterator<E> descendingIterator() {
        return new GuardedIterator<>(super.descendingIterator(), this);
    }

    /** A plain ArrayDeque: a copy is not the shared deque. */
    @Override
    public ArrayDeque<E> clone() {
        return new ArrayDeque<>(this);
    }

    private Object writeReplace() {
        return new ArrayDeque<>(this);
    }
}
