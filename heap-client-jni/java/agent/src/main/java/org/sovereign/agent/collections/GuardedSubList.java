package org.sovereign.agent.collections;

import java.util.AbstractList;
import java.util.List;
import java.util.Objects;

/**
 * {@code subList} of a shared list: every access goes through the shared list's own (guarded)
 * methods at an offset. ArrayList's own sublist writes {@code set}, {@code replaceAll},
 * {@code removeIf} and {@code removeAll} straight into the backing array. As with the JDK's, a
 * change to the list made around the sublist leaves the sublist undefined.
 */
final class GuardedSubList<E> extends AbstractList<E> {
    private final List<E> root;
    private final int offset;
    private int size;

    GuardedSubList(List<E> root, int fromIndex, int toIndex) {
        Objects.checkFromToIndex(fromIndex, toIndex, root.size());
        this.root = root;
        this.offset = fromIndex;
        this.size = toIndex - fromIndex;
    }

    @Override
    public E get(int index) {
        return root.get(offset + Objects.checkIndex(index, size));
    }

    @Override
    public E set(int index, E element) {
        return root.set(offset + Objects.checkIndex(index, size), element);
    }

    @Override
    public void add(int index, E element) {
        root.add(offset + Objects.checkIndex(index, size + 1), element);
        size++;
        modCount++;
    }

    @Override
    public E remove(int index) {
        E removed = root.remove(offset + Objects.checkIndex(index, size));
        size--;
        modCount++;
        return removed;
    }

    @Override
    public int size() {
        return size;
    }
}
