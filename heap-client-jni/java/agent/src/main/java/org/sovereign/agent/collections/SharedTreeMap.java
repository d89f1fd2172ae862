package org.sovereign.agent.collections;

import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;
import org.sovereign.agent.runtime.SharedState;

/**
 * What a shared object's {@code TreeMap} (natural ordering: a comparator is code and is refused)
 * becomes (see {@link SharedHashMap}). {@code keySet()}, {@code values()} and {@code entrySet()} are
 * guarded; the navigable views (head, tail and sub maps, descending views, navigable key sets) are
 * read-only here, because TreeMap's delete entries directly: change the map itself.
 */
public final class SharedTreeMap<K, V> extends TreeMap<K, V> implements Shareable {
    private static final long serialVersionUID = 1L;
    private transient SharedState $sovereign$state;

    /** An empty, unshared map: the runtime fills it, then shares it. */
    public SharedTreeMap() {}

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
    public V put(K key, V value) {
        guard().put(key, value);
        return super.put(key, value);
    }

    @Override
    public void putAll(Map<? extends K, ? extends V> entries) {
        guard().putAll(entries);
        super.putAll(entries);
    }

    @Override
    public V putIfAbsent(K key, V value) {
        guard().put(key, value);
        return super.putIfAbsent(key, value);
    }

    @Override
    public V remove(Object key) {
        guard().change();
        return super.remove(key);
    }

    @Override
    public boolean remove(Object key, Object value) {
        guard().change();
        return super.remove(key, value);
    }

    @Override
    public V replace(K key, V value) {
        guard().put(key, value);
        return super.replace(key, value);
    }

    @Override
    public boolean replace(K key, V oldValue, V newValue) {
        guard().put(key, newValue);
        return super.replace(key, oldValue, newValue);
    }

    @Override
    public void replaceAll(BiFunction<? super K, ? super V, ? extends V> function) {
        guard().change();
        super.replaceAll(function);
    }

    @Override
    public V computeIfAbsent(K key, Function<? super K, ? extends V> function) {
        guard().put(key, null);
        return super.computeIfAbsent(key, function);
    }

    @Override
    public V computeIfPresent(K key, BiFunction<? super K, ? super V, ? extends V> function) {
        guard().put(key, null);
        return super.computeIfPresent(key, function);
    }

    @Override
    public V compute(K key, BiFunction<? super K, ? super V, ? extends V> function) {
        guard().put(key, null);
        return super.compute(key, function);
    }

    @Override
    public V merge(K key, V value, BiFunction<? super V, ? super V, ? extends V> function) {
        guard().put(key, value);
        return super.merge(key, value, function);
    }

    @Override
    public void clear() {
        guard().change();
        super.clear();
    }

    @Override
    public Collection<V> values() {
        return new GuardedCollection<>(super.values(), this);
    }

    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return new GuardedEntrySet<>(super.entrySet(), this);
    }

    @Override
    public Map.Entry<K, V> pollFirstEntry() {
        guard().change();
        return super.pollFirstEntry();
    }

    @Override
    public Map.Entry<K, V> pollLastEntry() {
        guard().change();
        return super.pollLastEntry();
    }

    /** TreeMap's keySet() is navigableKeySet(), which is read-only here: the guarded view wraps TreeMap's own. */
    @Override
    public Set<K> keySet() {
        return new GuardedSet<>(super.navigableKeySet(), this);
    }

    @Override
    public NavigableSet<K> navigableKeySet() {
        return Collections.unmodifiableNavigableSet(super.navigableKeySet());
    }

    @Override
    public NavigableSet<K> descendingKeySet() {
        return Collections.unmodifiableNavigableSet(super.descendingKeySet());
    }

    @Override
    public NavigableMap<K, V> descendingMap() {
        return Collections.unmodifiableNavigableMap(super.descendingMap());
    }

    @Override
    public NavigableMap<K, V> headMap(K toKey, boolean inclusive) {
        return Collections.unmodifiableNavigableMap(super.headMap(toKey, inclusive));
    }

    @Override
    public SortedMap<K, V> headMap(K toKey) {
        return Collections.unmodifiableSortedMap(super.headMap(toKey));
    }

    @Override
    public NavigableMap<K, V> tailMap(K fromKey, boolean inclusive) {
        return Collections.unmodifiableNavigableMap(super.tailMap(fromKey, inclusive));
    }

    @Override
    public SortedMap<K, V> tailMap(K fromKey) {
        return Collections.unmodifiableSortedMap(super.tailMap(fromKey));
    }

    @Override
    public NavigableMap<K, V> subMap(K fromKey, boolean fromInclusive, K toKey, boolean toInclusive) {
        return Collections.unmodifiableNavigableMap(super.subMap(fromKey, fromInclusive, toKey, toInclusive));
    }

    @Override
    public SortedMap<K, V> subMap(K fromKey, K toKey) {
        return Collections.unmodifiableSortedMap(super.subMap(fromKey, toKey));
    }

    /** A plain TreeMap: a copy is not the shared map. */
    @Override
    public Object clone() {
        return new TreeMap<>(this);
    }

    private Object writeReplace() {
        return new TreeMap<>(this);
    }
}
