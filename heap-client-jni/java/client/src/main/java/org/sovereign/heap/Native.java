package org.sovereign.heap;

/**
 * The native methods of the heap client, implemented in Rust ({@code heap-client-jni/jni/src/exports.rs}).
 * Every method takes the client's handle (a number, never a pointer: a closed handle fails with
 * {@link HeapClosedException}) and, where locks matter, the calling thread's id, because cluster
 * locks are held per (client session, thread). Values travel as (tag, bits, text, bytes), see
 * {@link Values}. A timeout of -1 means none. Only {@link HeapClient} and its companions call these.
 */
final class Native {
    static {
        NativeLoader.load();
    }

    private Native() {}

    static native String version();

    /**
     * A new client with a session lease of {@code sessionTtlMs}; {@code caPem} null means
     * plaintext, {@code token} null means none (see {@link Security}).
     */
    static native long connect(String endpoints, byte[] caPem, String token, long sessionTtlMs);

    static native void close(long handle);

    static native long cachedObjects(long handle);

    static native long root(long handle, long thread, String name, int kind);

    static native long create(long handle, long thread, String className, int kind);

    static native int kind(long handle, long id);

    /** One more live Java reference to object {@code id}: the client's session holds it (no I/O). */
    static native void pin(long handle, long id);

    /** One live Java reference fewer; a no-op on a closed or unknown handle (Cleaner actions call it). */
    static native void unpin(long handle, long id);

    static native void deleteRoot(long handle, long thread, String name);

    static native Object get(long handle, long thread, long id, String key);

    static native long getLong(long handle, long thread, long id, String key);

    static native double getDouble(long handle, long thread, long id, String key);

    static native boolean getBoolean(long handle, long thread, long id, String key);

    // The fast path for reads (keys.rs): a key interned once, then read by its id (see Keys).

    /** The id of {@code key} for the {@code *ById} getters, the same for the life of the process; -1 when none is left. */
    static native int internKey(String key);

    static native Object getById(long handle, long thread, long id, int keyId);

    static native long getLongById(long handle, long thread, long id, int keyId);

    static native double getDoubleById(long handle, long thread, long id, int keyId);

    static native boolean getBooleanById(long handle, long thread, long id, int keyId);

    static native void set(long handle, long thread, long id, String key, int tag, long bits, String text,
            byte[] bytes);

    static native void remove(long handle, long thread, long id, String key);

    static native String[] keys(long handle, long thread, long id);

    static native int listLen(long handle, long thread, long id);

    static native Object listGet(long handle, long thread, long id, int index);

    static native void listSet(long handle, long thread, long id, int index, int tag, long bits, String text,
            byte[] bytes);

    static native void listPush(long handle, long thread, long id, int tag, long bits, String text, byte[] bytes);

    static native void listInsert(long handle, long thread, long id, int index, int tag, long bits, String text,
            byte[] bytes);

    static native void listRemove(long handle, long thread, long id, int index);

    // Batches (batch_exports.rs): many values in one call.

    /** Read RPCs the client has sent (every attempt): the round trips its reads cost. */
    static native long readRequests(long handle);

    /**
     * Makes {@code ids} (and what they reach) cached in one graph read, walking through what is cached
     * when {@code walk}; returns how many objects were read.
     */
    static native int prefetch(long handle, long thread, long[] ids, int depth, int maxObjects, boolean walk);

    /** Elements {@code from..to} of a list, the objects they reference prefetched. */
    static native Object[] listValues(long handle, long thread, long id, int from, int to, int depth, int maxObjects);

    /** Every entry of a fields object or map as {@code [key0, value0, key1, value1, ...]}, references prefetched. */
    static native Object[] entries(long handle, long thread, long id, int depth, int maxObjects);

    /** {@code count} writes as {@link #set} would make them, in order; {@code blobs} may be null when no value is bytes. */
    static native void setMany(long handle, long thread, long[] ids, String[] keys, int[] tags, long[] bits,
            String[] texts, byte[][] blobs, int count);

    static native boolean lock(long handle, long thread, String name, boolean read, long timeoutMs);

    static native void unlock(long handle, long thread, String name);

    static native void setAsyncCommit(long handle, String name, boolean asyncCommit);

    static native void setLocksKept(long handle, String namePrefix, boolean kept);

    static native boolean await(long handle, long thread, String name, long timeoutMs);

    static native void signal(long handle, long thread, String name, boolean all);
}
