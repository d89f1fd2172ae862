package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sovereign.heap.HeapTypeException;
import org.sovereign.heap.NonPortableObjectException;

/** Field values to heap values and back, by declared type, and the errors for what cannot be shared. */
class FieldCodecTest {
    /** One field of every kind (no instrumented class needed: nothing here is a reference). */
    static class Sample {
        int i;
        long l;
        short s;
        byte b;
        char c;
        float f;
        double d;
        boolean z;
        Integer boxed;
        Character character;
        Float boxedFloat;
        String text;
        Thread.State state;
        Object loose;
        Thread thread;
    }

    private static final FieldCodec.Sharer NO_SHARING = (object, path) -> {
        throw new AssertionError("no instrumented object in these tests");
    };
    private static final FieldCodec.Loader NO_LOADING = (reference, path) -> {
        throw new AssertionError("no reference in these tests");
    };

    private static FieldMeta field(String name) throws NoSuchFieldException {
        return new FieldMeta(Sample.class.getDeclaredField(name));
    }

    @Test
    void everyKindComesBackAsItsJavaType() throws Exception {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("i", -7);
        values.put("l", Long.MAX_VALUE);
        values.put("s", (short) 300);
        values.put("b", (byte) -2);
        values.put("c", '\u00e9');
        values.put("f", 1.5f);
        values.put("d", Math.PI);
        values.put("z", true);
        values.put("boxed", 42);
        values.put("character", 'x');
        values.put("boxedFloat", -0.25f);
        values.put("text", "h\u00e9llo");
        values.put("state", Thread.State.BLOCKED);
        values.put("loose", "a string in an Object field");
        for (Map.Entry<String, Object> entry : values.entrySet()) {
            FieldMeta field = field(entry.getKey());
            Object stored = FieldCodec.encode(field, entry.getValue(), "p", NO_SHARING);
            assertTrue(stored instanceof Long || stored instanceof Double || stored instanceof Boolean
                    || stored instanceof String, entry.getKey() + " is stored as a heap type, not " + stored.getClass());
            Object decoded = FieldCodec.decode(field, stored, "p", NO_LOADING);
            assertEquals(entry.getValue(), decoded, entry.getKey());
            assertEquals(entry.getValue().getClass(), decoded.getClass(), entry.getKey());
        }
        assertEquals("BLOCKED", FieldCodec.encode(field("state"), Thread.State.BLOCKED, "p", NO_SHARING), "enums by name");
    }

    @Test
    void absentEntriesAreJavaDefaults() throws Exception {
        assertEquals(0, FieldCodec.decode(field("i"), null, "p", NO_LOADING));
        assertEquals('\0', FieldCodec.decode(field("c"), null, "p", NO_LOADING));
        assertEquals(false, FieldCodec.decode(field("z"), null, "p", NO_LOADING));
        assertEquals(0.0f, FieldCodec.decode(field("f"), null, "p", NO_LOADING));
        assertEquals(null, FieldCodec.decode(field("boxed"), null, "p", NO_LOADING));
        assertEquals(null, FieldCodec.decode(field("loose"), null, "p", NO_LOADING));
    }

    @Test
    void nonPortableValuesNameThePathAndTheFix() throws Exception {
        String thread = assertThrows(NonPortableObjectException.class,
                () -> FieldCodec.encode(field("thread"), new Thread(), "demo.Board.ROOT.owner.thread", NO_SHARING))
                .getMessage();
        assertTrue(thread.startsWith("cannot share a java.lang.Thread at demo.Board.ROOT.owner.thread: a Thread runs "
                + "in this JVM only; mark the field transient"), thread);
        String list = assertThrows(NonPortableObjectException.class,
                () -> FieldCodec.encode(field("loose"), List.of("a"), "demo.Board.ROOT.topics", NO_SHARING))
                .getMessage();
        assertTrue(list.startsWith("cannot share a java.util.ImmutableCollections$List12 at demo.Board.ROOT.topics: it is "
                + "not one of the java.util collections the agent shares (ArrayList, LinkedList, "), list);
        assertTrue(list.contains("copy it into one of them, as in new ArrayList<>(list)"), list);
        String integer = assertThrows(NonPortableObjectException.class,
                () -> FieldCodec.encode(field("loose"), 5, "demo.Board.ROOT.loose", NO_SHARING)).getMessage();
        assertTrue(integer.contains("declare the field with the value's own type"), integer);
        String other = assertThrows(NonPortableObjectException.class,
                () -> FieldCodec.encode(field("loose"), new StringBuilder(), "demo.Board.ROOT.loose", NO_SHARING))
                .getMessage();
        assertTrue(other.contains("class java.lang.StringBuilder is not instrumented"), other);
    }

    @Test
    void supportedCollectionsAndArraysInLooseFieldsGoToTheSharer() throws Exception {
        List<Object> shared = new ArrayList<>();
        FieldCodec.Sharer recording = (object, path) -> {
            shared.add(object);
            return null;
        };
        ArrayList<String> list = new ArrayList<>();
        int[] numbers = new int[3];
        String[] names = new String[1];
        FieldCodec.encode(field("loose"), list, "p", recording);
        FieldCodec.encode(field("loose"), numbers, "p", recording);
        FieldCodec.encode(field("loose"), names, "p", recording);
        assertEquals(3, shared.size(), "each went to the sharer, which shares (or copies) it");
        assertTrue(shared.get(0) == list && shared.get(1) == numbers && shared.get(2) == names);
    }

    @Test
    void aHeapValueOfAnotherTypeIsReportedAsAVersionMismatch() throws Exception {
        String message = assertThrows(HeapTypeException.class,
                () -> FieldCodec.decode(field("i"), "text", "demo.X.ROOT.i", NO_LOADING)).getMessage();
        assertTrue(message.startsWith("demo.X.ROOT.i (org.sovereign.agent.runtime.FieldCodecTest$Sample.i, declared int) "
                + "holds a String"), message);
        assertTrue(message.contains("run the same version everywhere"), message);
        String constant = assertThrows(HeapTypeException.class,
                () -> FieldCodec.decode(field("state"), "ASLEEP", "demo.X.ROOT.state", NO_LOADING)).getMessage();
        assertTrue(constant.contains("holds enum constant ASLEEP"), constant);
    }

    @Test
    void onlyALooseReferenceNeedsAPathOrASharerAndBoxesAreKept() throws Exception {
        assertTrue(FieldCodec.isDirect(field("l"), 5L));
        assertTrue(FieldCodec.isDirect(field("text"), "x"));
        assertTrue(FieldCodec.isDirect(field("state"), Thread.State.NEW));
        assertTrue(FieldCodec.isDirect(field("loose"), null));
        assertTrue(FieldCodec.isDirect(field("loose"), "text"));
        assertTrue(FieldCodec.isDirect(field("loose"), 2.5));
        assertTrue(!FieldCodec.isDirect(field("loose"), new ArrayList<>()), "may need sharing");
        assertTrue(!FieldCodec.isDirect(field("thread"), Thread.currentThread()), "needs the path for its error");
        Long big = 1L << 40;
        assertTrue(FieldCodec.encode(field("l"), big, null, null) == big, "a long's box is stored as it is");
        Double pi = Math.PI;
        assertTrue(FieldCodec.encode(field("d"), pi, null, null) == pi, "so is a double's");
        assertEquals(7L, FieldCodec.encode(field("i"), 7, null, null));
    }
}
