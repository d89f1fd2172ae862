package org.sovereign.rap;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.logging.Logger;

/**
 * Brings this server's copy of a UI session up to its journal: rebuilt from the first request when
 * this server has none (its server died, was drained, or the load balancer sent the request here),
 * or caught up with the requests another server ran since. Each recorded request runs through RAP
 * again with its output discarded; its response must have the recorded digest and its UI code must
 * make the recorded {@link Recorded} calls, else the replay has diverged.
 */
final class Replayer {
    private static final Logger LOG = Logger.getLogger(Replayer.class.getName());
    /** How much of a diverging response the log and the message quote. */
    private static final int QUOTE_CHARS_MAX = 300;

    private final Recorder recorder;
    private final long heapThreadId;
    private final HttpServletRequest request;
    private final HttpServletResponse response;

    Replayer(Recorder recorder, long heapThreadId, HttpServletRequest request, HttpServletResponse response) {
        this.recorder = recorder;
        this.heapThreadId = heapThreadId;
        this.request = request;
        this.response = response;
    }

    /** This server's copy of {@code cid}, having run the journal's first {@code count} requests. */
    LocalUiSession bringUpTo(String cid, int count) {
        LocalUiSession local = recorder.sessions().get(cid);
        if (local != null && local.running() && local.applied() == count) {
            return local;
        }
        if (local == null || !local.running() || local.applied() > count || local.localCid() == null) {
            if (local != null) {
                recorder.sessions().end(cid);
            }
            local = new LocalUiSession(recorder.context());
            local.setCid(cid);
        }
        long startedNs = System.nanoTime();
        int from = local.applied();
        List<JournalEntry> entries = recorder.journal().entries(cid, from, count);
        for (JournalEntry entry : entries) {
            replay(local, cid, entry);
        }
        long tookMs = (System.nanoTime() - startedNs) / 1_000_000;
        int replayed = entries.size();
        LOG.info(() -> "sovereign-rap: UI session " + cid + (from == 0 ? " rebuilt here from " : " caught up with ")
                + replayed + " recorded requests in " + tookMs + " ms");
        recorder.sessions().put(local);
        return local;
    }

    private void replay(LocalUiSession local, String cid, JournalEntry entry) {
        RecordingContext context = RecordingContext.replay(heapThreadId, cid, entry);
        String localCid = entry.counter() == 0 ? null : local.localCid();
        byte[] body = entry.request().getBytes(StandardCharsets.UTF_8);
        CapturedResponse captured = run(recorder, local, request, response, body, localCid, context, false);
        String answer = captured.body();
        if (context.divergence() != null) {
            throw new ReplayDivergedException(context.divergence());
        }
        if (captured.status() != HttpServletResponse.SC_OK) {
            throw context.diverged("RAP answered HTTP " + captured.status() + ": " + quote(answer));
        }
        if (entry.counter() == 0) {
            String named = RapResponses.cidOf(answer);
            if (named == null) {
                throw context.diverged("RAP's first response named no UI session (cid)");
            }
            local.setLocalCid(named);
        }
        if (!RapResponses.digest(answer).equals(entry.digest())) {
            throw context.diverged("its response differs from the recorded one; the replayed response was "
                    + quote(answer));
        }
        if (!context.everyValueTaken()) {
            throw context.diverged("its UI code made " + context.valuesTaken() + " Recorded calls, live it made "
                    + entry.values().size());
        }
        local.setApplied(entry.counter() + 1);
    }

    /** Runs RAP on {@code body} for {@code local}, with {@code context} visible to {@link Recorded}. */
    static CapturedResponse run(Recorder recorder, LocalUiSession local, HttpServletRequest request,
            HttpServletResponse response, byte[] body, String localCid, RecordingContext context, boolean live) {
        CapturedResponse captured = new CapturedResponse(response, live);
        local.touch();
        local.http().setRecording(context);
        try {
            recorder.runRap(new UiRequest(request, body, localCid, local.http()), captured);
        } catch (ServletException | IOException | RuntimeException e) {
            if (context.divergence() != null) {
                throw new ReplayDivergedException(context.divergence());
            }
            throw new RapException("UI request " + context.counter() + " failed in RAP: " + e, e);
        } finally {
            local.http().setRecording(null);
        }
        return captured;
    }

    private static String quote(String text) {
        return text.length() <= QUOTE_CHARS_MAX ? text : text.substring(0, QUOTE_CHARS_MAX) + "...";
    }
}
