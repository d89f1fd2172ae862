package org.sovereign.agent.collections;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.sovereign.agent.runtime.ContainerGuard;
import org.sovereign.agent.runtime.Shareable;
import org.sovereign.agent.runtime.SharedState;

/**
 * What a shared object's {@code ConcurrentHashMap} becomes (see {@link SharedHashMap}). Its
 * {@code keySet()} is ConcurrentHashMap's own final KeySetView and cannot be wrapped: its remove and
 * clear call the map's guarded methods, but a removal through its iterator, removeIf or retainAll is
 * not checked against the lock; it changes the size, though, and the next commit of the owner's
 * lock in this JVM finds and records it. Everything else is guarded.
 * The cluster lock, not ConcurrentHashMap's own locking, is what makes changes safe across JVMs.
 */
public final class SharedConcurrentHashMap<K, V> extends ConcurrentHashMap<K, V> implements Shareable {
    private static final long serialVersionUID = 1L;
    private transient SharedState $sovereign$state;

    /** An empty, unshared map: the runtime fills it, then shares it. */
    public SharedConcurrentHashMap() {}

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

    private Object writeReplace() {
        return new ConcurrentHashMap<>(this);
    }
}
