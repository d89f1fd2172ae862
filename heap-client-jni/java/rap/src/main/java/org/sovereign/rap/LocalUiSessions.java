package org.sovereign.rap;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The UI sessions this server runs, by the browser's cid: at most
 * {@link RapLimits#LOCAL_UI_SESSIONS_MAX}, the least recently used ended beyond that. Ending one here
 * loses nothing: its journal is on the heap and its next request rebuilds it.
 */
final class LocalUiSessions {
    private final int capacity;
    private final LinkedHashMap<String, LocalUiSession> sessions = new LinkedHashMap<>(16, 0.75f, true);

    LocalUiSessions(int capacity) {
        this.capacity = capacity;
    }

    synchronized LocalUiSession get(String cid) {
        return sessions.get(cid);
    }

    /** Adds or replaces {@code cid}'s session; ends the one it replaces and any beyond capacity. */
    void put(LocalUiSession session) {
        List<LocalUiSession> ended = new ArrayList<>();
        synchronized (this) {
            LocalUiSession old = sessions.put(session.cid(), session);
            if (old != null && old != session) {
                ended.add(old);
            }
            while (sessions.size() > capacity) {
                Map.Entry<String, LocalUiSession> eldest = sessions.entrySet().iterator().next();
                sessions.remove(eldest.getKey());
                ended.add(eldest.getValue());
            }
        }
        ended.forEach(LocalUiSession::end);
    }

    /** Removes and ends {@code cid}'s session, if this server runs it. */
    void end(String cid) {
        LocalUiSession session;
        synchronized (this) {
            session = sessions.remove(cid);
        }
        if (session != null) {
            session.end();
        }
    }

    /** Removes and ends every session unused since {@code idleSinceMs}; returns how many. */
    int endIdle(long idleSinceMs) {
        List<LocalUiSession> idle = new ArrayList<>();
        synchronized (this) {
            sessions.values().removeIf(session -> {
                boolean isIdle = session.lastUsedMs() < idleSinceMs;
                if (isIdle) {
                    idle.add(session);
                }
                return isIdle;
            });
        }
        idle.forEach(LocalUiSession::end);
        return idle.size();
    }

    /** Ends every session (the web application stops). */
    void endAll() {
        List<LocalUiSession> all;
        synchronized (this) {
            all = new ArrayList<>(sessions.values());
            sessions.clear();
        }
        all.forEach(LocalUiSession::end);
    }

    synchronized int size() {
        return sessions.size();
    }
}
