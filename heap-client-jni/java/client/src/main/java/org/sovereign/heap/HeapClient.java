package org.sovereign.heap;

import java.lang.ref.Cleaner;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.function.Supplier;

/**
 * A connection to a Sovereign cluster: the entry point of the Java API. One client serves every
 * thread of the application (open one per JVM, close it on shutdown). It keeps a session with a
 * lease alive, caches the objects it reads (the cluster tells it which ones change) and follows
 * leader changes without surfacing them: a leader that dies costs a pause, never an exception or a
 * lost or doubled write.
 *
 * <pre>{@code
 * try (HeapClient c = HeapClient.connect("127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103")) {
 *     HeapObject cart = c.root("cart");           // created empty if absent
 *     Lock lock = c.lock("cart-lock");            // cluster-wide
 *     lock.lock();
 *     try {
 *         cart.set("total", cart.getLong("total") + 42);
 *     } finally {
 *         lock.unlock();                          // commits the changes made under the lock
 *     }
 * }
 * }</pre>
 *
 * <p>What is kept and what is collected: an object stays while a root reaches it or while some
 * client's Java code holds a handle to it ({@link HeapObject}, {@link HeapMap}, {@link HeapList}),
 * even one it created and never linked. Once neither is true (Java's garbage collector has cleared
 * every handle to it, or their client was closed), the cluster frees it about a second later.
 *
 * <p>Failures are unchecked {@link HeapException}s. A client that was closed (or collected) fails
 * every call with {@link HeapClosedException}; so do the handles it gave out.
 */
public final class HeapClient implements AutoCloseable {
    /** Object kinds as the native library numbers them (must match {@code values.rs}). */
    static final int KIND_FIELDS = 0;
    static final int KIND_MAP = 1;
    static final int KIND_LIST = 2;

    /** Class names recorded for the collections this client creates (Terracotta's logical classes). */
    static final String MAP_CLASS = "java.util.HashMap";
    static final String LIST_CLASS = "java.util.ArrayList";

    /**
     * Most objects one {@link #prefetch} round trip returns, and most ids it starts from: the
     * cluster's limit for one graph read ({@code GRAPH_READ_OBJECTS_MAX}). More ids take more round
     * trips.
     */
    public static final int PREFETCH_OBJECTS_MAX = 10_000;

    /** Most writes one {@link #setAll} takes: what one lock's commit may hold ({@code PENDING_OPS_MAX}). */
    public static final int SET_ALL_WRITES_MAX = 10_000;

    /**
     * The session lease {@link #connect(String, Security)} asks for: if this JVM dies or is cut off,
     * its cluster locks go to other clients this long after its last keep-alive. The native
     * library's {@code SESSION_TTL_MS_DEFAULT}.
     */
    public static final long SESSION_TTL_MS_DEFAULT = 10_000;

    /**
     * The shortest lease {@link #connect(String, Security, long)} accepts (the native library's
     * {@code SESSION_TTL_MS_MIN}): the lease is renewed every third of it, and must outlive the
     * stalls the rest of the client already tolerates (about a second).
     */
    public static final long SESSION_TTL_MS_MIN = 1_500;

    /** The longest lease {@link #connect(String, Security, long)} accepts: the cluster's limit, 5 minutes. */
    public static final long SESSION_TTL_MS_MAX = 300_000;

    /**
     * The first id {@link #newHeapThreadId()} gives out. Java thread ids count up from 1, so none
     * reaches 2^62 in practice; the 2^62 ids from here to {@link Long#MAX_VALUE} last 146,000 years
     * at a million a second. -1 (the native library's {@code u64::MAX}) is the id the client keeps
     * its session-level lock holds under, and is never given out.
     */
    static final long HEAP_THREAD_ID_FIRST = 0x4000_0000_0000_0000L;

    /** The id the native library reserves for the session itself ({@code GREEDY_THREAD}, u64::MAX). */
    static final long RESERVED_THREAD_ID = -1L;

    private static final AtomicLong NEXT_HEAP_THREAD_ID = new AtomicLong(HEAP_THREAD_ID_FIRST);

    /** The heap thread id the calling thread acts as ({@link #actingAs}), or null for its own. */
    private static final ThreadLocal<Long> ACTING_AS = new ThreadLocal<>();

    /** Whether the native call that returned an id already pinned it for the new handle (creates do). */
    static final boolean PINNED = true;
    static final boolean NOT_PINNED = false;

