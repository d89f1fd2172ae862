package org.sovereign.tomcat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import org.sovereign.heap.HeapObject;

/**
 * What one request (or one expiry) holds on the heap, for the thread that runs it: the session
 * locks it took, which session ids its write locks cover (a session created or renamed under a held
 * write lock is covered by it), and the sessions it loaded or created, to save at its end.
 */
final class RequestScope {
    /**
     * Most locks one scope takes: the requested session's and, when a new session is created under a
     * read lock or with none, the new one's.
     */
    static final int LOCKS_MAX = 2;

    final LockMode mode;
    /** Lock per session id, in the order taken; released in reverse order. */
    private final Map<String, Lock> locks = new LinkedHashMap<>();
    private final Set<String> writeCovered = new HashSet<>();
    private final Set<String> loaded = new HashSet<>();
    private final List<SovereignSession> touched = new ArrayList<>();
    /** Session ids this scope loaded, created or renamed to: its node's copies of them are in use. */
    private final Set<String> used = new HashSet<>();
    /** Session objects whose graphs the agent was told this scope holds (with the agent only). */
    private final List<HeapObject> entered = new ArrayList<>();

    RequestScope(LockMode mode) {
        this.mode = mode;
    }

    void hold(String id, Lock lock, boolean write) {
        assert !locks.containsKey(id) : "session " + id + " locked twice in one request";
        if (locks.size() >= LOCKS_MAX) {
            throw new IllegalStateException("one request took " + LOCKS_MAX + " session locks already; please report it");
        }
        locks.put(id, lock);
        if (write) {
            writeCovered.add(id);
        }
    }

    /** Marks session {@code id} used by this scope; false if it was already. */
    boolean use(String id) {
        return used.add(id);
    }

    Set<String> used() {
        return used;
    }

    /** Whether this scope holds a lock of session {@code id} (read or write) or covers it. */
    boolean holds(String id) {
        return locks.containsKey(id) || writeCovered.contains(id);
    }

    /** Records that the agent was told of {@code session}'s lock; false if it was already. */
    boolean entered(HeapObject session) {
        for (HeapObject known : entered) {
            if (known.id() == session.id()) {
                return false;
            }
        }
        entered.add(session);
        return true;
    }

    List<HeapObject> entered() {
        return entered;
    }

    boolean holdsAnyWrite() {
        return !writeCovered.isEmpty();
    }

    /** Whether changes to session {@code id} made now commit atomically with this scope's release. */
    boolean coversWrite(String id) {
        return writeCovered.contains(id);
    }

    /** Session {@code id} is written under the write lock this scope already holds. */
    void cover(String id) {
        assert holdsAnyWrite() : "covering " + id + " without a write lock";
        writeCovered.add(id);
    }

    boolean isLoaded(String id) {
        return loaded.contains(id);
    }

    void loaded(String id, SovereignSession session) {
        loaded.add(id);
        if (!touched.contains(session)) {
            touched.add(session);
        }
    }

    List<SovereignSession> touched() {
        return touched;
    }

    /** Releases the locks, last taken first; the outermost release commits the thread's writes. */
    void release() {
        List<Lock> taken = new ArrayList<>(locks.values());
        locks.clear();
        RuntimeException first = null;
        for (int i = taken.size() - 1; i >= 0; i--) {
            try {
                taken.get(i).unlock();
            } catch (RuntimeException e) {
                // Keep releasing: a lock left held would block the session cluster-wide until the lease ends.
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
