package org.sovereign.bench.agent;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;

/**
 * A cached field read through the Java client API, {@code HeapObject.getLong} (issue 12: under
 * 100 ns), against the cheapest native call the API has, {@code HeapClient.readRequests} (a handle
 * lookup and a counter read: the bare JNI crossing). The client is this benchmark's own, connected
 * to the cluster run.sh started ({@code SOVEREIGN_ENDPOINTS}, security from
 * {@code SOVEREIGN_SECURITY_DIR}); the field is written and read once before the measurement, so
 * every measured read is answered from the client's cache, with no cluster lock held.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ClientReadBenchmark {
    /** The root this benchmark reads; its own, so the agent's benchmark roots are left alone. */
    static final String ROOT = "bench.ClientReadBenchmark";
    static final String FIELD = "balance";
    static final long BALANCE = 4_242L;

    /** One client and one cached object for every benchmark thread. */
    @State(Scope.Benchmark)
    public static class Cached {
        HeapClient client;
        HeapObject object;

        @Setup(Level.Trial)
        public void connect() {
            String endpoints = System.getenv("SOVEREIGN_ENDPOINTS");
            if (endpoints == null) {
                throw new IllegalStateException("SOVEREIGN_ENDPOINTS is not set: run this benchmark with agent-bench/run.sh");
            }
            client = HeapClient.connect(endpoints);
            object = client.root(ROOT);
            object.set(FIELD, BALANCE);
            if (object.getLong(FIELD) != BALANCE) {
                throw new IllegalStateException("the client read back " + object.getLong(FIELD) + ", not " + BALANCE);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            client.close();
        }
    }

    @Benchmark
    public long cachedGetLong(Cached cached) {
        return cached.object.getLong(FIELD);
    }

    @Benchmark
    public long jniCrossing(Cached cached) {
        return cached.client.readRequests();
    }
}