    /**
     * Closes the native client of a HeapClient that was garbage collected without close(), and unpins
     * the id of every handle that became unreachable. One thread for the process: an unpin is a
     * counter change in the native library, never a network call.
     */
    private static final Cleaner CLEANER = Cleaner.create();

    private final String endpoints;
    private final long handle;
    private final Cleaner.Cleanable closer;
    private volatile boolean closed;

    private HeapClient(String endpoints, long handle) {
        this.endpoints = endpoints;
        this.handle = handle;
        // The action must not refer to this object, or it would never become unreachable.
        this.closer = CLEANER.register(this, () -> Native.close(handle));
    }

    /**
     * Connects to the cluster at {@code endpoints} ("host:port,host:port,..."; any subset of the nodes
     * works, the client finds the leader) with the security {@link Security#discover()} finds in this
     * process's settings (the folder {@code heapctl dev up} wrote, {@code SOVEREIGN_SECURITY_DIR},
     * {@code SOVEREIGN_TOKEN}, ...). Waits a bounded time and then throws
     * {@link HeapUnavailableException} naming the endpoints it tried.
     *
     * @throws HeapRejectedException if the security settings name a missing or invalid file, or the
     *     cluster refuses the token (unknown, or its role does not allow opening a session)
     */
    public static HeapClient connect(String endpoints) {
        Objects.requireNonNull(endpoints, "endpoints");
        return connect(endpoints, Security.discover());
    }

    /**
     * Connects to the cluster at {@code endpoints} (as {@link #connect(String)}) with the given CA
     * certificate and token. Waits a bounded time (the connect deadline, 10 s) and then throws
     * {@link HeapUnavailableException} naming the endpoints it tried; that is also what a TLS client
     * of a plaintext cluster, or a plaintext client of a secured one, sees, and the message says so.
     *
     * @throws HeapRejectedException if the cluster refuses the token: its message is the cluster's,
     *     saying what to do (an unknown token, a role that does not allow writing)
     */
    public static HeapClient connect(String endpoints, Security security) {
        return connect(endpoints, security, SESSION_TTL_MS_DEFAULT);
    }

    /**
     * Connects as {@link #connect(String, Security)} does, with a session lease of
     * {@code sessionTtlMs} instead of {@link #SESSION_TTL_MS_DEFAULT}: if this JVM dies or is cut
     * off from the cluster, the cluster locks its threads hold go to other clients this long after
     * its last keep-alive (their uncommitted changes are dropped), and objects only it held are
     * collected. A shorter lease means a quicker takeover from a dead server, and a client that
     * stalls that long (no keep-alive getting through for two thirds of the lease) loses its
     * session: every later call then fails with {@link HeapUnavailableException}.
     *
     * @throws HeapRejectedException if {@code sessionTtlMs} is outside {@link #SESSION_TTL_MS_MIN}
     *     ..{@link #SESSION_TTL_MS_MAX} (before any connection is made; the message names the
     *     bounds), or as {@link #connect(String, Security)}
     */
    public static HeapClient connect(String endpoints, Security security, long sessionTtlMs) {
        Objects.requireNonNull(endpoints, "endpoints");
        Objects.requireNonNull(security, "security");
        NativeLoader.load();
        return new HeapClient(endpoints, Native.connect(endpoints, security.caPem(), security.token(), sessionTtlMs));
    }

    /**
     * A new heap thread id for {@link #actingAs}: unique in this JVM, and never the id of a Java
     * thread (those are small numbers; these start at 2^62), so no thread holds locks or pending
     * changes under it until one acts as it.
     */
    public static long newHeapThreadId() {
        long id = NEXT_HEAP_THREAD_ID.getAndIncrement();
        if (id < HEAP_THREAD_ID_FIRST) {
            // Only after 2^62 ids (the counter wrapped past Long.MAX_VALUE): refuse rather than reuse.
            throw new HeapException("this JVM has used up the 2^62 heap thread ids newHeapThreadId gives out; "
                    + "restart it (please report how)");
        }
        return id;
    }

