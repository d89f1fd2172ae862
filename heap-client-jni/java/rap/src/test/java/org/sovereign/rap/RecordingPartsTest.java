package org.sovereign.rap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.http.HttpSessionBindingEvent;
import jakarta.servlet.http.HttpSessionBindingListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sovereign.rap.JournalEntry.RecordedValue;

/**
 * The recording library's parts that need neither RAP's runtime nor a heap: message parsing, the
 * response digest, journal entries, the local HTTP session's binding events, replayed values and
 * the bounded set of local UI sessions.
 */
class RecordingPartsTest {
    @Test
    void parsesTheCounterAndTheShutdownMessageAndRefusesWhatIsNoRapMessage() {
        assertEquals(new UiMessage(7, false), UiMessage.parse("{\"head\":{\"requestCounter\":7},\"operations\":[]}"));
        assertEquals(new UiMessage(UiMessage.NO_COUNTER, true), UiMessage.parse("{\"head\":{\"shutdown\":true}}"));
        assertThrows(RapException.class, () -> UiMessage.parse("not json"));
        assertThrows(RapException.class, () -> UiMessage.parse("[1,2]"));
        assertThrows(RapException.class, () -> UiMessage.parse("{\"operations\":[]}"));
    }

    @Test
    void onlyWhatCanBeRapsConnectionIdIsTakenAsACid() {
        assertTrue(UiMessage.isValidCid("ef43a9b76e72419f942c8ab12c87494c"));
        assertFalse(UiMessage.isValidCid(""));
        assertFalse(UiMessage.isValidCid("x".repeat(UiMessage.CID_LENGTH_MAX + 1)), "too long for a lock name");
        assertFalse(UiMessage.isValidCid("abc:def"), "no separators");
        assertFalse(UiMessage.isValidCid("abc\u00e9"), "ASCII letters and digits only");
    }

    @Test
    void theDigestIgnoresTheCidButNothingElse() {
        String first = "{\"head\":{\"cid\":\"aaaa\"},\"operations\":[[\"create\",\"w2\",{}]]}";
        String rebuilt = "{\"head\":{\"cid\":\"bbbb\"},\"operations\":[[\"create\",\"w2\",{}]]}";
        String other = "{\"head\":{\"cid\":\"aaaa\"},\"operations\":[[\"create\",\"w3\",{}]]}";
        assertEquals(RapResponses.digest(first), RapResponses.digest(rebuilt));
        assertNotEquals(RapResponses.digest(first), RapResponses.digest(other));
        assertEquals("aaaa", RapResponses.cidOf(first));
        assertNull(RapResponses.cidOf("{\"head\":{},\"operations\":[]}"));
        assertEquals("bbbb", RapResponses.cidOf(RapResponses.withCid(first, "bbbb")));
    }

    @Test
    void aJournalEntryRoundTripsAndAnOversizedOneIsRefused() {
        JournalEntry entry = new JournalEntry(3, "{\"head\":{\"requestCounter\":3}}", "abc",
                List.of(new RecordedValue("place-order", "rO0="), new RecordedValue("clock", "AAA=")));
        assertEquals(entry, JournalEntry.decode(entry.encode()));
        JournalEntry huge = new JournalEntry(4, "x".repeat(RapLimits.ENTRY_BYTES_MAX), "abc", List.of());
        RapException refused = assertThrows(RapException.class, huge::encode);
        assertTrue(refused.getMessage().contains("request 4"), refused.getMessage());
        assertThrows(RapException.class, () -> JournalEntry.decode("{\"n\":1}"));
    }

    @Test
    void theLocalSessionTellsBindingListenersAndEndsThemWhenInvalidated() {
        LocalHttpSession session = new LocalHttpSession(null);
        List<String> events = new ArrayList<>();
        HttpSessionBindingListener listener = new HttpSessionBindingListener() {
            @Override
            public void valueBound(HttpSessionBindingEvent event) {
                events.add("bound " + event.getName());
            }

            @Override
            public void valueUnbound(HttpSessionBindingEvent event) {
                events.add("unbound " + event.getName());
            }
        };
        session.setAttribute("ui", listener);
        session.setAttribute("ui", listener);
        session.invalidate();
        assertEquals(List.of("bound ui", "unbound ui"), events);
        assertFalse(session.isValid());
        assertThrows(IllegalStateException.class, () -> session.getAttribute("ui"));
    }

