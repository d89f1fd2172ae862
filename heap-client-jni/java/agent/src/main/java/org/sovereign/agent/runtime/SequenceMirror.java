package org.sovereign.agent.runtime;

import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapList;
import org.sovereign.heap.HeapObject;

/**
 * A shared ArrayList, LinkedList or ArrayDeque: a heap list, head first. A commit compares the
 * container with the synced copy and ships the difference as list operations: appends and head
 * removals when that is what happened (a log, a queue), else sets, removes and inserts for the
 * changed middle (after the common prefix and suffix). The holder counts every append and head
 * removal ever made and notes the version of the last other change, so a JVM whose copy is behind
 * only by appends and head removals drops its first elements and reads the new tail, instead of
 * reading the whole list. Reads take a range of elements in one call, with the objects they
 * reference in one batch ({@link ElementIo#elements}).
 */
final class SequenceMirror extends Mirror {
    /** How many head removals a commit's comparison tries before it falls back to the general diff. */
    static final int HEAD_SCAN_MAX = 64;

    private HeapList data;
    private Object[] synced = new Object[0];
    private long appended;
    private long removedHead;

    SequenceMirror(HeapObject holder) {
        super(holder);
    }

    @Override
    void create(HeapClient client, Object container, ElementIo io, String path) {
        Object[] elements = elements(container).toArray();
        checkSize(elements.length, path);
        data = client.newList();
        holder.set(ContainerKeys.DATA, data);
        for (int i = 0; i < elements.length; i++) {
            data.add(io.encode(elements[i], ElementCodec.at(path, i)));
        }
        synced = elements;
    }

    @Override
    void reload(Object container, ElementIo io, String path) {
        long heapAppended = holder.getLong(ContainerKeys.APPENDED);
        long heapRemoved = holder.getLong(ContainerKeys.REMOVED_HEAD);
        Object[] elements = io.elements(data(), 0, Integer.MAX_VALUE);
        checkLength(elements.length, path);
        for (int i = 0; i < elements.length; i++) {
            elements[i] = io.decode(elements[i], ElementCodec.at(path, i));
        }
        Collection<Object> target = elements(container);
        target.clear();
        target.addAll(Arrays.asList(elements));
        synced = elements;
        appended = heapAppended;
        removedHead = heapRemoved;
    }

    @Override
    boolean catchUp(Object container, ElementIo io, String path, long since) {
        long heapAppended = holder.getLong(ContainerKeys.APPENDED);
        long heapRemoved = holder.getLong(ContainerKeys.REMOVED_HEAD);
        long removed = heapRemoved - removedHead;
        long added = heapAppended - appended;
        if (holder.getLong(ContainerKeys.BASE) > since || removed < 0 || added < 0 || removed > synced.length) {
            return false;
        }
        HeapList list = data();
        int length = list.size();
        if (length != synced.length - removed + added) {
            return false; // not what the counters promise: read everything
        }
        int tailFrom = length - (int) added;
        Object[] tail = io.elements(list, tailFrom, length);
        for (int i = 0; i < tail.length; i++) {
            tail[i] = io.decode(tail[i], ElementCodec.at(path, tailFrom + i));
        }
        removeHead(container, (int) removed);
        Collection<Object> target = elements(container);
        target.addAll(Arrays.asList(tail));
        synced = target.toArray();
        appended = heapAppended;
        removedHead = heapRemoved;
        return true;
    }