    /**
     * Runs {@code action} on the calling thread as heap thread {@code heapThreadId} and returns its
     * result. Cluster locks and the changes made under them belong to a heap thread, which is
     * normally the calling Java thread; inside {@code action}, every lock, unlock, condition wait
     * and signal, and every change (pending under a lock until its release) counts as
     * {@code heapThreadId}'s instead, on every client. So work that one logical task does on
     * several Java threads in turn can hold one lock and build one set of pending changes: a lock
     * taken while acting as an id on one thread can be released, committing the changes made as
     * that id on any thread, by another thread acting as the same id. Calls nest; the previous id
     * is back when {@code action} returns or throws.
     *
     * <p>The caller's duties: two Java threads must never act as the same id at the same time
     * (the client keeps one state per id and does not serialize them), and the id must be one from
     * {@link #newHeapThreadId()}, the only ids no Java thread has; acting as another thread's id
     * would take over its locks and pending changes.
     *
     * @throws IllegalArgumentException for -1, the id the client reserves for its session
     */
    public static <T> T actingAs(long heapThreadId, Supplier<T> action) {
        Objects.requireNonNull(action, "action");
        if (heapThreadId == RESERVED_THREAD_ID) {
            throw new IllegalArgumentException("heap thread id -1 is reserved for the client's session; "
                    + "act as an id from HeapClient.newHeapThreadId()");
        }
        Long previous = ACTING_AS.get();
        ACTING_AS.set(heapThreadId);
        try {
            return action.get();
        } finally {
            if (previous == null) {
                ACTING_AS.remove();
            } else {
                ACTING_AS.set(previous);
            }
        }
    }

    /** {@link #actingAs(long, Supplier)} for an action without a result. */
    public static void actingAs(long heapThreadId, Runnable action) {
        Objects.requireNonNull(action, "action");
        actingAs(heapThreadId, () -> {
            action.run();
            return null;
        });
    }

    /** The version of the native library (the Rust crate's version). */
    public static String nativeVersion() {
        NativeLoader.load();
        return Native.version();
    }

    /**
     * The fields object bound to root {@code name}, created empty if absent. Throws
     * {@link HeapTypeException} if the root is bound to a map or a list.
     */
    public HeapObject root(String name) {
        return new HeapObject(this, Native.root(handle, thread(), Objects.requireNonNull(name, "name"), KIND_FIELDS),
                NOT_PINNED);
    }

    /** The map bound to root {@code name}, created empty if absent ({@link HeapTypeException} if another kind). */
    public HeapMap rootMap(String name) {
        return new HeapMap(this, Native.root(handle, thread(), Objects.requireNonNull(name, "name"), KIND_MAP),
                NOT_PINNED);
    }

    /** The list bound to root {@code name}, created empty if absent ({@link HeapTypeException} if another kind). */
    public HeapList rootList(String name) {
        return new HeapList(this, Native.root(handle, thread(), Objects.requireNonNull(name, "name"), KIND_LIST),
                NOT_PINNED);
    }

    /**
     * A new fields object of class {@code className}; its id is known at once. It is stored when it is
     * written (at once, or at the release of the lock the thread holds); reference it from a root or
     * a reachable object to share it. It is kept, linked or not, while the returned handle (or
     * another handle to it) is reachable.
     */
    public HeapObject newObject(String className) {
        Objects.requireNonNull(className, "className");
        return new HeapObject(this, Native.create(handle, thread(), className, KIND_FIELDS), PINNED);
    }

    /** A new, empty map (see {@link #newObject}). */
    public HeapMap newMap() {
        return new HeapMap(this, Native.create(handle, thread(), MAP_CLASS, KIND_MAP), PINNED);
    }

    /** A new, empty list (see {@link #newObject}). */
    public HeapList newList() {
        return new HeapList(this, Native.create(handle, thread(), LIST_CLASS, KIND_LIST), PINNED);
    }

    /**
     * Unbinds root {@code name} (an unbound name is left as it is). Outside a cluster lock it is
     * committed before this returns; while the thread holds one, with the lock's release. The objects
     * only that root reached are then collected, except those some client still has handles to.
     */
    public void deleteRoot(String name) {
        Native.deleteRoot(handle, thread(), Objects.requireNonNull(name, "name"));
    }

    /**
     * The cluster-wide exclusive lock {@code name} (reentrant, fair, held per thread). Changes a thread
     * makes while holding it are committed atomically when it releases the outermost hold, before
     * {@code unlock()} returns, and the next holder sees them. {@link Lock#newCondition()} gives a
     * cluster-wide condition. Every call for the same name returns a handle to the same lock.
     */
    public Lock lock(String name) {
        return new ClusterLock(this, Objects.requireNonNull(name, "name"), false);
    }

