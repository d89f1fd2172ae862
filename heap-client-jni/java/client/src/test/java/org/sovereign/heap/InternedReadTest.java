package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fast read path (issue 12) against a real cluster: a key interned once ({@link Keys},
 * {@code Native.internKey}) and read by its id gives exactly what the read by name gives, for every
 * value type, for unset fields and for type errors; a cached value read by id changes once another
 * client's committed write reaches this client's change stream; a thread's uncommitted writes under
 * a lock are seen by id at once; and a key id never issued is a {@link HeapException}, not a crash.
 */
@Timeout(120)
class InternedReadTest extends TwoClientTest {
    private static long thread() {
        return HeapClient.thread();
    }

    @Test
    void aKeyIsInternedOnceAndDistinctKeysGetDistinctIds() {
        int balance = Native.internKey("interned-balance");
        assertTrue(balance >= 0, "an id is issued");
        assertEquals(balance, Native.internKey("interned-balance"), "the same key, the same id");
        assertEquals(balance, Keys.id("interned-balance"), "Keys asks the native table");
        assertNotEquals(balance, Native.internKey("interned-owner"));
    }

    @Test
    void readsByIdGiveWhatReadsByNameGive() {
        HeapObject object = writer.root("interned-values");
        Map<Object, Object> samples = ValuesTest.samples(writer);
        int field = 0;
        for (Object value : samples.keySet()) {
            object.set("f" + field++, value);
        }
        object.set("count", 7L);
        object.set("ratio", -0.25);
        object.set("flag", true);
        HeapObject seen = reader.root("interned-values");
        for (int i = 0; i < field; i++) {
            String key = "f" + i;
            int keyId = Native.internKey(key);
            Object byName = reader.wrap(Native.get(reader.handle(), thread(), seen.id(), key));
            Object byId = reader.wrap(Native.getById(reader.handle(), thread(), seen.id(), keyId));
            if (byName instanceof byte[]) {
                assertArrayEquals((byte[]) byName, (byte[]) byId, key);
            } else {
                assertEquals(byName, byId, key);
            }
        }
        assertEquals(7L, Native.getLongById(reader.handle(), thread(), seen.id(), Native.internKey("count")));
        assertEquals(-0.25, Native.getDoubleById(reader.handle(), thread(), seen.id(), Native.internKey("ratio")));
        assertTrue(Native.getBooleanById(reader.handle(), thread(), seen.id(), Native.internKey("flag")));
        int unset = Native.internKey("never-set");
        assertEquals(0L, Native.getLongById(reader.handle(), thread(), seen.id(), unset), "unset reads as 0");
        assertEquals(0.0, Native.getDoubleById(reader.handle(), thread(), seen.id(), unset));
        assertNull(Native.getById(reader.handle(), thread(), seen.id(), unset));
    }

    @Test
    void aTypeErrorByIdSaysWhatTheReadByNameSays() {
        HeapObject object = writer.root("interned-wrong-type");
        object.set("name", "bob");
        HeapTypeException byName = assertThrows(HeapTypeException.class,
                () -> Native.getLong(writer.handle(), thread(), object.id(), "name"));
        HeapTypeException byId = assertThrows(HeapTypeException.class,
                () -> Native.getLongById(writer.handle(), thread(), object.id(), Native.internKey("name")));
        assertEquals(byName.getMessage(), byId.getMessage());
        assertTrue(byId.getMessage().contains("`name`") && byId.getMessage().contains("String"), byId.getMessage());
    }

    @Test
    void aCachedReadByIdSeesAnotherClientsCommittedWriteOnceTheStreamDeliversIt() throws Exception {
        HeapObject mine = writer.root("interned-invalidation");
        mine.set("balance", 1L);
        HeapObject theirs = reader.root("interned-invalidation");
        LockTest.awaitTrue(() -> theirs.getLong("balance") == 1L);
        long readsBefore = reader.readRequests();
        for (int i = 0; i < 1_000; i++) {
            assertEquals(1L, theirs.getLong("balance"));
        }
        assertEquals(readsBefore, reader.readRequests(), "cached: the reads by id sent no read request");
        mine.set("balance", 2L);
        LockTest.awaitTrue(() -> theirs.getLong("balance") == 2L);
        assertEquals(2L, theirs.getLong("balance"), "the new value stays");
    }

    @Test
    void readsByIdUnderALockSeeTheThreadsOwnUncommittedWrites() {
        HeapObject mine = writer.root("interned-under-lock");
        HeapObject theirs = reader.root("interned-under-lock");
        mine.set("x", 1L);
        assertEquals(1L, mine.getLong("x"));
        Lock lock = writer.lock("interned-lock");
        lock.lock();
        try {
            mine.set("x", 5L);
            assertEquals(5L, mine.getLong("x"), "the writer sees its own change at once");
            assertEquals(5L, Native.getLongById(writer.handle(), thread(), mine.id(), Native.internKey("x")));
            assertEquals(1L, theirs.getLong("x"), "nobody else sees it before the release");
        } finally {
            lock.unlock();
        }
        assertEquals(5L, mine.getLong("x"), "committed with the release");
    }

    @Test
    void aKeyIdNeverIssuedIsAHeapExceptionNotACrash() {
        HeapObject object = writer.root("interned-bad-id");
        object.set("x", 3L);
        for (int bad : new int[] {-1, -2_000, Integer.MAX_VALUE, 1_000_000}) {
            HeapException e = assertThrows(HeapException.class,
                    () -> Native.getLongById(writer.handle(), thread(), object.id(), bad));
            assertEquals(HeapException.class, e.getClass(), "not a closed or type error: " + e);
            assertTrue(e.getMessage().contains("key id " + bad + " was never issued"), e.getMessage());
            assertThrows(HeapException.class, () -> Native.getById(writer.handle(), thread(), object.id(), bad));
            assertThrows(HeapException.class, () -> Native.getDoubleById(writer.handle(), thread(), object.id(), bad));
            assertThrows(HeapException.class, () -> Native.getBooleanById(writer.handle(), thread(), object.id(), bad));
        }
        assertEquals(3L, object.getLong("x"), "the client works on");
    }

    @Test
    void keysTooLongToInternAreReadByName() {
        // Longer than any name the heap stores (256 bytes), so such a field is never set: the read
        // by name answers as for any unset field, and the write is refused as before.
        String longKey = "k".repeat(Keys.KEY_CHARS_MAX + 1);
        assertEquals(-1, Keys.id(longKey), "not interned");
        HeapObject object = writer.root("interned-long-key");
        object.set("short", 1L);
        assertEquals(0L, object.getLong(longKey));
        assertNull(object.get(longKey));
        assertThrows(HeapRejectedException.class, () -> object.set(longKey, 11L));
    }
}
