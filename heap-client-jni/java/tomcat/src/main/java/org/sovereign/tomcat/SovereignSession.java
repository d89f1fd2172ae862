package org.sovereign.tomcat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.catalina.Manager;
import org.apache.catalina.session.StandardSession;
import org.sovereign.heap.HeapMap;
import org.sovereign.heap.HeapObject;

/**
 * A Tomcat session whose state is a copy of its heap object: loaded from the heap when a request
 * takes its lock ({@link #refresh}) and written back at the request's end ({@link #save}), where
 * each attribute is serialized and compared with the bytes the heap holds, so a value changed in
 * place without {@code setAttribute} is saved too. It never expires itself: expiry is decided on the
 * heap, under the session's cluster lock, by {@link SovereignSessionManager}.
 */
public class SovereignSession extends StandardSession {
    private static final long serialVersionUID = 1L;

    /** The heap object this session is a copy of; null once removed (so the collector may free it). */
    private transient volatile HeapObject heapObject;
    /** Attribute bytes as the heap holds them (as of the last refresh or save). */
    private transient Map<String, byte[]> savedBytes = new HashMap<>();
    /**
     * Whether the local attribute values are exactly what {@link #savedBytes} encode (false after a
     * request that did not save, which may have changed values in place): if not, refresh decodes all.
     */
    private transient boolean valuesMatchSaved;
    /** Claimed by this node's expiry scan: already unlinked from the heap (see {@link #expireClaimed}). */
    private transient volatile boolean claimed;

    public SovereignSession(Manager manager) {
        super(manager);
    }

    /**
     * Only the heap decides expiry (exactly once, cluster-wide), so unlike {@link StandardSession}
     * this never expires the session by itself: it says whether it was invalidated.
     */
    @Override
    public boolean isValid() {
        return this.isValid;
    }

    /**
     * Checks that {@code value} can be stored on the heap (serialized) before setting it.
     *
     * @throws IllegalArgumentException naming the attribute and the type that is not serializable
     */
    @Override
    public void setAttribute(String name, Object value, boolean notify) {
        if (value != null) {
            AttributeCodec.encode(name, value);
        }
        super.setAttribute(name, value, notify);
    }

    boolean isExpiringNow() {
        return expiring;
    }

    /** Whether the expiry scan claimed this session: unlinked from the heap, listeners still to fire. */
    boolean isClaimed() {
        return claimed;
    }

    /**
     * Fires {@code sessionDestroyed} (and the attributes' unbinding) for a session this node
     * claimed, that is, already unlinked from the heap in a committed change.
     */
    void expireClaimed() {
        claimed = true;
        expire(true);
    }

    /** Whether the heap's deadline (as of the last refresh) is at or before {@code nowMs}. */
    boolean isPastDeadline(long nowMs) {
        long expiresAtMs = expiresAtMs();
        return expiresAtMs > 0 && expiresAtMs <= nowMs;
    }

    HeapObject heapObject() {
        return heapObject;
    }

    /** Links this session to its new heap object (no attributes yet). */
    synchronized void attach(HeapObject object) {
        heapObject = object;
        savedBytes = new HashMap<>();
        valuesMatchSaved = attributes.isEmpty();
    }

    /** Forgets the heap object: the session was removed from the heap. */
    void detach() {
        heapObject = null;
    }

    /** The deadline the heap holds (ms since the epoch; 0: never), as of the last refresh or save. */
    long expiresAtMs() {
        return SessionStore.expiresAtMs(lastAccessedTime, maxInactiveInterval);
    }

    /**
     * Makes this session a copy of {@code object}: times, and the attributes whose bytes changed
     * (decoded with {@code loader}, the web application's); an unchanged value keeps its Java instance.
     */
    synchronized void refresh(HeapObject object, ClassLoader loader) {
        Map<String, Object> fields = object.fields();
        creationTime = longField(fields, SessionStore.CREATION_TIME_MS);
        lastAccessedTime = longField(fields, SessionStore.LAST_ACCESSED_TIME_MS);
        thisAccessedTime = lastAccessedTime;
        maxInactiveInterval = (int) longField(fields, SessionStore.MAX_INACTIVE_INTERVAL_S);
        Object attributesRef = fields.get(SessionStore.ATTRIBUTES);
        Map<String, Object> heapValues = attributesRef instanceof HeapMap ? ((HeapMap) attributesRef).toMap() : Map.of();
        for (String name : new ArrayList<>(attributes.keySet())) {
            if (!heapValues.containsKey(name)) {
                attributes.remove(name);
            }
        }
        Map<String, byte[]> next = new HashMap<>();
        for (Map.Entry<String, Object> entry : heapValues.entrySet()) {
            String name = entry.getKey();
            if (!(entry.getValue() instanceof byte[])) {
                continue; // not written by this manager: leave it alone
            }
            byte[] bytes = (byte[]) entry.getValue();
            next.put(name, bytes);
            boolean unchanged = valuesMatchSaved && attributes.containsKey(name)
                    && Arrays.equals(savedBytes.get(name), bytes);
            if (!unchanged) {
                attributes.put(name, AttributeCodec.decode(name, bytes, loader));
            }
        }
        savedBytes = next;
        valuesMatchSaved = true;
        heapObject = object;
        isValid = true;
        isNew = false;
    }

    /**
     * Writes what changed to the heap object (under the caller's write lock, so it commits with the
     * lock's release): every attribute whose serialized bytes differ from the heap's, removals, and
     * the access time and expiry deadline as of {@code nowMs}. Everything is serialized before
     * anything is written, so a value that cannot be serialized changes nothing.
     */
    synchronized void save(long nowMs) {
        HeapObject object = heapObject;
        if (object == null) {
            return;
        }
        Map<String, byte[]> current = new HashMap<>();
        for (Map.Entry<String, Object> entry : attributes.entrySet()) {
            current.put(entry.getKey(), AttributeCodec.encode(entry.getKey(), entry.getValue()));
        }
        HeapMap heapAttributes = object.getMap(SessionStore.ATTRIBUTES);
        for (Map.Entry<String, byte[]> entry : current.entrySet()) {
            if (!Arrays.equals(savedBytes.get(entry.getKey()), entry.getValue())) {
                heapAttributes.put(entry.getKey(), entry.getValue());
            }
        }
        for (String name : savedBytes.keySet()) {
            if (!current.containsKey(name)) {
                heapAttributes.remove(name);
            }
        }
        lastAccessedTime = nowMs;
        thisAccessedTime = nowMs;
        object.set(SessionStore.LAST_ACCESSED_TIME_MS, nowMs);
        object.set(SessionStore.MAX_INACTIVE_INTERVAL_S, (long) maxInactiveInterval);
        object.set(SessionStore.EXPIRES_AT_MS, SessionStore.expiresAtMs(nowMs, maxInactiveInterval));
        savedBytes = current;
        valuesMatchSaved = true;
    }

    /** A request that did not save may have changed values in place: the next refresh decodes all. */
    synchronized void forgetLocalValues() {
        valuesMatchSaved = false;
    }

    private static long longField(Map<String, Object> fields, String name) {
        Object value = fields.get(name);
        return value instanceof Long ? (Long) value : 0L;
    }
}
