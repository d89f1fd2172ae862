package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sovereign.heap.HeapRejectedException;

/**
 * The per-thread buffer of field writes, without a cluster: a field written again keeps only its
 * last value, objects keep the order of their first write, the first write of each object is
 * reported (so it is recorded as written once), the number of distinct pending fields is bounded
 * with an error that says what to do, and an emptied buffer starts over. Sending it (one native
 * call per commit) is covered against a real cluster by BufferedWritesIT.
 */
class WriteBufferTest {
    /** Three fields to write (the buffer only compares their metadata by identity). */
    static class Sample {
        long a;
        String b;
        Object c;
    }

    private static final FieldMeta A = field("a");
    private static final FieldMeta B = field("b");
    private static final FieldMeta C = field("c");

    private static FieldMeta field(String name) {
        try {
            return new FieldMeta(Sample.class.getDeclaredField(name));
        } catch (NoSuchFieldException e) {
            throw new AssertionError(e);
        }
    }

    private static SharedState state(String path) {
        return new SharedState(null, null, path, null, true, new LockGroup("sovereign.object:" + path, null, 0));
    }

    @Test
    void aFieldWrittenAgainKeepsItsLastValueAndEachObjectIsReportedOnce() {
        WriteBuffer buffer = new WriteBuffer();
        SharedState first = state("demo.X.ROOT");
        SharedState second = state("demo.X.ROOT.next");
        Object one = new Object();
        Object two = new Object();
        assertTrue(buffer.put(one, first, A, 1L), "the first write of an object");
        assertFalse(buffer.put(one, first, B, "x"));
        assertTrue(buffer.put(two, second, A, 3L), "another object's first write");
        assertFalse(buffer.put(one, first, A, 4L), "back to the first object: not its first write");
        assertFalse(buffer.put(two, second, A, 5L));
        assertEquals(3, buffer.size(), "three distinct fields");
        assertEquals(4L, buffer.pending(first, A, "absent"));
        assertEquals("x", buffer.pending(first, B, "absent"));
        assertEquals(5L, buffer.pending(second, A, "absent"));
        assertEquals("absent", buffer.pending(second, B, "absent"));

        Map<Object, SharedState> written = new IdentityHashMap<>();
        buffer.writtenInto(written);
        assertEquals(2, written.size());
        assertSame(first, written.get(one));
        assertSame(second, written.get(two));
    }

    @Test
    void aNullValueIsAWriteLikeAnyOther() {
        WriteBuffer buffer = new WriteBuffer();
        SharedState object = state("demo.X.ROOT");
        buffer.put(this, object, C, "set");
        buffer.put(this, object, C, null);
        assertEquals(1, buffer.size());
        assertEquals(null, buffer.pending(object, C, "absent"), "null is pending, not absent");
    }

    @Test
    void moreDistinctFieldsThanOneCommitHoldsAreRefusedNamingTheFix() {
        WriteBuffer buffer = new WriteBuffer();
        List<FieldMeta> fields = List.of(A, B, C);
        SharedState last = null;
        int objects = (WriteBuffer.FIELDS_MAX + fields.size() - 1) / fields.size();
        int written = 0;
        for (int i = 0; i < objects && written < WriteBuffer.FIELDS_MAX; i++) {
            last = state("demo.X.ROOT.items[" + i + "]");
            for (FieldMeta field : fields) {
                if (written < WriteBuffer.FIELDS_MAX) {
                    buffer.put(last, last, field, (long) i);
                    written++;
                }
            }
        }
        assertEquals(WriteBuffer.FIELDS_MAX, buffer.size());
        SharedState extra = state("demo.X.ROOT.extra");
        HeapRejectedException refused = assertThrows(HeapRejectedException.class, () -> buffer.put(extra, extra, A, 1L));
        assertTrue(refused.getMessage().contains("demo.X.ROOT.extra.a"), refused.getMessage());
        assertTrue(refused.getMessage().contains("release the lock more often"), refused.getMessage());
        assertEquals("absent", buffer.pending(extra, A, "absent"), "the refused write left nothing behind");
        SharedState full = last;
        buffer.put(full, full, A, -1L);
        assertEquals(-1L, buffer.pending(full, A, "absent"), "a field already pending can still be written");
        assertEquals(WriteBuffer.FIELDS_MAX, buffer.size());
    }

    @Test
    void anEmptiedBufferStartsOver() {
        WriteBuffer buffer = new WriteBuffer();
        SharedState object = state("demo.X.ROOT");
        buffer.put(this, object, A, 1L);
        buffer.clear();
        assertEquals(0, buffer.size());
        assertEquals("absent", buffer.pending(object, A, "absent"));
        assertTrue(buffer.put(this, object, A, 2L), "after a clear the next write is the object's first again");
        Map<Object, SharedState> written = new IdentityHashMap<>();
        buffer.writtenInto(written);
        assertEquals(1, written.size());
    }
}