    /**
     * Sets how critical sections under cluster lock {@code name} commit, for this client. By default
     * ({@code false}) a thread's changes under the lock are durable on a majority of the nodes before
     * {@code unlock()} returns. With {@code true}, {@code unlock()} returns as soon as they are
     * queued: they are committed in the background, several sections per commit, whole and in the
     * order the {@code unlock()}s returned; this client's threads see them at once, other clients
     * once committed, and the lock goes to another client (or a thread's condition wait) only after
     * every queued section is committed. A crash of this JVM may lose its last sections not yet
     * committed, never part of one and never one without those before it. A refused commit (the lock
     * was lost at this client's lease end) discards it and all sections queued after it; the next
     * {@code unlock()} on this client throws {@link HeapConflictException} saying so.
     */
    public void setAsyncCommit(String name, boolean asyncCommit) {
        Native.setAsyncCommit(handle(), Objects.requireNonNull(name, "name"), asyncCommit);
    }

    /**
     * Sets whether this client keeps cluster locks whose names start with {@code namePrefix} after
     * its threads released them. By default ({@code true}) it does: the next {@code lock()} from any
     * of its threads is local, and another client's request recalls the lock. With {@code false},
     * the outermost {@code unlock()} of the last local holder gives the lock back in the same commit
     * as its changes: each critical section costs a grant and that commit, but the next holder
     * never waits for this client, which matters when this JVM dies: a lock it kept stays its own
     * until its session's lease ends. Suits locks another server usually takes next (a web or UI
     * session's lock behind a load balancer). Applies from each lock's next grant; at most 64
     * prefixes are set not to be kept.
     */
    public void setLocksKept(String namePrefix, boolean kept) {
        Native.setLocksKept(handle(), Objects.requireNonNull(namePrefix, "namePrefix"), kept);
    }

    /**
     * The cluster-wide read/write lock {@code name}: many readers or one writer. A read lock cannot be
     * upgraded to a write lock (the cluster refuses it rather than deadlock). It shares its name with
     * {@link #lock(String)}: {@code lock(n)} is {@code readWriteLock(n).writeLock()}.
     */
    public ReadWriteLock readWriteLock(String name) {
        return new ClusterReadWriteLock(this, Objects.requireNonNull(name, "name"));
    }

    /**
     * For the Sovereign agent, not for applications (they use {@code lock(name).newCondition()}): waits
     * on the condition of cluster lock {@code name} on behalf of the application thread whose
     * {@link Thread#getId()} is {@code threadId}, from another thread. It is {@link Condition#await}
     * for that thread: its changes commit, the lock is released completely, and on return (signalled,
     * or after {@code timeoutMs}; -1 waits without timeout) the thread holds it again with the same
     * hold count. The agent needs it because the application thread itself must sit in
     * {@link Object#wait()}, releasing its JVM monitor, while the cluster wait runs.
     *
     * @return whether it was signalled (false: the timeout passed)
     * @throws IllegalMonitorStateException if that thread does not hold the lock
     */
    public boolean awaitFor(long threadId, String name, long timeoutMs) {
        return Native.await(handle, threadId, Objects.requireNonNull(name, "name"), timeoutMs);
    }

    /**
     * Makes {@code refs} cached, with what they reach through at most {@code depth} references
     * (breadth-first, at most {@code maxObjects} objects in all, never fewer than {@code refs}), so
     * reading that graph afterwards costs no round trip per object. It walks through what the cache
     * (or the thread's uncommitted changes) already holds and reads everything it finds missing in
     * one round trip (per {@link #PREFETCH_OBJECTS_MAX} missing objects). Later reads of what was
     * prefetched come from the cache, which the cluster keeps current, so they see what a read
     * would have seen.
     *
     * @return how many objects were read; 0 means no round trip was made
     */
    public int prefetch(int depth, int maxObjects, HeapRef... refs) {
        return prefetch(depth, maxObjects, true, refs);
    }

    /**
     * As {@link #prefetch}, but only from the {@code refs} that are not cached: a ref the cache
     * holds costs nothing (not even a walk below it). For a caller that reads objects one by one
     * and wants each miss to bring in what lies below it.
     *
     * @return how many objects were read; 0 means no round trip was made
     */
    public int prefetchMissing(int depth, int maxObjects, HeapRef... refs) {
        return prefetch(depth, maxObjects, false, refs);
    }

    private int prefetch(int depth, int maxObjects, boolean walk, HeapRef... refs) {
        if (depth < 0 || maxObjects < 0) {
            throw new IllegalArgumentException("depth " + depth + " and maxObjects " + maxObjects + " must not be negative");
        }
        long[] ids = new long[refs.length];
        for (int i = 0; i < refs.length; i++) {
            ids[i] = own(refs[i]).id;
        }
        return Native.prefetch(handle, thread(), ids, depth, maxObjects, walk);
    }

