package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Values through the Java API against a real cluster: every value type round-trips through fields,
 * maps and lists, read by the writing client and by a second one; and bad use (a root of another
 * kind, a value type the heap cannot hold, a closed client, a lock not held, a bad index) gets an
 * exception that says what to do.
 */
@Timeout(120)
class ValuesTest extends TwoClientTest {
    /** Every value the heap holds, and what it reads back as (Integer is widened to Long, ...). */
    static Map<Object, Object> samples(HeapClient client) {
        byte[] allBytes = new byte[256];
        for (int i = 0; i < allBytes.length; i++) {
            allBytes[i] = (byte) i;
        }
        Map<Object, Object> samples = new LinkedHashMap<>();
        samples.put(true, true);
        samples.put(false, false);
        samples.put(0L, 0L);
        samples.put(Long.MIN_VALUE, Long.MIN_VALUE);
        samples.put(Long.MAX_VALUE, Long.MAX_VALUE);
        samples.put(Integer.MIN_VALUE, (long) Integer.MIN_VALUE);
        samples.put((short) -7, -7L);
        samples.put((byte) 127, 127L);
        samples.put(3.25, 3.25);
        samples.put(-0.0, -0.0);
        samples.put(Double.NaN, Double.NaN);
        samples.put(Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY);
        samples.put(Double.MIN_VALUE, Double.MIN_VALUE);
        samples.put(1.5f, 1.5);
        samples.put("", "");
        samples.put("plain ascii", "plain ascii");
        samples.put("é ü ß € 中文 \uD834\uDD1E emoji \uD83D\uDE00", "é ü ß € 中文 \uD834\uDD1E emoji \uD83D\uDE00");
        samples.put("nul \u0000 inside", "nul \u0000 inside");
        samples.put("x".repeat(100_000), "x".repeat(100_000));
        samples.put(new byte[0], new byte[0]);
        samples.put(allBytes, allBytes);
        HeapObject object = client.newObject("test.Target");
        HeapMap map = client.newMap();
        HeapList list = client.newList();
        samples.put(object, object);
        samples.put(map, map);
        samples.put(list, list);
        return samples;
    }

    static void assertSameValue(Object expected, Object actual, String what) {
        if (expected instanceof byte[]) {
            assertTrue(actual instanceof byte[], what + ": expected byte[], got " + actual);
            assertArrayEquals((byte[]) expected, (byte[]) actual, what);
        } else if (expected instanceof Double) {
            assertTrue(actual instanceof Double, what + ": expected Double, got " + actual);
            // Bit-exact: NaN stays NaN and -0.0 stays -0.0.
            assertEquals(Double.doubleToRawLongBits((Double) expected), Double.doubleToRawLongBits((Double) actual), what);
        } else if (expected instanceof HeapRef) {
            assertEquals(expected.getClass(), actual.getClass(), what);
            assertEquals(((HeapRef) expected).id(), ((HeapRef) actual).id(), what);
        } else {
            assertEquals(expected, actual, what);
        }
    }

    @Test
    void everyValueTypeRoundTripsThroughFields() {
        HeapObject written = writer.root("values-fields");
        Map<Object, Object> samples = samples(writer);
        inLock(writer, () -> {
            int i = 0;
            for (Object value : samples.keySet()) {
                written.set("f" + i++, value);
            }
            written.set("null", null);
        });
        HeapObject read = reader.root("values-fields");
        assertEquals(written.id(), read.id());
        for (HeapObject object : List.of(written, read)) {
            inLock(object.client(), () -> {
                int i = 0;
                for (Map.Entry<Object, Object> sample : samples.entrySet()) {
                    String field = "f" + i++;
                    assertSameValue(sample.getValue(), object.get(field), field + " = " + describe(sample.getKey()));
                }
                assertNull(object.get("null"));
                assertNull(object.get("never-set"));
            });
        }
        // The typed getters.
        assertEquals(Long.MIN_VALUE, read.getLong("f3"));
        assertEquals(3.25, read.getDouble("f8"));
        assertTrue(read.getBoolean("f0"));
        assertEquals("plain ascii", read.getString("f15"));
        assertArrayEquals(new byte[0], read.getBytes("f19"));
        assertEquals(samples.get(samples.keySet().toArray()[21]), read.getObject("f21"));
        assertEquals(samples.get(samples.keySet().toArray()[22]), read.getMap("f22"));
        assertEquals(samples.get(samples.keySet().toArray()[23]), read.getList("f23"));
        // Unset fields read as the type's zero.
        assertEquals(0L, read.getLong("never-set"));
        assertEquals(0.0, read.getDouble("never-set"));
        assertFalse(read.getBoolean("never-set"));
        assertNull(read.getString("never-set"));
        assertNull(read.getBytes("never-set"));
        assertNull(read.getObject("never-set"));
        assertTrue(read.fieldNames().containsAll(Set.of("f0", "f23")));
        // Overwrite and clear, each seen by the other client under the lock.
        inLock(writer, () -> written.set("f0", "now a string"));
        inLock(reader, () -> assertEquals("now a string", read.get("f0")));
        inLock(writer, () -> written.remove("f0"));
        inLock(reader, () -> assertNull(read.get("f0")));
    }

