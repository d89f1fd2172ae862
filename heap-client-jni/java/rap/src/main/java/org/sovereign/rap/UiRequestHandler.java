package org.sovereign.rap;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapException;
import org.sovereign.heap.HeapSessionEndedException;

/**
 * One UI request through the recorder. A new UI session runs here and its journal is created with
 * its first request. A request of an existing UI session runs under that UI session's cluster lock:
 * answered from the journal if it is a retry, else run on this server's copy of the UI session
 * (rebuilt or caught up by replaying the journal first), recorded, and committed with its effects
 * before the browser gets the response. All of the request's heap work acts as one heap thread.
 */
final class UiRequestHandler {
    private static final Logger LOG = Logger.getLogger(UiRequestHandler.class.getName());

    private final Recorder recorder;
    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final Journal journal;
    private final long heapThreadId = HeapClient.newHeapThreadId();

    UiRequestHandler(Recorder recorder, HttpServletRequest request, HttpServletResponse response) {
        this.recorder = recorder;
        this.request = request;
        this.response = response;
        this.journal = recorder.journal();
    }

    UiOutcome handle(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        UiMessage message;
        try {
            message = UiMessage.parse(text);
        } catch (RapException e) {
            return new UiOutcome(HttpServletResponse.SC_BAD_REQUEST, RapResponses.error(e.getMessage()));
        }
        String cid = request.getParameter(UiRequest.CID_PARAMETER);
        if (cid != null && !UiMessage.isValidCid(cid)) {
            return new UiOutcome(HttpServletResponse.SC_BAD_REQUEST, RapResponses.error("the cid parameter must be "
                    + "RAP's connection id: letters and digits, at most " + UiMessage.CID_LENGTH_MAX + " of them"));
        }
        if (message.shutdown()) {
            if (cid != null) {
                new UiSessionEnder(recorder, cid).end("the browser closed the page");
            }
            return UiOutcome.ok("{}");
        }
        if (cid == null) {
            return start(body, text);
        }
        return HeapClient.actingAs(heapThreadId, () -> underLock(cid, message.requestCounter(), body, text));
    }

    /** The first request of a new UI session: RAP names its cid; the journal starts with this request. */
    private UiOutcome start(byte[] body, String text) {
        LocalUiSession local = new LocalUiSession(recorder.context());
        RecordingContext live = RecordingContext.live(heapThreadId, "(new)", 0, (counter, seq) -> { });
        CapturedResponse captured = run(local, body, null, live, true);
        if (captured.status() != HttpServletResponse.SC_OK) {
            local.end();
            return new UiOutcome(captured.status(), captured.body());
        }
        String cid = RapResponses.cidOf(captured.body());
        if (cid == null) {
            local.end();
            return new UiOutcome(HttpServletResponse.SC_INTERNAL_SERVER_ERROR,
                    RapResponses.error("RAP's first response named no UI session (cid); please report it"));
        }
        local.setCid(cid);
        local.setLocalCid(cid);
        JournalEntry first = new JournalEntry(0, text, RapResponses.digest(captured.body()), live.recorded());
        try {
            HeapClient.actingAs(heapThreadId, () -> {
                Lock lock = journal.lock(cid);
                lock.lock();
                try {
                    journal.create(cid, first, captured.body(), System.currentTimeMillis());
                } finally {
                    lock.unlock();
                }
            });
        } catch (HeapException e) {
            local.end();
            return unavailable(cid, 0, e);
        }
        local.setApplied(1);
        recorder.sessions().put(local);
        return UiOutcome.ok(captured.body());
    }

