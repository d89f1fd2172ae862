package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sovereign.heap.HeapTypeException;
import org.sovereign.heap.NonPortableObjectException;

/** Collection elements and map keys as heap values and back: every scalar keeps its Java type, and the tags cannot collide. */
class ElementCodecTest {
    private static final ClassLoader LOADER = ElementCodecTest.class.getClassLoader();
    private static final FieldCodec.Sharer NO_REFERENCES = (object, path) -> {
        throw new AssertionError("no reference expected for " + object);
    };
    private static final FieldCodec.Loader NO_LOADING = (reference, path) -> {
        throw new AssertionError("no reference expected");
    };

    /** Every scalar an element may be, including Strings that look like tags. */
    static final List<Object> SCALARS = Arrays.asList("plain", "", "#", "#i5", "##", "#s#x", "caf\u00e9", 42L, -7, (short) 300,
            (byte) -2, 'x', '#', 1.5f, Float.NaN, -0.0f, Math.PI, Double.NEGATIVE_INFINITY, true, false,
            Thread.State.BLOCKED, null);

    @Test
    void everyScalarElementComesBackAsItself() {
        for (Object value : SCALARS) {
            Object stored = ElementCodec.encode(value, "p", NO_REFERENCES);
            assertTrue(stored == null || stored instanceof String || stored instanceof Long || stored instanceof Double
                    || stored instanceof Boolean, value + " is stored as a heap type, not " + stored);
            Object back = ElementCodec.decode(stored, LOADER, "p", NO_LOADING);
            assertEquals(value, back, "element " + value);
            assertEquals(value == null ? null : value.getClass(), back == null ? null : back.getClass(), "type of " + value);
        }
        assertEquals("plain", ElementCodec.encode("plain", "p", NO_REFERENCES), "a String is stored as itself");
        assertEquals("#s#i5", ElementCodec.encode("#i5", "p", NO_REFERENCES), "unless it starts with the tag");
        assertEquals("#i5", ElementCodec.encode(5, "p", NO_REFERENCES));
        assertEquals(5L, ElementCodec.encode(5L, "p", NO_REFERENCES), "Long, Double, Boolean are heap types");
    }

    @Test
    void everyScalarKeyComesBackAsItselfAndDistinctKeysStayDistinct() {
        List<String> texts = new ArrayList<>();
        for (Object key : SCALARS) {
            String text = ElementCodec.keyText(key, "p");
            Object back = ElementCodec.key(text, LOADER, "p");
            assertEquals(key, back, "key " + key);
            assertEquals(key == null ? null : key.getClass(), back == null ? null : back.getClass(), "type of key " + key);
            assertFalse(texts.contains(text), "two keys share the text " + text);
            texts.add(text);
        }
        assertFalse(ElementCodec.keyText(5L, "p").equals(ElementCodec.keyText(5, "p")), "5L and 5 are different keys");
        assertFalse(ElementCodec.keyText("5", "p").equals(ElementCodec.keyText(5, "p")), "so are \"5\" and 5");
    }

    @Test
    void keysThatHashByIdentityAreRefusedWithThePath() {
        String message = assertThrows(NonPortableObjectException.class,
                () -> ElementCodec.keyText(new StringBuilder("k"), "demo.Board.ROOT.byOwner[k]")).getMessage();
        assertTrue(message.startsWith("cannot use a java.lang.StringBuilder as a key (or set element) at "
                + "demo.Board.ROOT.byOwner[k]"), message);
        assertTrue(message.contains("key the map by a String or a number"), message);
    }

    @Test
    void theSameMeansEqualScalarsOrTheVerySameObject() {
        assertTrue(ElementCodec.same("a", new String("a")));
        assertTrue(ElementCodec.same(5, Integer.valueOf(5)));
        assertFalse(ElementCodec.same(5, 5L), "Integer 5 and Long 5 are different elements");
        Object object = new Object();
        assertTrue(ElementCodec.same(object, object));
        assertFalse(ElementCodec.same(new ArrayList<>(), new ArrayList<>()), "equal collections are still two objects");
        assertTrue(ElementCodec.same(null, null));
    }

    @Test
    void pathsNameTheElement() {
        assertEquals("demo.Board.ROOT.topics[\"news\"]", ElementCodec.at("demo.Board.ROOT.topics", "news"));
        assertEquals("demo.Board.ROOT.log[3]", ElementCodec.at("demo.Board.ROOT.log", 3));
        assertEquals("demo.X.ROOT.byState[BLOCKED]", ElementCodec.at("demo.X.ROOT.byState", Thread.State.BLOCKED));
    }

    @Test
    void textFromAnotherVersionIsReportedNotMisread() {
        String message = assertThrows(HeapTypeException.class, () -> ElementCodec.decode("#q7", LOADER, "demo.X.ROOT.l[0]",
                NO_LOADING)).getMessage();
        assertTrue(message.startsWith("demo.X.ROOT.l[0] holds \"#q7\""), message);
        String constant = assertThrows(HeapTypeException.class, () -> ElementCodec.decode(
                "#ejava.lang.Thread$State:ASLEEP", LOADER, "p", NO_LOADING)).getMessage();
        assertTrue(constant.contains("does not have"), constant);
        assertNull(ElementCodec.decode("#0", LOADER, "p", NO_LOADING), "#0 is a null map value");
    }
}
