package org.sovereign.agent.runtime;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapMap;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapTypeException;

/**
 * A shared map or set (HashMap, LinkedHashMap, TreeMap, ConcurrentHashMap, HashSet, LinkedHashSet,
 * TreeSet): a heap map from each key's text ({@link ElementCodec#keyText}) to the value (true for a
 * set element; {@code #0} for a null map value, since a null would remove the entry). A commit
 * compares the container with the synced copy and ships puts and removes of the changed keys, and
 * lists them in the holder's {@link Journal}, so a JVM a few versions behind reads only those keys.
 * Linked kinds also keep each key's insertion sequence number in a second heap map, which orders
 * them in every JVM (the heap's maps are ordered by key text).
 */
final class KeyedMirror extends Mirror {
    /** The value of a null map value in the heap, which has no null entries. */
    static final String NULL_VALUE = ElementCodec.TAG + "0";

    private final boolean isMap;
    private final boolean linked;
    private HeapMap data;
    private HeapMap order;
    /** Key -> value (sets: true) as last synced, in the container's order. */
    private LinkedHashMap<Object, Object> synced = new LinkedHashMap<>();
    /** Linked kinds: key -> insertion sequence number as last synced. */
    private final Map<Object, Long> sequences = new HashMap<>();
    private long nextSequence;

    KeyedMirror(HeapObject holder, boolean isMap, boolean linked) {
        super(holder);
        this.isMap = isMap;
        this.linked = linked;
    }

    @Override
    void create(HeapClient client, Object container, ElementIo io, String path) {
        LinkedHashMap<Object, Object> now = snapshot(container);
        checkSize(now.size(), path);
        data = client.newMap();
        holder.set(ContainerKeys.DATA, data);
        if (linked) {
            order = client.newMap();
            holder.set(ContainerKeys.ORDER, order);
        }
        for (Map.Entry<Object, Object> entry : now.entrySet()) {
            String text = io.keyText(entry.getKey(), ElementCodec.at(path, entry.getKey()));
            data.put(text, heapValue(entry.getKey(), entry.getValue(), io, path));
            if (linked) {
                sequences.put(entry.getKey(), nextSequence);
                order.put(text, nextSequence++);
            }
        }
        if (linked) {
            holder.set(ContainerKeys.NEXT_SEQUENCE, nextSequence);
        }
        synced = now;
    }

    @Override
    void reload(Object container, ElementIo io, String path) {
        long heapNext = linked ? holder.getLong(ContainerKeys.NEXT_SEQUENCE) : 0;
        Map<String, Object> stored = io.entries(data());
        checkLength(stored.size(), path);
        Map<String, Object> sequenceOf = linked ? order().toMap() : Map.of();
        List<Object[]> entries = new ArrayList<>(stored.size());
        for (Map.Entry<String, Object> entry : stored.entrySet()) {
            String text = entry.getKey();
            Object key = io.key(text, path);
            Object value = javaValue(entry.getValue(), key, io, path);
            entries.add(new Object[] {key, value, linked ? sequence(sequenceOf.get(text), text, path) : 0L});
        }
        if (linked) {
            entries.sort(Comparator.comparingLong(entry -> (Long) entry[2]));
        }
        clear(container);
        synced = new LinkedHashMap<>();
        sequences.clear();
        for (Object[] entry : entries) {
            put(container, entry[0], entry[1]);
            synced.put(entry[0], entry[1]);
            if (linked) {
                sequences.put(entry[0], (Long) entry[2]);
            }
        }
        nextSequence = heapNext;
    }

    @Override
    boolean catchUp(Object container, ElementIo io, String path, long since) {
        List<String> changed = Journal.changedSince(holder, since);
        if (changed == null) {
            return false;
        }
        List<Object[]> moved = new ArrayList<>();
        for (String text : changed) {
            Object key = io.key(text, path);
            Object stored = data().get(text);
            if (stored == null) {
                remove(container, key);
                synced.remove(key);
                sequences.remove(key);
                continue;
            }
            Object value = javaValue(stored, key, io, path);
            long sequence = linked ? order().getLong(text) : 0;
            if (linked && !Long.valueOf(sequence).equals(sequences.get(key))) {
                // New, or inserted again: it goes after every key whose sequence did not change.
                remove(container, key);
                synced.remove(key);
                moved.add(new Object[] {key, value, sequence});
            } else {
                put(container, key, value);
                synced.put(key, value);
            }
        }
        moved.sort(Comparator.comparingLong(entry -> (Long) entry[2]));
        for (Object[] entry : moved) {
            put(container, entry[0], entry[1]);
            synced.put(entry[0], entry[1]);
            sequences.put(entry[0], (Long) entry[2]);
        }
        if (linked) {
            nextSequence = holder.getLong(ContainerKeys.NEXT_SEQUENCE);
        }
        return true;
    }

