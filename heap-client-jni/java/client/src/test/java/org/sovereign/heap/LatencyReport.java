package org.sovereign.heap;

import java.util.Arrays;
import java.util.concurrent.locks.Lock;

/**
 * Timings from Java, printed, not asserted: the cost of a cached {@code getLong} (a tight loop over
 * one field the client has cached, the JNI call included) and the round trip of an uncontended
 * {@code lock(); set(); unlock()} (two cluster commits: the grant and the release with the write),
 * as p50/p99. Usage: {@code LatencyReport ENDPOINTS [ROUNDS]}. Run by {@link LatencyReportTest} in
 * its own JVM, without -Xcheck:jni.
 */
public final class LatencyReport {
    static final int GET_WARMUP = 500_000;
    static final int GET_LOOPS = 2_000_000;
    static final int GET_REPEATS = 5;
    static final int LOCK_WARMUP = 20;

    private LatencyReport() {}

    public static void main(String[] args) {
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        try (HeapClient client = HeapClient.connect(args[0])) {
            HeapObject object = client.root("latency");
            object.set("n", 12345L);
            long sink = 0;
            for (int i = 0; i < GET_WARMUP; i++) {
                sink += object.getLong("n");
            }
            double[] nanosPerGet = new double[GET_REPEATS];
            for (int repeat = 0; repeat < GET_REPEATS; repeat++) {
                long start = System.nanoTime();
                for (int i = 0; i < GET_LOOPS; i++) {
                    sink += object.getLong("n");
                }
                nanosPerGet[repeat] = (System.nanoTime() - start) / (double) GET_LOOPS;
            }
            Arrays.sort(nanosPerGet);
            System.out.printf("cached getLong: median %.0f ns/call, best %.0f ns/call (%d repeats of %d calls, one "
                    + "thread; checksum %d)%n", nanosPerGet[GET_REPEATS / 2], nanosPerGet[0], GET_REPEATS, GET_LOOPS,
                    sink % 10);

            // The same loop over the cheapest native call (a registry lookup and a counter read),
            // to tell the JNI crossing from the client's own cost.
            long baselineStart = System.nanoTime();
            for (int i = 0; i < GET_LOOPS; i++) {
                sink += client.cachedObjects();
            }
            System.out.printf("native call baseline (cachedObjects): %.0f ns/call%n",
                    (System.nanoTime() - baselineStart) / (double) GET_LOOPS);

            Lock lock = client.lock("latency-lock");
            long[] micros = new long[rounds];
            for (int i = -LOCK_WARMUP; i < rounds; i++) {
                long start = System.nanoTime();
                lock.lock();
                try {
                    object.set("n", (long) i);
                } finally {
                    lock.unlock();
                }
                if (i >= 0) {
                    micros[i] = (System.nanoTime() - start) / 1_000;
                }
            }
            Arrays.sort(micros);
            System.out.printf("uncontended lock+set+unlock: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d rounds)%n",
                    micros[rounds / 2] / 1000.0, micros[(int) Math.ceil(rounds * 0.99) - 1] / 1000.0,
                    micros[rounds - 1] / 1000.0, rounds);
        }
    }
}