    @Test
    void everyValueTypeRoundTripsThroughMapsAndLists() {
        HeapMap map = writer.rootMap("values-map");
        HeapList list = writer.rootList("values-list");
        Map<Object, Object> samples = samples(writer);
        List<Object> expected = new ArrayList<>(samples.values());
        // Outside a lock: each write commits on its own.
        int i = 0;
        for (Object value : samples.keySet()) {
            map.put("k" + i++, value);
            list.add(value);
        }
        HeapMap readMap = reader.rootMap("values-map");
        HeapList readList = reader.rootList("values-list");
        inLock(reader, () -> {
            assertEquals(expected.size(), readMap.size());
            assertEquals(expected.size(), readList.size());
            for (int j = 0; j < expected.size(); j++) {
                assertSameValue(expected.get(j), readMap.get("k" + j), "map k" + j);
                assertSameValue(expected.get(j), readList.get(j), "list " + j);
            }
            assertTrue(readMap.containsKey("k0"));
        });
        inLock(writer, () -> {
            map.put("k0", null);
            list.set(0, "first");
            list.add(1, "inserted");
            list.remove(2);
        });
        inLock(reader, () -> {
            assertFalse(readMap.containsKey("k0"));
            assertEquals("first", readList.get(0));
            assertEquals("inserted", readList.get(1));
            assertEquals(expected.size(), readList.size());
        });
    }

    @Test
    void referencesToObjectsCreatedUnderTheLockReadBackBeforeTheCommit() {
        HeapObject owner = writer.root("uncommitted-refs");
        inLock(writer, () -> {
            HeapObject child = writer.newObject("test.Child");
            HeapMap map = writer.newMap();
            HeapList list = writer.newList();
            child.set("name", "child");
            owner.set("child", child);
            owner.set("map", map);
            owner.set("list", list);
            list.add(child);
            assertEquals(child, owner.getObject("child"));
            assertEquals("child", owner.getObject("child").getString("name"));
            assertEquals(map, owner.get("map"));
            assertEquals(list, owner.getList("list"));
            assertEquals(child, list.get(0));
        });
        inLock(reader, () -> {
            HeapObject read = reader.root("uncommitted-refs");
            assertEquals("child", read.getObject("child").getString("name"));
            assertEquals(read.getObject("child"), read.getList("list").get(0));
        });
    }

    @Test
    void aRootOfAnotherKindIsATypeError() {
        writer.root("kind-fields");
        writer.rootMap("kind-map");
        HeapTypeException asMap = assertThrows(HeapTypeException.class, () -> reader.rootMap("kind-fields"));
        assertTrue(asMap.getMessage().contains("kind-fields"), asMap.getMessage());
        assertThrows(HeapTypeException.class, () -> reader.rootList("kind-fields"));
        assertThrows(HeapTypeException.class, () -> reader.root("kind-map"));
    }

    @Test
    void valueTypesTheHeapCannotHoldAreRefusedWithTheTypesToUse() {
        HeapObject object = writer.root("bad-values");
        for (Object bad : List.of(new Date(), new BigDecimal("1.5"), 'c', new int[] {1}, new ArrayList<>(),
                new Object())) {
            HeapTypeException e = assertThrows(HeapTypeException.class, () -> object.set("bad", bad));
            assertTrue(e.getMessage().contains(bad.getClass().getName()), e.getMessage());
            assertTrue(e.getMessage().contains("use null, Boolean, Long"), e.getMessage());
            assertThrows(HeapTypeException.class, () -> writer.rootList("bad-list").add(bad));
            assertThrows(HeapTypeException.class, () -> writer.rootMap("bad-map").put("k", bad));
        }
        assertNull(object.get("bad"));
        assertTrue(assertThrows(HeapTypeException.class, () -> object.set("bad", new ArrayList<>())).getMessage()
                .contains("newList"));
    }