    @Override
    boolean flush(Object container, ElementIo io, String path, long version) {
        checkSize(size(container), path);
        if (isMap) {
            adoptChangedValues(container, io, path);
        }
        LinkedHashMap<Object, Object> now = snapshot(container);
        List<Object> removed = new ArrayList<>();
        for (Object key : synced.keySet()) {
            if (!now.containsKey(key)) {
                removed.add(key);
            }
        }
        List<Object> changed = new ArrayList<>();
        for (Map.Entry<Object, Object> entry : now.entrySet()) {
            Object key = entry.getKey();
            if (!synced.containsKey(key) || !ElementCodec.same(entry.getValue(), synced.get(key))) {
                changed.add(key);
            }
        }
        List<Object> resequenced = linked ? resequenced(now, removed) : List.of();
        if (removed.isEmpty() && changed.isEmpty() && resequenced.isEmpty()) {
            return false;
        }
        Set<String> journal = new LinkedHashSet<>();
        for (Object key : removed) {
            String text = io.keyText(key, ElementCodec.at(path, key));
            data().remove(text);
            if (linked) {
                order().remove(text);
                sequences.remove(key);
            }
            journal.add(text);
        }
        for (Object key : changed) {
            String text = io.keyText(key, ElementCodec.at(path, key));
            data().put(text, heapValue(key, now.get(key), io, path));
            journal.add(text);
        }
        for (Object key : resequenced) {
            String text = io.keyText(key, ElementCodec.at(path, key));
            sequences.put(key, nextSequence);
            order().put(text, nextSequence++);
            journal.add(text);
        }
        if (linked) {
            holder.set(ContainerKeys.NEXT_SEQUENCE, nextSequence);
        }
        Journal.record(holder, version, journal);
        synced = now;
        return true;
    }

    @Override
    boolean sizeChanged(Object container) {
        return size(container) != synced.size();
    }

    /**
     * Linked kinds: the keys whose insertion order changed or that are new: every key from the first
     * place where the current order leaves the synced order (of the keys that remain).
     */
    private List<Object> resequenced(LinkedHashMap<Object, Object> now, List<Object> removed) {
        Set<Object> gone = new HashSet<>(removed);
        Iterator<Object> before = synced.keySet().iterator();
        List<Object> result = new ArrayList<>();
        boolean diverged = false;
        for (Object key : now.keySet()) {
            if (!diverged) {
                Object expected = null;
                boolean found = false;
                while (before.hasNext()) {
                    Object candidate = before.next();
                    if (!gone.contains(candidate)) {
                        expected = candidate;
                        found = true;
                        break;
                    }
                }
                diverged = !found || !ElementCodec.same(key, expected) || !synced.containsKey(key);
            }
            if (diverged) {
                result.add(key);
            }
        }
        return result;
    }

    /** Maps: the values new since the sync are adopted (a plain collection becomes its shared copy in the map). */
    @SuppressWarnings("unchecked")
    private void adoptChangedValues(Object container, ElementIo io, String path) {
        Map<Object, Object> map = (Map<Object, Object>) container;
        Map<Object, Object> replaced = new HashMap<>();
        for (Map.Entry<Object, Object> entry : map.entrySet()) {
            Object key = entry.getKey();
            Object value = entry.getValue();
            if (!synced.containsKey(key) || !ElementCodec.same(value, synced.get(key))) {
                Object kept = io.adopt(value, ElementCodec.at(path, key));
                if (kept != value) {
                    replaced.put(key, kept);
                }
            }
        }
        map.putAll(replaced);
    }

    /** A linked kind's insertion sequence number of key {@code text}, as its order map holds it. */
    private long sequence(Object stored, String text, String path) {
        if (!(stored instanceof Long)) {
            throw new HeapTypeException(ElementCodec.at(path, text) + " has no insertion sequence number in the heap (found "
                    + stored + "), so the agent did not write it; containers of the agent must be written through it only");
        }
        return (Long) stored;
    }

    private Object heapValue(Object key, Object value, ElementIo io, String path) {
        if (!isMap) {
            return Boolean.TRUE;
        }
        return value == null ? NULL_VALUE : io.encode(value, ElementCodec.at(path, key));
    }

    private Object javaValue(Object stored, Object key, ElementIo io, String path) {
        return isMap ? io.decode(stored, ElementCodec.at(path, key)) : Boolean.TRUE;
    }

    @SuppressWarnings("unchecked")
    private LinkedHashMap<Object, Object> snapshot(Object container) {
        if (isMap) {
            return new LinkedHashMap<>((Map<Object, Object>) container);
        }
        LinkedHashMap<Object, Object> elements = new LinkedHashMap<>();
        for (Object element : (Collection<Object>) container) {
            elements.put(element, Boolean.TRUE);
        }
        return elements;
    }

    @SuppressWarnings("unchecked")
    private void put(Object container, Object key, Object value) {
        if (isMap) {
            ((Map<Object, Object>) container).put(key, value);
        } else {
            ((Collection<Object>) container).add(key);
        }
    }

    private void remove(Object container, Object key) {
        if (isMap) {
            ((Map<?, ?>) container).remove(key);
        } else {
            ((Collection<?>) container).remove(key);
        }
    }

    private void clear(Object container) {
        if (isMap) {
            ((Map<?, ?>) container).clear();
        } else {
            ((Collection<?>) container).clear();
        }
    }

    private int size(Object container) {
        return isMap ? ((Map<?, ?>) container).size() : ((Collection<?>) container).size();
    }

    private HeapMap data() {
        if (data == null) {
            data = requiredMap(ContainerKeys.DATA);
        }
        return data;
    }

    private HeapMap order() {
        if (order == null) {
            order = requiredMap(ContainerKeys.ORDER);
        }
        return order;
    }
}