    @Test
    void aReplayTakesTheRecordedValuesInOrderAndNotesTheFirstDivergence() {
        JournalEntry entry = new JournalEntry(5, "{}", "d",
                List.of(new RecordedValue("a", "1"), new RecordedValue("b", "2")));
        RecordingContext replay = RecordingContext.replay(1L, "cid", entry);
        assertEquals("1", replay.take("a"));
        assertFalse(replay.everyValueTaken());
        ReplayDivergedException diverged = assertThrows(ReplayDivergedException.class, () -> replay.take("c"));
        assertTrue(diverged.getMessage().contains("request 5") && diverged.getMessage().contains("\"b\""),
                diverged.getMessage());
        assertEquals(diverged.getMessage(), replay.divergence());
        assertEquals("2", replay.take("b"));
        assertTrue(replay.everyValueTaken());
        assertThrows(ReplayDivergedException.class, () -> replay.take("d"));
    }

    @Test
    void liveRecordingIsBoundedAndMarksEachEffectBeforeItRuns() {
        List<String> marks = new ArrayList<>();
        RecordingContext live = RecordingContext.live(1L, "cid", 9, (counter, seq) -> marks.add(counter + ":" + seq));
        live.beforeEffect();
        live.record("a", "1");
        live.beforeEffect();
        assertEquals(List.of("9:0", "9:1"), marks);
        for (int i = 1; i < RapLimits.VALUES_PER_REQUEST_MAX; i++) {
            live.record("v" + i, "x");
        }
        assertThrows(RapException.class, () -> live.record("one-too-many", "x"));
    }

    @Test
    void localUiSessionsEndTheLeastRecentlyUsedBeyondTheirCapacity() {
        LocalUiSessions sessions = new LocalUiSessions(2);
        LocalUiSession a = session("a");
        LocalUiSession b = session("b");
        LocalUiSession c = session("c");
        sessions.put(a);
        sessions.put(b);
        sessions.get("a");
        sessions.put(c);
        assertTrue(a.running(), "a was used after b");
        assertFalse(b.running(), "b, the least recently used, was ended");
        assertNull(sessions.get("b"));
        assertEquals(2, sessions.size());
    }

    @Test
    void settingsHaveDefaultsAndABadValueIsRefusedByName() {
        RecorderConfig defaults = RecorderConfig.from(Map.of(RecorderConfig.ENDPOINTS, " 127.0.0.1:7101 ")::get);
        assertEquals("127.0.0.1:7101", defaults.endpoints());
        assertEquals(RapLimits.JOURNAL_REQUESTS_MAX_DEFAULT, defaults.journalRequestsMax());
        assertFalse(defaults.keepUiLocks(), "UI locks go back with each request unless asked");
        assertTrue(RecorderConfig.from(Map.of(RecorderConfig.ENDPOINTS, "h:1", RecorderConfig.KEEP_UI_LOCKS,
                "true")::get).keepUiLocks());
        RapException bad = assertThrows(RapException.class, () -> RecorderConfig.from(Map.of(RecorderConfig.ENDPOINTS,
                "h:1", RecorderConfig.KEEP_UI_LOCKS, "yes")::get));
        assertTrue(bad.getMessage().contains(RecorderConfig.KEEP_UI_LOCKS), bad.getMessage());
        RapException missing = assertThrows(RapException.class, () -> RecorderConfig.from(Map.<String, String>of()::get));
        assertTrue(missing.getMessage().contains(RecorderConfig.ENDPOINTS), missing.getMessage());
        assertThrows(RapException.class, () -> RecorderConfig.from(Map.of(RecorderConfig.ENDPOINTS, "h:1",
                RecorderConfig.JOURNAL_REQUESTS_MAX, "0")::get));
    }

    private static LocalUiSession session(String cid) {
        LocalUiSession session = new LocalUiSession(null);
        session.setCid(cid);
        return session;
    }
}
