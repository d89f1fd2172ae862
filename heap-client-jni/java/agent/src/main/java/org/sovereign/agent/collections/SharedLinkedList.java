package org.sovereign.agent.collections;

import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.ListIterator;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;
import org.sovereign.agent.runtime.SharedState;

/**
 * What a shared object's {@code LinkedList} becomes (see {@link SharedArrayList}): every List and
 * Deque mutator asks the guard first, and the iterators are wrapped, since LinkedList's unlink and
 * set nodes directly.
 */
public final class SharedLinkedList<E> extends LinkedList<E> implements Shareable {
    private static final long serialVersionUID = 1L;
    private transient SharedState $sovereign$state;

    /** An empty, unshared list: the runtime fills it, then shares it. */
    public SharedLinkedList() {}

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
    public void add(int index, E element) {
        guard().add(element);
        super.add(index, element);
    }

    @Override
    public boolean addAll(Collection<? extends E> elements) {
        guard().addAll(elements);
        return super.addAll(elements);
    }

    @Override
    public boolean addAll(int index, Collection<? extends E> elements) {
        guard().addAll(elements);
        return super.addAll(index, elements);
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
    public E set(int index, E element) {
        guard().add(element);
        return super.set(index, element);
    }

    @Override
    public E remove() {
        guard().change();
        return super.remove();
    }

    @Override
    public E remove(int index) {
        guard().change();
        return super.remove(index);
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
    protected void removeRange(int fromIndex, int toIndex) {
        guard().change();
        super.removeRange(fromIndex, toIndex);
    }

    @Override
    public void replaceAll(UnaryOperator<E> operator) {
        guard().change();
        super.replaceAll(operator);
    }

    @Override
    public void sort(Comparator<? super E> comparator) {
        guard().change();
        super.sort(comparator);
    }

    @Override
    public void clear() {
        guard().change();
        super.clear();
    }

    @Override
    public Iterator<E> iterator() {
        return listIterator(0);
    }

    @Override
    public ListIterator<E> listIterator(int index) {
        return new GuardedListIterator<>(super.listIterator(index), this);
    }

    @Override
    public Iterator<E> descendingIterator() {
        return new GuardedIterator<>(super.descendingIterator(), this);
    }

    @Override
    public List<E> subList(int fromIndex, int toIndex) {
        return new GuardedSubList<>(this, fromIndex, toIndex);
    }

    /** A plain LinkedList: a copy is not the shared list. */
    @Override
    public Object clone() {
        return new LinkedList<>(this);
    }

    private Object writeReplace() {
        return new LinkedList<>(this);
    }
}
