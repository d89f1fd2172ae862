package org.sovereign.tomcat;

import java.util.Map;
import java.util.concurrent.locks.Lock;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapMap;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapRef;

/**
 * Where one web application's sessions live on the heap: a root map from session id to a session
 * object (class {@value #SESSION_CLASS}) whose fields are the session's times and whose
 * {@value #ATTRIBUTES} field is a map from attribute name to the value's serialized bytes; and the
 * cluster lock that guards each session. Unlinking a session from the root map is what deletes it:
 * the heap's collector frees the object and its attribute map once no Tomcat holds them.
 */
final class SessionStore {
    static final String SESSION_CLASS = "sovereign.tomcat.Session";
    static final String CREATION_TIME_MS = "creationTimeMs";
    static final String LAST_ACCESSED_TIME_MS = "lastAccessedTimeMs";
    static final String MAX_INACTIVE_INTERVAL_S = "maxInactiveIntervalS";
    /** When the session expires (ms since the epoch, as the writing Tomcat's clock saw it); 0: never. */
    static final String EXPIRES_AT_MS = "expiresAtMs";
    static final String ATTRIBUTES = "attributes";
    /**
     * Most sessions one expiry scan reads in one call: {@code toMap} reads the whole root map, so the
     * scan's memory is bounded by what the heap holds; this bounds the session objects prefetched.
     */
    static final int SCAN_SESSIONS_MAX = 100_000;

    private final HeapClient client;
    private final String rootName;
    private final String lockPrefix;
    private volatile HeapMap sessions;

    SessionStore(HeapClient client, String rootName) {
        this.client = client;
        this.rootName = rootName;
        this.lockPrefix = rootName + ":lock:";
    }

    String rootName() {
        return rootName;
    }

    /** The prefix of every session lock's name: the root's name and {@code :lock:}. */
    String lockPrefix() {
        return lockPrefix;
    }

    private HeapMap sessions() {
        HeapMap map = sessions;
        if (map == null) {
            map = client.rootMap(rootName);
            sessions = map;
        }
        return map;
    }

    /** The cluster write lock of session {@code id}: one request (or one expiry) at a time. */
    Lock writeLock(String id) {
        return client.readWriteLock(lockPrefix + id).writeLock();
    }

    /** The cluster read lock of session {@code id}: requests that only read, side by side. */
    Lock readLock(String id) {
        return client.readWriteLock(lockPrefix + id).readLock();
    }

    /** The session object of {@code id}, or null when there is no such session. */
    HeapObject find(String id) {
        Object value = sessions().get(id);
        return value instanceof HeapObject ? (HeapObject) value : null;
    }

    /** Links a new session object under {@code id}, with an empty attribute map. */
    HeapObject create(String id, long creationTimeMs, int maxInactiveIntervalS) {
        HeapObject session = client.newObject(SESSION_CLASS);
        session.set(CREATION_TIME_MS, creationTimeMs);
        session.set(LAST_ACCESSED_TIME_MS, creationTimeMs);
        session.set(MAX_INACTIVE_INTERVAL_S, (long) maxInactiveIntervalS);
        session.set(EXPIRES_AT_MS, expiresAtMs(creationTimeMs, maxInactiveIntervalS));
        session.set(ATTRIBUTES, client.newMap());
        sessions().put(id, session);
        return session;
    }

    /** Unlinks session {@code id}: nothing finds it again, and the collector frees its objects. */
    void remove(String id) {
        sessions().remove(id);
    }

    /** Moves the session object from {@code oldId} to {@code newId}, attributes and all. */
    void rename(String oldId, String newId) {
        HeapObject session = find(oldId);
        if (session == null) {
            return;
        }
        sessions().put(newId, session);
        sessions().remove(oldId);
    }

    /**
     * Writes a session's access time and deadline in one commit, outside any lock (after a
     * read-locked request).
     */
    void touch(HeapObject session, long nowMs, int maxInactiveIntervalS) {
        client.setAll(new HeapRef[] {session, session}, new String[] {LAST_ACCESSED_TIME_MS, EXPIRES_AT_MS},
                new Object[] {nowMs, expiresAtMs(nowMs, maxInactiveIntervalS)}, 2);
    }

    /** Every session: id to session object, the objects read in the same round trip. */
    Map<String, Object> all() {
        return sessions().toMap(1, SCAN_SESSIONS_MAX);
    }

    /** The expiry deadline of a session last accessed at {@code lastAccessedTimeMs}; 0 for never. */
    static long expiresAtMs(long lastAccessedTimeMs, int maxInactiveIntervalS) {
        return maxInactiveIntervalS > 0 ? lastAccessedTimeMs + maxInactiveIntervalS * 1000L : 0L;
    }
}
