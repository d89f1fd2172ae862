package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many calls, no JNI reference leaks: 100,000 reads (each returning a new Java object: a 4 KiB
 * byte[], a String, a boxed Long or an object reference) and 50,000 writes leave the Java heap no
 * bigger. A leaked global reference would pin every returned byte[] (about 100 MB here, with the
 * test JVM at -Xmx256m). The tests run with -Xcheck:jni, which also checks each JNI call. A map with
 * 5,000 keys checks the local references of one call that returns many objects.
 */
@Timeout(300)
class JniLeakTest extends ClusterTest {
    static final int READS = 100_000;
    static final int WRITE_BATCHES = 50;
    static final int WRITES_PER_BATCH = 1_000;
    static final int KEYS = 5_000;
    /** Growth allowed for the JIT, class data and measurement noise. */
    static final long HEAP_GROWTH_BYTES_MAX = 16L * 1024 * 1024;
    private static HeapClient client;

    @BeforeAll
    static void connect() {
        client = HeapClient.connect(cluster.endpoints());
    }

    @AfterAll
    static void disconnect() {
        client.close();
    }

    static long usedHeapAfterGc() throws InterruptedException {
        Runtime runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }

    @Test
    void manyCallsLeaveNoReferencesBehind() throws Exception {
        HeapObject object = client.root("leak");
        HeapObject child = client.newObject("test.Child");
        object.set("blob", new byte[4096]);
        object.set("text", "some text to return");
        object.set("n", 5L);
        object.set("child", child);
        for (int i = 0; i < 10_000; i++) { // warm up the JIT before measuring
            object.get("text");
        }
        long before = usedHeapAfterGc();
        long started = System.nanoTime();
        for (int i = 0; i < READS; i++) {
            switch (i % 4) {
                case 0:
                    assertEquals(4096, ((byte[]) object.get("blob")).length);
                    break;
                case 1:
                    assertEquals(child, object.get("child"));
                    break;
                case 2:
                    assertEquals(5L, object.get("n"));
                    break;
                default:
                    assertEquals("some text to return", object.getString("text"));
            }
        }
        long readNanos = System.nanoTime() - started;
        Lock lock = client.lock("leak-lock");
        started = System.nanoTime();
        for (int batch = 0; batch < WRITE_BATCHES; batch++) {
            lock.lock();
            try {
                for (int i = 0; i < WRITES_PER_BATCH; i++) {
                    object.set("w", (i % 2 == 0) ? "string value " + i : (Object) new byte[64]);
                }
            } finally {
                lock.unlock();
            }
        }
        long writeNanos = System.nanoTime() - started;
        long after = usedHeapAfterGc();
        System.out.printf("[leak] %d reads in %d ms, %d writes in %d ms (%d commits); used heap %d KiB -> %d KiB, "
                + "%d objects cached%n", READS, readNanos / 1_000_000, WRITE_BATCHES * WRITES_PER_BATCH,
                writeNanos / 1_000_000, WRITE_BATCHES, before / 1024, after / 1024, client.cachedObjects());
        assertTrue(after - before < HEAP_GROWTH_BYTES_MAX, "the heap grew by " + (after - before) + " bytes");
    }

    @Test
    void aCallReturningManyObjectsStaysWithinItsLocalReferences() {
        HeapMap map = client.rootMap("many-keys");
        Lock lock = client.lock("many-keys-lock");
        lock.lock();
        try {
            for (int i = 0; i < KEYS; i++) {
                map.put("key-" + i, (long) i);
            }
        } finally {
            lock.unlock();
        }
        Set<String> keys = map.keySet();
        assertEquals(KEYS, keys.size());
        assertTrue(keys.contains("key-0") && keys.contains("key-" + (KEYS - 1)));
    }
}
