package org.sovereign.agent.runtime;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one Java instance of this JVM for each heap object it has shared or loaded, so {@code ==} on
 * shared objects means "same heap object". Weak on the Java side: an instance the application no
 * longer references is collected, and loading the object again makes a new one.
 */
final class IdentityMap {
    private static final class Entry extends WeakReference<Object> {
        final long id;

        Entry(long id, Object instance, ReferenceQueue<Object> queue) {
            super(instance, queue);
            this.id = id;
        }
    }

    private final ConcurrentHashMap<Long, Entry> entries = new ConcurrentHashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();

    /** The live instance for heap object {@code id}, or null. */
    Object get(long id) {
        Entry entry = entries.get(id);
        return entry == null ? null : entry.get();
    }

    /** Registers {@code instance} for {@code id} unless a live one is there; returns that one, or null. */
    Object putIfAbsent(long id, Object instance) {
        expunge();
        Object[] existing = new Object[1];
        entries.compute(id, (key, entry) -> {
            Object live = entry == null ? null : entry.get();
            if (live != null) {
                existing[0] = live;
                return entry;
            }
            return new Entry(id, instance, collected);
        });
        return existing[0];
    }

    /** Forgets {@code instance} (a share that did not commit). */
    void remove(long id, Object instance) {
        entries.computeIfPresent(id, (key, entry) -> entry.get() == instance ? null : entry);
    }

    int size() {
        expunge();
        return entries.size();
    }

    private void expunge() {
        for (Object reference = collected.poll(); reference != null; reference = collected.poll()) {
            Entry entry = (Entry) reference;
            entries.remove(entry.id, entry);
        }
    }
}
