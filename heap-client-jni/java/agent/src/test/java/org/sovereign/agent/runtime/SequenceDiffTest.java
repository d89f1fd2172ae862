package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** How a commit reads the change of a list: the head removals and appends of a queue, else the changed middle. */
class SequenceDiffTest {
    private static Object[] of(Object... elements) {
        return elements;
    }

    @Test
    void appendsAreNoHeadRemoval() {
        assertEquals(0, SequenceMirror.headRemoved(of("a", "b"), of("a", "b", "c")));
        assertEquals(0, SequenceMirror.headRemoved(of(), of("a")));
    }

    @Test
    void aQueueRemovesAtTheHeadAndAppends() {
        assertEquals(1, SequenceMirror.headRemoved(of("a", "b", "c"), of("b", "c", "d")));
        assertEquals(2, SequenceMirror.headRemoved(of("a", "b", "c"), of("c")));
        assertEquals(3, SequenceMirror.headRemoved(of("a", "b", "c"), of("x", "y")), "everything replaced");
    }

    @Test
    void aChangeInTheMiddleIsNoQueueChange() {
        assertEquals(3, SequenceMirror.headRemoved(of("a", "b", "c"), of("a", "x", "c")), "only 'everything' fits");
        Object[] old = of("a", "b", "c", "d");
        Object[] now = of("a", "x", "y", "d");
        int prefix = SequenceMirror.prefix(old, now);
        assertEquals(1, prefix);
        assertEquals(1, SequenceMirror.suffix(old, now, prefix));
    }

    @Test
    void prefixAndSuffixDoNotOverlap() {
        Object[] old = of("a", "a");
        Object[] now = of("a", "a", "a");
        int prefix = SequenceMirror.prefix(old, now);
        assertEquals(2, prefix);
        assertEquals(0, SequenceMirror.suffix(old, now, prefix), "one inserted element remains");
    }
}
