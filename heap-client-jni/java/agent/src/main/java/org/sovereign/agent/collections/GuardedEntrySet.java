package org.sovereign.agent.collections;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;

/**
 * The {@code entrySet()} of a shared map: removals ask the guard, and every entry it hands out
 * (iterating, {@code forEach}, {@code toArray}) is wrapped so that {@code setValue} asks it too; the
 * JDK's entries of HashMap and TreeMap write their value field directly.
 */
final class GuardedEntrySet<K, V> extends GuardedSet<Map.Entry<K, V>> {
    GuardedEntrySet(Set<Map.Entry<K, V>> inner, Shareable owner) {
        super(inner, owner);
    }

    @Override
    public Iterator<Map.Entry<K, V>> iterator() {
        Iterator<Map.Entry<K, V>> entries = inner.iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return entries.hasNext();
            }

            @Override
            public Map.Entry<K, V> next() {
                return new Entry<>(entries.next(), owner);
            }

            @Override
            public void remove() {
                guard().change();
                entries.remove();
            }
        };
    }

    @Override
    public void forEach(Consumer<? super Map.Entry<K, V>> action) {
        inner.forEach(entry -> action.accept(new Entry<>(entry, owner)));
    }

    @Override
    public Object[] toArray() {
        Object[] entries = inner.toArray();
        wrap(entries);
        return entries;
    }

    @Override
    public <T> T[] toArray(T[] array) {
        T[] entries = inner.toArray(array);
        wrap(entries);
        return entries;
    }

    @SuppressWarnings("unchecked")
    private void wrap(Object[] entries) {
        for (int i = 0; i < entries.length && entries[i] != null; i++) {
            entries[i] = new Entry<>((Map.Entry<K, V>) entries[i], owner);
        }
    }

    /** One entry: {@code setValue} asks the guard; equality is the entry's, so sets of entries still work. */
    private static final class Entry<K, V> implements Map.Entry<K, V> {
        private final Map.Entry<K, V> inner;
        private final Shareable owner;

        Entry(Map.Entry<K, V> inner, Shareable owner) {
            this.inner = inner;
            this.owner = owner;
        }

        @Override
        public K getKey() {
            return inner.getKey();
        }

        @Override
        public V getValue() {
            return inner.getValue();
        }

        @Override
        public V setValue(V value) {
            ContainerGuard.of(owner).put(inner.getKey(), value);
            return inner.setValue(value);
        }

        @Override
        public boolean equals(Object other) {
            return inner.equals(other);
        }

        @Override
        public int hashCode() {
            return inner.hashCode();
        }

        @Override
        public String toString() {
            return inner.toString();
        }
    }
}
