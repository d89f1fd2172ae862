package org.sovereign.agent.runtime;

import java.util.ArrayList;
import java.util.List;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapList;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapTypeException;

/**
 * A shared {@code Object[]} (or {@code String[]}, {@code Order[]}, {@code int[][]}, ...): a heap list
 * of its elements. As for primitive arrays, element writes are found by comparing the array with the
 * synced copy at each commit of its owner's lock (cost: one pass over the array); each changed
 * element becomes one list set, and its index goes to the holder's {@link Journal}, so a JVM a few
 * versions behind reads only those elements.
 */
final class ObjectArrayMirror extends Mirror {
    private HeapList data;
    private Object[] synced;

    ObjectArrayMirror(HeapObject holder) {
        super(holder);
    }

    @Override
    void create(HeapClient client, Object array, ElementIo io, String path) {
        Object[] elements = (Object[]) array;
        checkSize(elements.length, path);
        data = client.newList();
        holder.set(ContainerKeys.DATA, data);
        holder.set(ContainerKeys.LENGTH, (long) elements.length);
        for (int i = 0; i < elements.length; i++) {
            data.add(io.encode(elements[i], ElementCodec.at(path, i)));
        }
        synced = elements.clone();
    }

    @Override
    void reload(Object array, ElementIo io, String path) {
        Object[] elements = (Object[]) array;
        Object[] stored = io.elements(data(), 0, Integer.MAX_VALUE);
        int length = stored.length;
        if (length != elements.length) {
            throw new HeapTypeException(path + " is an array of " + elements.length + " here but has " + length
                    + " elements in the heap; the heap object was written by other code");
        }
        for (int i = 0; i < length; i++) {
            store(elements, i, io.decode(stored[i], ElementCodec.at(path, i)), path);
        }
        synced = elements.clone();
    }

    @Override
    boolean catchUp(Object array, ElementIo io, String path, long since) {
        List<String> changed = Journal.changedSince(holder, since);
        if (changed == null) {
            return false;
        }
        Object[] elements = (Object[]) array;
        for (String text : changed) {
            int index = Integer.parseInt(text);
            store(elements, index, io.decode(data().get(index), ElementCodec.at(path, index)), path);
            synced[index] = elements[index];
        }
        return true;
    }

    @Override
    boolean flush(Object array, ElementIo io, String path, long version) {
        Object[] elements = (Object[]) array;
        List<String> changed = new ArrayList<>();
        for (int i = 0; i < elements.length; i++) {
            if (!ElementCodec.same(elements[i], synced[i])) {
                Object kept = io.adopt(elements[i], ElementCodec.at(path, i));
                store(elements, i, kept, path);
                data().set(i, io.encode(kept, ElementCodec.at(path, i)));
                changed.add(Integer.toString(i));
            }
        }
        if (changed.isEmpty()) {
            return false;
        }
        Journal.record(holder, version, changed);
        synced = elements.clone();
        return true;
    }

    /** An array's length is fixed: every commit compares it instead. */
    @Override
    boolean sizeChanged(Object array) {
        return true;
    }

    private static void store(Object[] elements, int index, Object value, String path) {
        try {
            elements[index] = value;
        } catch (ArrayStoreException e) {
            throw new HeapTypeException(ElementCodec.at(path, index) + " holds a " + value.getClass().getName()
                    + " in the heap, which this JVM's " + elements.getClass().getComponentType().getName() + "[] cannot "
                    + "hold; run the same version of the classes everywhere");
        }
    }

    private HeapList data() {
        if (data == null) {
            data = requiredList(ContainerKeys.DATA);
        }
        return data;
    }
}
