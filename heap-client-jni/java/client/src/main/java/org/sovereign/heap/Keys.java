package org.sovereign.heap;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keys (field names, map keys) interned to the native library's small ids, so a read crosses into
 * native code with an {@code int}, not a {@code String} to convert (issue 12: a cached read under
 * 100 ns). Each key is interned once per process ({@link Native#internKey}); the ids never change,
 * so this map only grows, and only as far as the native table does ({@code KEYS_MAX} keys): once
 * that is full, new keys get -1 and are read by name, as before the fast path.
 */
final class Keys {
    /**
     * Longest key interned, in UTF-16 chars: a char takes at most 3 UTF-8 bytes (a surrogate pair,
     * 2 chars, takes 4), so such a key fits the native {@code KEY_BYTES_MAX} of 1,024 bytes and the
     * native table refuses a key only when it is full. Longer keys are read by name.
     */
    static final int KEY_CHARS_MAX = 256;

    /** Interned keys; bounded by the native table, since only issued ids are stored. */
    private static final ConcurrentHashMap<String, Integer> IDS = new ConcurrentHashMap<>();
    /** Set once the native table refused a key: later unknown keys go by name without asking. */
    private static volatile boolean full;

    private Keys() {}

    /** The id of {@code key}, or -1 when it has none (read it by name). Throws NullPointerException for null. */
    static int id(String key) {
        Integer known = IDS.get(Objects.requireNonNull(key, "key"));
        if (known != null) {
            return known;
        }
        if (full || key.length() > KEY_CHARS_MAX) {
            return -1;
        }
        // Two threads may intern the same key at once; the native table gives both the same id.
        int id = Native.internKey(key);
        if (id < 0) {
            full = true;
            return -1;
        }
        IDS.putIfAbsent(key, id);
        return id;
    }
}
