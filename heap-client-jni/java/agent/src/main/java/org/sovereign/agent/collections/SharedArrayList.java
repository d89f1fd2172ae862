package org.sovereign.agent.collections;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;
import org.sovereign.agent.runtime.SharedState;

/**
 * What a shared object's {@code ArrayList} becomes: an ArrayList (so it fits any field an ArrayList
 * fits) whose every mutator asks the guard first (the lock rule and the value check) and whose
 * contents the runtime keeps equal to the heap's. Its iterators already remove and set through
 * the overridden methods; {@code subList} is replaced because ArrayList's writes the array directly.
 * A copy ({@code clone}, serialization) is a plain ArrayList.
 */
public final class SharedArrayList<E> extends ArrayList<E> implements Shareable {
    private static final long serialVersionUID = 1L;
    private transient SharedState $sovereign$state;

    /** An empty, unshared list: the runtime fills it, then shares it. */
    public SharedArrayList() {}

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
    public E set(int index, E element) {
        guard().add(element);
        return super.set(index, element);
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

    /** Java 21's SequencedCollection method, which ArrayList implements without remove(int). */
    public E removeFirst() {
        if (isEmpty()) {
            throw new NoSuchElementException();
        }
        return remove(0);
    }

    /** Java 21's SequencedCollection method, which ArrayList implements without remove(int). */
    public E removeLast() {
        if (isEmpty()) {
            throw new NoSuchElementException();
        }
        return remove(size() - 1);
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
    public List<E> subList(int fromIndex, int toIndex) {
        return new GuardedSubList<>(this, fromIndex, toIndex);
    }

    /** A plain ArrayList: a copy is not the shared list. */
    @Override
    public Object clone() {
        return new ArrayList<>(this);
    }

    private Object writeReplace() {
        return new ArrayList<>(this);
    }
}
