package org.sovereign.rap;

import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpSessionBindingEvent;
import jakarta.servlet.http.HttpSessionBindingListener;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The HTTP session RAP sees for one UI session on this server: in memory, never shared, one per UI
 * session. RAP keeps its UI session (not serializable: widgets, a UI thread) as an attribute of the
 * HTTP session; the browser's cookie cannot name it, since under round-robin the next request lands
 * on another server that never saw that cookie, so the recording servlet hands RAP this session by
 * the UI session's cid instead. Invalidating it ends RAP's UI session (its binding listener stops the
 * UI thread).
 */
final class LocalHttpSession implements HttpSession {
    private final ServletContext context;
    private final String id = UUID.randomUUID().toString();
    private final long creationTimeMs = System.currentTimeMillis();
    private final Map<String, Object> attributes = new LinkedHashMap<>();
    private volatile long lastAccessedTimeMs = creationTimeMs;
    private volatile int maxInactiveIntervalSeconds;
    private volatile boolean valid = true;
    /** The request RAP runs for this UI session now (live or replayed), for {@link Recorded}. */
    private volatile RecordingContext recording;

    LocalHttpSession(ServletContext context) {
        this.context = context;
    }

    RecordingContext recording() {
        return recording;
    }

    void setRecording(RecordingContext recording) {
        this.recording = recording;
    }

    void touch() {
        lastAccessedTimeMs = System.currentTimeMillis();
    }

    @Override
    public long getCreationTime() {
        checkValid();
        return creationTimeMs;
    }

    @Override
    public String getId() {
        return id;
    }

    @Override
    public long getLastAccessedTime() {
        checkValid();
        return lastAccessedTimeMs;
    }

    @Override
    public ServletContext getServletContext() {
        return context;
    }

    /** Recorded but not enforced: the library ends idle UI sessions itself (idleTimeoutMs). */
    @Override
    public void setMaxInactiveInterval(int intervalSeconds) {
        maxInactiveIntervalSeconds = intervalSeconds;
    }

    @Override
    public int getMaxInactiveInterval() {
        return maxInactiveIntervalSeconds;
    }

    @Override
    public synchronized Object getAttribute(String name) {
        checkValid();
        return attributes.get(name);
    }

    @Override
    public synchronized Enumeration<String> getAttributeNames() {
        checkValid();
        return Collections.enumeration(List.copyOf(attributes.keySet()));
    }

    @Override
    public void setAttribute(String name, Object value) {
        if (value == null) {
            removeAttribute(name);
            return;
        }
        Object old;
        synchronized (this) {
            checkValid();
            old = attributes.put(name, value);
        }
        if (old != value) {
            if (value instanceof HttpSessionBindingListener listener) {
                listener.valueBound(new HttpSessionBindingEvent(this, name, value));
            }
            unbound(name, old);
        }
    }

    @Override
    public void removeAttribute(String name) {
        Object old;
        synchronized (this) {
            checkValid();
            old = attributes.remove(name);
        }
        unbound(name, old);
    }

    @Override
    public void invalidate() {
        Map<String, Object> removed;
        synchronized (this) {
            checkValid();
            valid = false;
            removed = new LinkedHashMap<>(attributes);
            attributes.clear();
        }
        removed.forEach(this::unbound);
    }

    boolean isValid() {
        return valid;
    }

    @Override
    public boolean isNew() {
        checkValid();
        return false;
    }

    private void unbound(String name, Object old) {
        if (old instanceof HttpSessionBindingListener listener) {
            listener.valueUnbound(new HttpSessionBindingEvent(this, name, old));
        }
    }

    private void checkValid() {
        if (!valid) {
            throw new IllegalStateException("this UI session's local HTTP session " + id + " was invalidated");
        }
    }
}
