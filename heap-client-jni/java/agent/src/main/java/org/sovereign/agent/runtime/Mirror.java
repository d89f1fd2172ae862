package org.sovereign.agent.runtime;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapList;
import org.sovereign.heap.HeapMap;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapRejectedException;
import org.sovereign.heap.HeapTypeException;

/**
 * The heap side of one shared container and what this JVM last synced with it: how a container's
 * contents become heap objects and logical operations, how a commit finds what changed (by
 * comparing the container with the synced copy), and how a JVM catches up with other JVMs'
 * commits. One subclass per shape: {@link SequenceMirror} (lists, deques), {@link KeyedMirror}
 * (maps, sets), {@link PrimitiveArrayMirror}, {@link ObjectArrayMirror}. Called only by the thread
 * holding the lock that guards the container (or a reader under its group's monitor).
 */
abstract class Mirror {
    /** Most elements of one container: the heap's COLLECTION_LENGTH_MAX (heap-server/machine/src/limits.rs). */
    static final int ELEMENTS_MAX = 100_000;

    final HeapObject holder;

    Mirror(HeapObject holder) {
        this.holder = holder;
    }

    /** The mirror for a container of Java class {@code type} (a supported JDK collection class or an array class). */
    static Mirror of(Class<?> type, HeapObject holder) {
        if (type == ArrayList.class || type == LinkedList.class || type == ArrayDeque.class) {
            return new SequenceMirror(holder);
        } else if (type == HashMap.class || type == TreeMap.class || type == ConcurrentHashMap.class) {
            return new KeyedMirror(holder, true, false);
        } else if (type == LinkedHashMap.class) {
            return new KeyedMirror(holder, true, true);
        } else if (type == HashSet.class || type == TreeSet.class) {
            return new KeyedMirror(holder, false, false);
        } else if (type == LinkedHashSet.class) {
            return new KeyedMirror(holder, false, true);
        } else if (type.isArray() && type.getComponentType().isPrimitive()) {
            return new PrimitiveArrayMirror(holder, type.getComponentType());
        } else if (type.isArray()) {
            return new ObjectArrayMirror(holder);
        }
        throw new IllegalArgumentException(type.getName() + " is not a container the agent shares");
    }

    /** Creates the heap side of a newly shared container and writes its contents (already adopted). */
    abstract void create(HeapClient client, Object container, ElementIo io, String path);

    /** Reads the whole container from the heap into {@code container} and the synced copy. */
    abstract void reload(Object container, ElementIo io, String path);

    /**
     * Brings {@code container}, synced at version {@code since}, to the heap's current state by
     * reading only what changed; false when it cannot tell (the caller reloads).
     */
    abstract boolean catchUp(Object container, ElementIo io, String path, long since);

    /**
     * Records what {@code container} changed since the last sync as heap operations of the thread's
     * transaction, with the holder's entries for version {@code version}; false (nothing recorded)
     * when nothing changed.
     */
    abstract boolean flush(Object container, ElementIo io, String path, long version);

    /** Whether the size differs from the synced copy's: a change the guard did not see (the next commit looks). */
    abstract boolean sizeChanged(Object container);

    /** The holder's heap list {@code key}, which the agent wrote when it shared the container. */
    HeapList requiredList(String key) {
        return required(holder.getList(key), key);
    }

    /** The holder's heap map {@code key}, which the agent wrote when it shared the container. */
    HeapMap requiredMap(String key) {
        return required(holder.getMap(key), key);
    }

    private <T> T required(T value, String key) {
        if (value == null) {
            throw new HeapTypeException("shared container " + holder.id() + " has no " + key + " entry, so the agent did "
                    + "not write it; containers of the agent must be written through it only");
        }
        return value;
    }

    /** Throws when a container read from the heap is longer than any the agent writes. */
    static void checkLength(long length, String path) {
        if (length > ELEMENTS_MAX) {
            throw new HeapRejectedException(path + " has " + length + " elements in the heap, more than the " + ELEMENTS_MAX
                    + " a shared container may hold; the heap object was written by other code");
        }
    }

    /** Throws when a container about to be shared or committed is longer than the heap takes. */
    static void checkSize(int size, String path) {
        if (size > ELEMENTS_MAX) {
            throw new HeapRejectedException(path + " has " + size + " elements, more than the " + ELEMENTS_MAX + " one "
                    + "shared container may hold; split it (a map of lists, say)");
        }
    }
}
