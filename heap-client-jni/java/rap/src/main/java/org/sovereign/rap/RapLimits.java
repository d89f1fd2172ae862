package org.sovereign.rap;

/** Every bound of the RAP recording library in one place, with why it is what it is. */
final class RapLimits {
    /** Requests one UI session may record; beyond it the session ends with a clear message
     *  (a journal is replayed whole at failover, so its length bounds the pause). Default of the
     *  {@code sovereign.rap.journalRequestsMax} context parameter. */
    static final int JOURNAL_REQUESTS_MAX_DEFAULT = 10_000;

    /** The most a deployment may configure: a replay of this many requests takes minutes. */
    static final int JOURNAL_REQUESTS_MAX_LIMIT = 100_000;

    /** Entries per journal chunk on the heap: a heap object holds at most 1 MiB, so entries are
     *  stored in chunks that catching up reads a few at a time. */
    static final int ENTRIES_PER_CHUNK = 32;

    /** One recorded request (its JSON body and the values its UI code recorded), encoded; 32 such
     *  entries fit a chunk under the heap's 1 MiB object limit. */
    static final int ENTRY_BYTES_MAX = 30 * 1024;

    /** The last response kept for a retried request; a larger one is not kept, and a retry of that
     *  request then ends the UI session with a message. */
    static final int LAST_RESPONSE_BYTES_MAX = 512 * 1024;

    /** A UI request body read into memory; RAP's UI messages are small (file uploads go through
     *  service handlers, which are not recorded). */
    static final int REQUEST_BYTES_MAX = ENTRY_BYTES_MAX;

    /** Values one request may record with {@link Recorded#once}/{@link Recorded#input}. */
    static final int VALUES_PER_REQUEST_MAX = 64;

    /** UI sessions this server keeps running; the least recently used one beyond it is ended here
     *  (its journal stays: its next request rebuilds it). */
    static final int LOCAL_UI_SESSIONS_MAX = 2_000;

    /** A UI session idle this long loses its journal on the heap and its local copy (default of the
     *  {@code sovereign.rap.idleTimeoutMs} context parameter; RAP's own default HTTP session
     *  timeout is 30 minutes too). */
    static final long IDLE_TIMEOUT_MS_DEFAULT = 30 * 60_000L;

    /** The shortest idle timeout a deployment may configure (tests use a few seconds). */
    static final long IDLE_TIMEOUT_MS_MIN = 1_000L;

    /** How often a server looks for idle UI sessions (its own copies and the journals): half the
     *  idle timeout, within these bounds, so a UI session is gone at most 1.5 timeouts after its
     *  last request. */
    static final long SWEEP_INTERVAL_MS_MIN = 500L;
    static final long SWEEP_INTERVAL_MS_MAX = 10_000L;

    /** The sweep interval for an idle timeout. */
    static long sweepIntervalMs(long idleTimeoutMs) {
        return Math.max(SWEEP_INTERVAL_MS_MIN, Math.min(SWEEP_INTERVAL_MS_MAX, idleTimeoutMs / 2));
    }

    /** Journals one sweep may delete, so a sweep is a bounded commit. */
    static final int SWEEP_DELETES_MAX = 256;

    /** How long a request waits for its UI session's cluster lock (held by a request on another
     *  server, or by a server that died until its heap lease ends). */
    static final long UI_LOCK_WAIT_MS = 30_000L;

    /** The heap client's session lease: a server that dies holding a UI session's lock (in the
     *  middle of a request, or kept from its previous request) holds it this long at most, which
     *  bounds that failover's pause. A server whose stall outlived it (2 s did, in the browser tests
     *  beside a CI run; 3 s once, while Chromium's first start took the machine for 40 s) connects a
     *  new session and runs the request again ({@link Recorder#reconnectAfter}). */
    static final long HEAP_SESSION_TTL_MS = 3_000L;

    private RapLimits() {
    }
}