    @Test
    void aGetterOfTheWrongTypeSaysWhatIsThere() {
        HeapObject object = writer.root("wrong-getter");
        object.set("name", "bob");
        object.set("count", 3L);
        HeapTypeException e = assertThrows(HeapTypeException.class, () -> object.getLong("name"));
        assertTrue(e.getMessage().contains("`name`") && e.getMessage().contains("String"), e.getMessage());
        assertThrows(HeapTypeException.class, () -> object.getDouble("count"));
        assertThrows(HeapTypeException.class, () -> object.getBoolean("count"));
        assertThrows(HeapTypeException.class, () -> object.getString("count"));
        assertThrows(HeapTypeException.class, () -> object.getBytes("count"));
        assertThrows(HeapTypeException.class, () -> object.getObject("count"));
        object.set("map", writer.newMap());
        assertTrue(assertThrows(HeapTypeException.class, () -> object.getObject("map")).getMessage().contains("HeapMap"));
    }

    @Test
    void badIndexesAreRefused() {
        HeapList list = writer.rootList("bad-index");
        assertThrows(IndexOutOfBoundsException.class, () -> list.get(-1));
        assertThrows(IndexOutOfBoundsException.class, () -> list.set(-1, 1L));
        assertThrows(HeapRejectedException.class, () -> list.get(list.size() + 5));
        assertThrows(HeapRejectedException.class, () -> list.remove(list.size() + 5));
    }

    @Test
    void aLockTheThreadDoesNotHoldIsAnIllegalMonitorState() {
        Lock lock = writer.lock("not-held");
        assertThrows(IllegalMonitorStateException.class, lock::unlock);
        Condition condition = lock.newCondition();
        assertThrows(IllegalMonitorStateException.class, condition::signal);
        assertThrows(IllegalMonitorStateException.class, () -> condition.await(10, java.util.concurrent.TimeUnit.MILLISECONDS));
        assertThrows(UnsupportedOperationException.class, () -> writer.readWriteLock("not-held").readLock().newCondition());
    }

    @Test
    void aClosedClientRefusesEveryCall() {
        HeapClient client = HeapClient.connect(cluster.endpoints());
        HeapObject object = client.root("closed");
        HeapList list = client.rootList("closed-list");
        Lock lock = client.lock("closed-lock");
        client.close();
        assertTrue(client.isClosed());
        client.close(); // harmless
        HeapClosedException e = assertThrows(HeapClosedException.class, () -> client.root("closed"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(HeapClosedException.class, () -> object.set("x", 1L));
        assertThrows(HeapClosedException.class, () -> object.getLong("x"));
        assertThrows(HeapClosedException.class, () -> list.add(1L));
        assertThrows(HeapClosedException.class, lock::lock);
        assertThrows(HeapClosedException.class, client::newMap);
        // The cluster is fine: another client works.
        assertEquals(object.id(), reader.root("closed").id());
    }

    @Test
    void nullArgumentsAreRefusedInJava() {
        HeapObject object = writer.root("nulls");
        assertThrows(NullPointerException.class, () -> object.set(null, 1L));
        assertThrows(NullPointerException.class, () -> object.get(null));
        assertThrows(NullPointerException.class, () -> writer.root(null));
        assertThrows(NullPointerException.class, () -> HeapClient.connect(null));
    }

    /**
     * Runs {@code body} holding the cluster lock "values-lock". Another client is only guaranteed to
     * see a change once it takes the lock the change was made under (outside locks its cache may lag
     * by the change stream's delay), so cross-client checks write and read under it.
     */
    static void inLock(HeapClient client, Runnable body) {
        Lock lock = client.lock("values-lock");
        lock.lock();
        try {
            body.run();
        } finally {
            lock.unlock();
        }
    }

    private static String describe(Object value) {
        String text = value instanceof byte[] ? "byte[" + ((byte[]) value).length + "]" : String.valueOf(value);
        return value.getClass().getSimpleName() + " " + (text.length() > 40 ? text.substring(0, 40) + "..." : text);
    }
}
