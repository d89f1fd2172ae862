package org.sovereign.rap;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.sovereign.heap.HeapClient;

/**
 * Ends a UI session everywhere: unlinks its journal (the heap's collector frees it) under its
 * cluster lock, and ends this server's copy; the other servers' copies find the journal gone on
 * their next request (RAP's "session timeout") or are ended by their idle sweep.
 */
final class UiSessionEnder {
    private static final Logger LOG = Logger.getLogger(UiSessionEnder.class.getName());
    /** An idle sweep does not queue behind a request: it tries again next sweep. */
    private static final long SWEEP_LOCK_WAIT_MS = 0;

    private final Recorder recorder;
    private final String cid;

    UiSessionEnder(Recorder recorder, String cid) {
        this.recorder = recorder;
        this.cid = cid;
    }

    /** Ends it now (the page was closed), taking its lock as a heap thread of its own. */
    void end(String why) {
        recorder.sessions().end(cid);
        long thread = HeapClient.newHeapThreadId();
        Lock lock = recorder.journal().lock(cid);
        HeapClient.actingAs(thread, () -> {
            lock.lock();
            try {
                recorder.journal().delete(cid);
            } finally {
                lock.unlock();
            }
        });
        LOG.info(() -> "sovereign-rap: UI session " + cid + " ended: " + why);
    }

    /** Ends it from a request that holds its lock, as that request's heap thread: the journal is
     *  unlinked in the request's commit. */
    void endHoldingLock(String why) {
        recorder.sessions().end(cid);
        recorder.journal().delete(cid);
        LOG.warning(() -> "sovereign-rap: UI session " + cid + " ended: " + why);
    }

    /** Ends it if it is still idle (checked again under its lock). */
    void endIfIdle(long nowMs) {
        long thread = HeapClient.newHeapThreadId();
        Lock lock = recorder.journal().lock(cid);
        HeapClient.actingAs(thread, () -> {
            boolean locked;
            try {
                locked = lock.tryLock(SWEEP_LOCK_WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (!locked) {
                return;
            }
            try {
                if (recorder.journal().idle(cid, nowMs, recorder.config().idleTimeoutMs())) {
                    recorder.journal().delete(cid);
                    LOG.log(Level.INFO, "sovereign-rap: UI session {0} ended: idle for more than {1} ms",
                            new Object[] {cid, recorder.config().idleTimeoutMs()});
                }
            } finally {
                lock.unlock();
            }
        });
        recorder.sessions().end(cid);
    }
}
