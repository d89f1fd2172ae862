package org.sovereign.rap;

import java.util.ArrayList;
import java.util.List;
import org.sovereign.rap.JournalEntry.RecordedValue;

/**
 * One UI request as {@link Recorded} sees it while RAP runs it: live (values are recorded) or
 * replayed (values come from the journal, in order), the heap thread all of the request's heap work
 * acts as, and the first divergence found, which the recording servlet reports once RAP returns.
 * Used by the request's servlet thread and its UI session's UI thread, strictly in turn.
 */
final class RecordingContext {
    private final long heapThreadId;
    private final String cid;
    private final int counter;
    private final boolean replaying;
    private final List<RecordedValue> values;
    private final PendingMarker pendingMarker;
    private int next;
    private volatile String divergence;

    /** Marks, in the request's pending heap changes, that effect {@code seq} is about to run. */
    interface PendingMarker {
        void mark(int counter, int seq);
    }

    private RecordingContext(long heapThreadId, String cid, int counter, boolean replaying, List<RecordedValue> values,
            PendingMarker pendingMarker) {
        this.heapThreadId = heapThreadId;
        this.cid = cid;
        this.counter = counter;
        this.replaying = replaying;
        this.values = values;
        this.pendingMarker = pendingMarker;
    }

    static RecordingContext live(long heapThreadId, String cid, int counter, PendingMarker pendingMarker) {
        return new RecordingContext(heapThreadId, cid, counter, false, new ArrayList<>(), pendingMarker);
    }

    static RecordingContext replay(long heapThreadId, String cid, JournalEntry entry) {
        return new RecordingContext(heapThreadId, cid, entry.counter(), true, entry.values(), (c, s) -> { });
    }

    long heapThreadId() {
        return heapThreadId;
    }

    boolean replaying() {
        return replaying;
    }

    int counter() {
        return counter;
    }

    /** Live: about to run the next recorded call's effect; marks it pending. */
    void beforeEffect() {
        pendingMarker.mark(counter, values.size());
    }

    /** Live: records the value of the next call. */
    void record(String name, String encoded) {
        if (values.size() >= RapLimits.VALUES_PER_REQUEST_MAX) {
            throw new RapException("UI request " + counter + " recorded more than " + RapLimits.VALUES_PER_REQUEST_MAX
                    + " values with Recorded.once/input; record fewer, larger values");
        }
        values.add(new RecordedValue(name, encoded));
    }

    /** Replayed: the recorded value of the next call, which must have the same name. */
    String take(String name) {
        if (next >= values.size()) {
            throw diverged("it called Recorded \"" + name + "\" as call " + (next + 1) + ", but live it made only "
                    + values.size() + " such calls");
        }
        RecordedValue value = values.get(next);
        if (!value.name().equals(name)) {
            throw diverged("its call " + (next + 1) + " to Recorded was \"" + name + "\", live it was \""
                    + value.name() + "\"");
        }
        next++;
        return value.encoded();
    }

    /** Live: the values recorded; replayed: whether every recorded value was taken. */
    List<RecordedValue> recorded() {
        return List.copyOf(values);
    }

    boolean everyValueTaken() {
        return next == values.size();
    }

    int valuesTaken() {
        return next;
    }

    /** The first divergence found in this request, or null. */
    String divergence() {
        return divergence;
    }

    /** Notes a divergence (the first one wins) and returns the exception that reports it. */
    ReplayDivergedException diverged(String what) {
        String message = "UI session " + cid + " diverged in its replay of request " + counter + ": " + what;
        if (divergence == null) {
            divergence = message;
        }
        return new ReplayDivergedException(message);
    }
}
