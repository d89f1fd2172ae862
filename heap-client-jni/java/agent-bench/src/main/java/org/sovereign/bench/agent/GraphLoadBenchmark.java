package org.sovereign.bench.agent;

import benchapp.Account;
import benchapp.Catalog;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.Warmup;
import org.sovereign.agent.runtime.AgentCounters;

/**
 * The first read of a root holding a 1,000-object graph (benchapp.Catalog: the catalog, its list,
 * 998 items), in a fresh JVM with the agent: one load per fork (a JVM loads a graph once; after
 * that it holds it), so the mode is single-shot and the forks are the samples. Each fork first
 * loads a small root (the agent's code warmed and its client connected, outside the measurement),
 * then the measured read loads and walks the whole graph. Reports the read requests the load sent
 * (round trips; issue 10's target: under 20) besides the time.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(10)
public class GraphLoadBenchmark {
    /** The round trips of the measured load (JMH reports them next to the time). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class RoundTrips {
        public long roundTrips;
        public long objects;
        long before;

        @Setup(Level.Trial)
        public void connect() {
            if (Account.root() == null) {
                throw new IllegalStateException("benchapp.Account.ROOT is not shared: run benchapp.Setup first (run.sh does)");
            }
            before = AgentCounters.readRequests();
        }
    }

    @Benchmark
    public int loadThousandObjectGraph(RoundTrips trips) {
        Catalog catalog = Catalog.root();
        trips.roundTrips = AgentCounters.readRequests() - trips.before;
        int objects = catalog.objects();
        trips.objects = objects;
        return objects;
    }
}