    /**
     * Writes {@code count} entries in one call into the native library, as that many calls of
     * {@link HeapObject#set} (or {@link HeapMap#put} with a value) would, in order: entry
     * {@code keys[i]} of {@code targets[i]} becomes {@code values[i]}. While the thread holds a
     * cluster lock they join its pending changes, committed at the release; otherwise they are
     * committed together, atomically, before this returns. All or nothing: if one cannot be written
     * (a list as target, a value the heap cannot hold), none is.
     *
     * @throws HeapTypeException for a value type the heap cannot hold, before anything is written
     * @throws HeapRejectedException for more than {@link #SET_ALL_WRITES_MAX} writes
     */
    public void setAll(HeapRef[] targets, String[] keys, Object[] values, int count) {
        Objects.checkFromIndexSize(0, count, Math.min(targets.length, Math.min(keys.length, values.length)));
        if (count > SET_ALL_WRITES_MAX) {
            throw new HeapRejectedException(count + " writes in one setAll, more than the " + SET_ALL_WRITES_MAX
                    + " changes one lock's commit may hold; release the lock more often");
        }
        long[] ids = new long[count];
        int[] tags = new int[count];
        long[] bits = new long[count];
        String[] texts = new String[count];
        byte[][] blobs = null;
        for (int i = 0; i < count; i++) {
            ids[i] = own(targets[i]).id;
            Objects.requireNonNull(keys[i], "key");
            Object value = values[i];
            int tag = Values.tag(value);
            tags[i] = tag;
            bits[i] = Values.bits(value, tag);
            texts[i] = Values.text(value, tag);
            if (tag == Values.TAG_BYTES) {
                blobs = blobs != null ? blobs : new byte[count][];
                blobs[i] = Values.bytes(value, tag);
            }
        }
        Native.setMany(handle, thread(), ids, keys, tags, bits, texts, blobs, count);
    }

    /**
     * How many read requests this client has sent to the cluster (each attempt counted): the round
     * trips its reads cost, for tests and measurements. Reads answered from the cache cost none.
     */
    public long readRequests() {
        return Native.readRequests(handle);
    }

    /** {@code ref}, checked to be a handle of this client (a batch cannot mix clients). */
    private HeapRef own(HeapRef ref) {
        if (Objects.requireNonNull(ref, "ref").client != this) {
            throw new IllegalArgumentException(ref + " belongs to another client; batch only this client's handles");
        }
        return ref;
    }

    /** How many objects this client holds in its cache (for monitoring and tests). */
    public long cachedObjects() {
        return Native.cachedObjects(handle);
    }

    /** The endpoints this client was connected with. */
    public String endpoints() {
        return endpoints;
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Closes the session: locks this client's threads hold are released (uncommitted changes made
     * under them are dropped), and every later call fails with {@link HeapClosedException}. Calls
     * blocked in other threads return with that exception. Closing twice is harmless.
     */
    @Override
    public void close() {
        closed = true;
        closer.clean();
    }

    long handle() {
        return handle;
    }

    /**
     * Pins {@code id} for {@code owner} (unless {@code pinned}: the native call already did) and
     * unpins it once {@code owner} is unreachable. The action captures the two numbers only: a
     * reference to the owner would keep it reachable forever. After {@link #close()} the unpin finds
     * no client and does nothing.
     */
    void track(HeapRef owner, long id, boolean pinned) {
        long handle = this.handle;
        if (!pinned) {
            Native.pin(handle, id);
        }
        CLEANER.register(owner, () -> Native.unpin(handle, id));
    }

    /**
     * The heap thread id cluster locks and pending changes are kept under: the one the calling
     * thread acts as ({@link #actingAs}), else the calling Java thread's.
     */
    static long thread() {
        Long actingAs = ACTING_AS.get();
        return actingAs != null ? actingAs : Thread.currentThread().getId();
    }

    /** The Java value for what the native library returned: a {@link Ref} becomes a typed handle. */
    Object wrap(Object value) {
        if (!(value instanceof Ref)) {
            return value;
        }
        Ref ref = (Ref) value;
        switch (ref.kind) {
            case KIND_FIELDS:
                return new HeapObject(this, ref.id, NOT_PINNED);
            case KIND_MAP:
                return new HeapMap(this, ref.id, NOT_PINNED);
            case KIND_LIST:
                return new HeapList(this, ref.id, NOT_PINNED);
            default:
                throw new HeapException("unknown object kind " + ref.kind + " for object " + ref.id
                        + "; the jar and its native library do not match");
        }
    }

    @Override
    public String toString() {
        return "HeapClient[" + endpoints + (closed ? ", closed" : "") + "]";
    }
}
