package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sovereign.heap.HeapTypeException;

/** The change journal of maps and arrays: what a JVM some versions behind reads, and the bounds. */
class JournalTest {
    @Test
    void aJvmBehindReadsTheKeysChangedSinceItsVersionInOrderOfLastChange() {
        Journal.Appended one = Journal.append("", 0, 1, List.of("a", "b"));
        Journal.Appended two = Journal.append(one.text(), one.from(), 2, List.of("c", "a"));
        assertEquals(0, two.from());
        assertEquals(List.of("b", "c", "a"), Journal.since(two.text(), two.from(), 0), "each key once, by its last change");
        assertEquals(List.of("c", "a"), Journal.since(two.text(), two.from(), 1));
        assertEquals(List.of(), Journal.since(two.text(), two.from(), 2), "up to date");
    }

    @Test
    void keysWithAnyCharactersSurviveTheFormat() {
        List<String> keys = List.of("", ",", "1,2,x", "#s#", "line\nbreak", "caf\u00e9");
        Journal.Appended journal = Journal.append(null, 0, 7, keys);
        assertEquals(keys, Journal.since(journal.text(), journal.from(), 6));
    }

    @Test
    void theOldestVersionsAreDroppedWholeAndAJvmOlderThanTheRestReadsEverything() {
        Journal.Appended journal = new Journal.Appended("", 0);
        for (long version = 1; version <= 100; version++) {
            List<String> keys = new ArrayList<>();
            for (int k = 0; k < 5; k++) {
                keys.add("key-" + version + "-" + k);
            }
            journal = Journal.append(journal.text(), journal.from(), version, keys);
        }
        List<Journal.Entry> kept = Journal.parse(journal.text());
        assertTrue(kept.size() <= Journal.KEYS_MAX, "bounded: " + kept.size());
        assertEquals(0, kept.size() % 5, "whole versions only");
        long oldest = kept.get(0).version();
        assertEquals(oldest - 1, journal.from(), "it reaches back to just before its oldest version");
        assertNull(Journal.since(journal.text(), journal.from(), journal.from() - 1), "too old: read everything");
        assertEquals(5, Journal.since(journal.text(), journal.from(), 99).size());
    }

    @Test
    void oneCommitLargerThanTheBoundLeavesAnEmptyJournalReachingToItsVersion() {
        List<String> keys = new ArrayList<>();
        for (int k = 0; k <= Journal.KEYS_MAX; k++) {
            keys.add("k" + k);
        }
        Journal.Appended journal = Journal.append("", 0, 9, keys);
        assertEquals("", journal.text());
        assertEquals(9, journal.from());
        assertEquals(List.of(), Journal.since(journal.text(), journal.from(), 9));
        assertNull(Journal.since(journal.text(), journal.from(), 8));
    }

    @Test
    void aJournalInAnotherFormatIsReported() {
        assertThrows(HeapTypeException.class, () -> Journal.parse("3,99,short"));
        assertThrows(HeapTypeException.class, () -> Journal.parse("x,1,a"));
    }
}