    @Override
    boolean flush(Object container, ElementIo io, String path, long version) {
        Collection<Object> elements = elements(container);
        checkSize(elements.size(), path);
        Object[] now = elements.toArray();
        int oldLength = synced.length;
        int head = headRemoved(synced, now);
        int prefix = prefix(synced, now);
        int suffix = suffix(synced, now, prefix);
        int removed = oldLength - prefix - suffix;
        int inserted = now.length - prefix - suffix;
        int queueCost = head + now.length - (oldLength - head);
        int generalCost = Math.max(removed, inserted);
        if (queueCost == 0 || generalCost == 0) {
            return false;
        }
        HeapList list = data();
        if (queueCost <= generalCost) {
            int from = oldLength - head;
            adopt(elements, now, from, now.length, io, path);
            for (int i = 0; i < head; i++) {
                list.remove(0);
            }
            for (int i = from; i < now.length; i++) {
                list.add(io.encode(now[i], ElementCodec.at(path, i)));
            }
            removedHead += head;
            appended += now.length - from;
            holder.set(ContainerKeys.REMOVED_HEAD, removedHead);
            holder.set(ContainerKeys.APPENDED, appended);
        } else {
            adopt(elements, now, prefix, prefix + inserted, io, path);
            int common = Math.min(removed, inserted);
            for (int i = 0; i < common; i++) {
                list.set(prefix + i, io.encode(now[prefix + i], ElementCodec.at(path, prefix + i)));
            }
            for (int i = common; i < removed; i++) {
                list.remove(prefix + common);
            }
            for (int i = common; i < inserted; i++) {
                list.add(prefix + i, io.encode(now[prefix + i], ElementCodec.at(path, prefix + i)));
            }
            holder.set(ContainerKeys.BASE, version);
        }
        synced = now;
        return true;
    }

    @Override
    boolean sizeChanged(Object container) {
        return elements(container).size() != synced.length;
    }

    /**
     * The smallest h (at most {@link #HEAD_SCAN_MAX}, else all of {@code old}, which always fits)
     * such that {@code now} is {@code old} without its first h elements plus appended ones.
     */
    static int headRemoved(Object[] old, Object[] now) {
        int scan = Math.min(old.length, HEAD_SCAN_MAX);
        for (int head = 0; head <= scan; head++) {
            if (startsWith(now, old, head)) {
                return head;
            }
        }
        return old.length;
    }

    private static boolean startsWith(Object[] now, Object[] old, int from) {
        if (now.length < old.length - from) {
            return false;
        }
        for (int i = from; i < old.length; i++) {
            if (!ElementCodec.same(old[i], now[i - from])) {
                return false;
            }
        }
        return true;
    }

    static int prefix(Object[] old, Object[] now) {
        int limit = Math.min(old.length, now.length);
        int prefix = 0;
        while (prefix < limit && ElementCodec.same(old[prefix], now[prefix])) {
            prefix++;
        }
        return prefix;
    }

    static int suffix(Object[] old, Object[] now, int prefix) {
        int limit = Math.min(old.length, now.length) - prefix;
        int suffix = 0;
        while (suffix < limit && ElementCodec.same(old[old.length - 1 - suffix], now[now.length - 1 - suffix])) {
            suffix++;
        }
        return suffix;
    }

    /** Adopts the elements about to be written ({@code now[from, to)}); a replaced one is replaced in the container too. */
    @SuppressWarnings("unchecked")
    private static void adopt(Collection<Object> elements, Object[] now, int from, int to, ElementIo io, String path) {
        boolean replaced = false;
        for (int i = from; i < to; i++) {
            Object kept = io.adopt(now[i], ElementCodec.at(path, i));
            if (kept != now[i]) {
                now[i] = kept;
                replaced = true;
                if (elements instanceof List) {
                    ((List<Object>) elements).set(i, kept);
                }
            }
        }
        if (replaced && !(elements instanceof List)) {
            elements.clear();
            elements.addAll(Arrays.asList(now));
        }
    }

    private static void removeHead(Object container, int count) {
        if (container instanceof List) {
            List<?> list = (List<?>) container;
            for (int i = 0; i < count; i++) {
                list.remove(0);
            }
        } else {
            Deque<?> deque = (Deque<?>) container;
            for (int i = 0; i < count; i++) {
                deque.pollFirst();
            }
        }
    }

    private HeapList data() {
        if (data == null) {
            data = requiredList(ContainerKeys.DATA);
        }
        return data;
    }

    @SuppressWarnings("unchecked")
    private static Collection<Object> elements(Object container) {
        return (Collection<Object>) container;
    }
}
