package org.sovereign.bench.agent;

import benchapp.Account;
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
import org.sovereign.agent.runtime.Hooks;

/**
 * Field access of a shared object against an unshared one of the same instrumented class, in a
 * JVM running the agent (run.sh passes {@code -javaagent}): a read of a loaded shared object is a
 * plain Java field read (issue 10: within 5x of an unshared one), and a write under a held cluster
 * lock goes to the thread's buffer, not into native code (issue 10: under 200 ns). The lock is
 * taken once per iteration, by the benchmark thread, through the agent's own hook (what
 * {@code synchronized (account)} runs), so its round trip is outside the measured calls; the
 * buffered writes commit at the iteration's end.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FieldAccessBenchmark {
    /** The accounts: a shared one loaded from the heap (Setup shared it), and a local one. */
    @State(Scope.Thread)
    public static class Accounts {
        Account shared;
        Account unshared;
        long next;

        @Setup(Level.Trial)
        public void load() {
            shared = Account.root();
            if (shared == null) {
                throw new IllegalStateException("benchapp.Account.ROOT is not shared: run benchapp.Setup first (run.sh does)");
            }
            unshared = new Account("local", 100);
        }
    }

    /** {@link Accounts} with the shared account's cluster lock held by the benchmark thread for each iteration. */
    @State(Scope.Thread)
    public static class Locked extends Accounts {
        @Setup(Level.Iteration)
        public void lock() {
            Hooks.monitorEnter(shared);
        }

        @TearDown(Level.Iteration)
        public void unlock() {
            Hooks.monitorExit(shared); // commits the iteration's writes (the last value of the field)
        }
    }

    @Benchmark
    public long readUnshared(Accounts accounts) {
        return accounts.unshared.balance();
    }

    @Benchmark
    public long readShared(Accounts accounts) {
        return accounts.shared.balance();
    }

    @Benchmark
    public void writeUnshared(Locked accounts) {
        accounts.unshared.setBalance(accounts.next++);
    }

    @Benchmark
    public void writeSharedUnderHeldLock(Locked accounts) {
        accounts.shared.setBalance(accounts.next++);
    }
}
