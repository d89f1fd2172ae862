package org.sovereign.rap;

import jakarta.servlet.ServletContext;

/**
 * A UI session as this server runs it: RAP's UI session (with its UI thread) inside a local HTTP
 * session, the cid RAP gave it here (the browser's own cid when it started here, another one when
 * it was rebuilt here), and how many of the journal's requests it has run. Used only under the UI
 * session's cluster lock, so by one request at a time.
 */
final class LocalUiSession {
    private String cid;
    private final LocalHttpSession http;
    private String localCid;
    private int applied;
    private volatile long lastUsedMs;

    LocalUiSession(ServletContext context) {
        this.http = new LocalHttpSession(context);
        this.lastUsedMs = System.currentTimeMillis();
    }

    /** The browser's cid of this UI session; null until RAP named it (its first request here). */
    String cid() {
        return cid;
    }

    void setCid(String cid) {
        this.cid = cid;
    }

    LocalHttpSession http() {
        return http;
    }

    /** RAP's cid for this UI session on this server; null until its first request ran here. */
    String localCid() {
        return localCid;
    }

    void setLocalCid(String localCid) {
        this.localCid = localCid;
    }

    /** The journal's requests this UI session has run here (live or replayed). */
    int applied() {
        return applied;
    }

    void setApplied(int applied) {
        this.applied = applied;
    }

    long lastUsedMs() {
        return lastUsedMs;
    }

    void touch() {
        lastUsedMs = System.currentTimeMillis();
        http.touch();
    }

    /** Whether RAP still runs it (an error in RAP or an idle sweep may have ended it). */
    boolean running() {
        return http.isValid();
    }

    /** Ends RAP's UI session here (its UI thread stops); the journal is not touched. */
    void end() {
        if (http.isValid()) {
            try {
                http.invalidate();
            } catch (IllegalStateException alreadyInvalidated) {
                // Ended concurrently: nothing left to do.
            }
        }
    }
}