    /** A request of an existing UI session, holding its cluster lock until its changes committed. */
    private UiOutcome underLock(String cid, int counter, byte[] body, String text) {
        Lock lock = journal.lock(cid);
        try {
            if (!lock.tryLock(RapLimits.UI_LOCK_WAIT_MS, TimeUnit.MILLISECONDS)) {
                return new UiOutcome(HttpServletResponse.SC_SERVICE_UNAVAILABLE, RapResponses.error(
                        "UI session " + cid + " is busy with another request for over " + RapLimits.UI_LOCK_WAIT_MS
                                + " ms; retry"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new UiOutcome(HttpServletResponse.SC_SERVICE_UNAVAILABLE, RapResponses.error("interrupted; retry"));
        }
        UiOutcome outcome;
        try {
            outcome = locked(cid, counter, body, text);
        } catch (RuntimeException e) {
            recorder.sessions().end(cid);
            releaseQuietly(lock);
            throw e;
        }
        try {
            lock.unlock();
        } catch (HeapException e) {
            // Not committed: this server's copy ran a request the journal does not have.
            recorder.sessions().end(cid);
            return unavailable(cid, counter, e);
        }
        return outcome;
    }

    private UiOutcome locked(String cid, int counter, byte[] body, String text) {
        Journal.State state = journal.read(cid);
        if (state == null) {
            recorder.sessions().end(cid);
            return new UiOutcome(HttpServletResponse.SC_FORBIDDEN, RapResponses.SESSION_TIMEOUT);
        }
        if (counter == state.count() - 1) {
            return retried(cid, counter, state);
        }
        if (counter != state.count()) {
            return new UiOutcome(HttpServletResponse.SC_PRECONDITION_FAILED, RapResponses.INVALID_COUNTER);
        }
        if (state.count() >= recorder.config().journalRequestsMax()) {
            return ended(cid, counter, "it reached the journal's limit of " + recorder.config().journalRequestsMax()
                    + " requests (sovereign.rap.journalRequestsMax); restart it to go on");
        }
        if (state.pending().startsWith(counter + ":")) {
            return ended(cid, counter, "an earlier attempt of this request committed an effect (Recorded.once, "
                    + "call " + state.pending() + ") and then died before finishing; running it again could repeat "
                    + "the effect, so the UI session cannot go on; restart it");
        }
        try {
            LocalUiSession local = new Replayer(recorder, heapThreadId, request, response).bringUpTo(cid, state.count());
            return live(local, cid, counter, body, text);
        } catch (ReplayDivergedException e) {
            LOG.log(Level.WARNING, "sovereign-rap: " + e.getMessage());
            return ended(cid, counter, e.getMessage());
        }
    }

    /** The browser sent its last request again (the response was lost): answer what was recorded. */
    private UiOutcome retried(String cid, int counter, Journal.State state) {
        if (state.lastResponse().isEmpty()) {
            return ended(cid, counter, "the browser sent request " + counter + " again, and its response was too large "
                    + "to keep for a retry (over " + RapLimits.LAST_RESPONSE_BYTES_MAX + " bytes); restart it");
        }
        LOG.fine(() -> "sovereign-rap: UI session " + cid + " request " + counter + " retried; answered from the journal");
        return UiOutcome.ok(state.lastResponse());
    }

    private UiOutcome live(LocalUiSession local, String cid, int counter, byte[] body, String text) {
        RecordingContext live = RecordingContext.live(heapThreadId, cid, counter,
                (c, seq) -> journal.markPending(cid, c, seq));
        CapturedResponse captured = run(local, body, local.localCid(), live, true);
        if (captured.status() != HttpServletResponse.SC_OK) {
            // RAP failed the request (an exception in UI code ends RAP's UI session): not recorded.
            recorder.sessions().end(cid);
            return new UiOutcome(captured.status(), captured.body());
        }
        String answer = captured.body();
        journal.append(cid, new JournalEntry(counter, text, RapResponses.digest(answer), live.recorded()), answer,
                System.currentTimeMillis());
        local.setApplied(counter + 1);
        recorder.sessions().put(local);
        return UiOutcome.ok(answer);
    }

    /** Runs RAP on {@code body} for {@code local}, acting as this request's heap thread. */
    private CapturedResponse run(LocalUiSession local, byte[] body, String localCid, RecordingContext context,
            boolean live) {
        return Replayer.run(recorder, local, request, response, body, localCid, context, live);
    }

    /** Ends the UI session everywhere (its journal goes with this request's commit), with the reason
     *  in the browser and in the log. Called holding the UI session's lock. */
    private UiOutcome ended(String cid, int counter, String why) {
        new UiSessionEnder(recorder, cid).endHoldingLock(why);
        return UiOutcome.ended("This UI session cannot go on after request " + counter + ": " + why);
    }

    private UiOutcome unavailable(String cid, int counter, HeapException e) {
        if (e instanceof HeapSessionEndedException ended) {
            // Nothing committed; the recorder connects a new session and runs the request again.
            throw ended;
        }
        LOG.log(Level.WARNING, "sovereign-rap: UI session " + cid + " request " + counter + " was not recorded", e);
        return new UiOutcome(HttpServletResponse.SC_SERVICE_UNAVAILABLE, RapResponses.error(
                "request " + counter + " could not be saved on the heap (" + e.getMessage() + "); retry"));
    }

    private static void releaseQuietly(Lock lock) {
        try {
            lock.unlock();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "sovereign-rap: releasing a UI session lock after a failure", e);
        }
    }

}
