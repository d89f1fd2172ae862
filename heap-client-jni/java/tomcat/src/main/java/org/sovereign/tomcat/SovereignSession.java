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
 * place without {@code setAttribute} is saved too. With the Sovereign agent in the JVM
 * ({@link AgentGraphs}), an instrumented object or a java.util collection is stored as a shared
 * graph instead, referenced from the attribute map: its changes in place are heap changes of the
 * request, with nothing to compare. It never expires itself: expiry is decided on the heap, under
 * the session's cluster lock, by {@link SovereignSessionManager}.
 */
public class SovereignSession extends StandardSession {
    private static final long serialVersionUID = 1L;

    /** The heap object this session is a copy of; null once removed (so the collector may free it). */
    private transient volatile HeapObject heapObject;
    /**
     * Each attribute as the heap holds it (as of the last refresh or save): its serialized bytes, or
     * the heap id (a Long) of its graph.
     */
    private transient Map<String, Object> saved = new HashMap<>();
    /**
     * Whether the local attribute values are exactly what {@link #saved} encodes (false after a
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
     * Checks that {@code value} can be stored on the heap (as a graph, with the agent; else
     * serialized) before setting it.
     *
     * @throws IllegalArgumentException naming the attribute and the type that is not serializable
     */
    @Override
    public void setAttribute(String name, Object value, boolean notify) {
        if (value != null && !isGraph(name, value)) {
            AttributeCodec.encode(name, value);
        }
        super.setAttribute(name, value, notify);
    }

    private boolean isGraph(String name, Object value) {
        SovereignSessionManager owner = (SovereignSessionManager) manager;
        AgentGraphs graphs = owner.graphs();
        return graphs != null && graphs.isGraph(name, value, owner.webappClassLoader());
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
        saved = new HashMap<>();
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
     * (decoded with {@code loader}, the web application's); an unchanged value keeps its Java
     * instance. A graph attribute is the agent's instance of it ({@code graphs}: null without the
     * agent), which the caller refreshed when it took the lock.
     *
     * @throws IllegalStateException for a graph attribute on a Tomcat without the agent
     */
    synchronized void refresh(HeapObject object, ClassLoader loader, AgentGraphs graphs) {
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
        Map<String, Object> next = new HashMap<>();
        for (Map.Entry<String, Object> entry : heapValues.entrySet()) {
            String name = entry.getKey();
            if (entry.getValue() instanceof HeapObject) {
                HeapObject graph = (HeapObject) entry.getValue();
                if (graphs == null) {
                    throw new IllegalStateException("session attribute '" + name + "' is a shared graph, stored by a "
                            + "Tomcat running the Sovereign agent; run every Tomcat of this application with the agent");
                }
                next.put(name, graph.id());
                attributes.put(name, graphs.load(name, graph, loader));
                continue;
            }
            if (!(entry.getValue() instanceof byte[])) {
                continue; // not written by this manager: leave it alone
            }
            byte[] bytes = (byte[]) entry.getValue();
            next.put(name, bytes);
            boolean unchanged = valuesMatchSaved && attributes.containsKey(name) && saved.get(name) instanceof byte[]
                    && Arrays.equals((byte[]) saved.get(name), bytes);
            if (!unchanged) {
                attributes.put(name, AttributeCodec.decode(name, bytes, loader));
            }
        }
        saved = next;
        valuesMatchSaved = true;
        heapObject = object;
        isValid = true;
        isNew = false;
    }

    /**
     * Writes what changed to the heap object (under the caller's write lock, so it commits with the
     * lock's release): every attribute whose serialized bytes differ from the heap's, a graph
     * attribute not yet referenced (shared now: {@code graphs}, null without the agent), removals,
     * and the access time and expiry deadline as of {@code nowMs}. Everything is serialized before
     * anything is written, so a value that cannot be serialized changes nothing.
     */
    synchronized void save(long nowMs, AgentGraphs graphs, ClassLoader loader) {
        HeapObject object = heapObject;
        if (object == null) {
            return;
        }
        Map<String, Object> current = new HashMap<>();
        for (Map.Entry<String, Object> entry : attributes.entrySet()) {
            if (graphs == null || !graphs.isGraph(entry.getKey(), entry.getValue(), loader)) {
                current.put(entry.getKey(), AttributeCodec.encode(entry.getKey(), entry.getValue()));
            }
        }
        HeapMap heapAttributes = object.getMap(SessionStore.ATTRIBUTES);
        for (Map.Entry<String, Object> entry : attributes.entrySet()) {
            if (!current.containsKey(entry.getKey())) {
                saveGraph(entry, object, heapAttributes, current, graphs, loader);
            }
        }
        for (Map.Entry<String, Object> entry : current.entrySet()) {
            if (entry.getValue() instanceof byte[] && !(saved.get(entry.getKey()) instanceof byte[]
                    && Arrays.equals((byte[]) saved.get(entry.getKey()), (byte[]) entry.getValue()))) {
                heapAttributes.put(entry.getKey(), entry.getValue());
            }
        }
        for (String name : saved.keySet()) {
            if (!current.containsKey(name)) {
                heapAttributes.remove(name);
            }
        }
        lastAccessedTime = nowMs;
        thisAccessedTime = nowMs;
        object.set(SessionStore.LAST_ACCESSED_TIME_MS, nowMs);
        object.set(SessionStore.MAX_INACTIVE_INTERVAL_S, (long) maxInactiveInterval);
        object.set(SessionStore.EXPIRES_AT_MS, SessionStore.expiresAtMs(nowMs, maxInactiveInterval));
        saved = current;
        valuesMatchSaved = true;
    }

    /**
     * Shares the value of graph attribute {@code entry} into this session's graph (nothing when it
     * is already) and references it from the attribute map unless it is already; a plain
     * collection is replaced by its shared copy, which the attribute holds from now on.
     */
    private void saveGraph(Map.Entry<String, Object> entry, HeapObject object, HeapMap heapAttributes,
            Map<String, Object> current, AgentGraphs graphs, ClassLoader loader) {
        String name = entry.getKey();
        var shared = graphs.share(name, entry.getValue(), object, loader);
        if (shared.value() != entry.getValue()) {
            entry.setValue(shared.value());
        }
        long id = shared.heap().id();
        if (!Long.valueOf(id).equals(saved.get(name))) {
            heapAttributes.put(name, shared.heap());
        }
        current.put(name, id);
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
