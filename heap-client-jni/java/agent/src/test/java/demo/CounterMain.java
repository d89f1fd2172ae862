package demo;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One JVM of the agent's multi-JVM tests, driving {@link Counter} (plain Java: it runs with or
 * without the agent). Prints one line per step for the test to read; usage:
 * <pre>
 * CounterMain solo INCREMENTS                 two threads increment, a third waits for both (no agent)
 * CounterMain inc NAME INCREMENTS TARGET      prints the root, waits for "go", increments (logging NAME-1,
 *                                             NAME-2, ...), awaits TARGET, prints the summary
 * CounterMain wait TARGET                     prints the root, waits for "go", awaits TARGET, prints the summary
 * CounterMain summary                         prints the summary (count, log length, distinct entries)
 * CounterMain logged ENTRY                    prints whether the log has ENTRY
 * CounterMain worker                          assigns a Thread to a shared field under the lock
 * CounterMain unlocked                        writes the shared count without the lock
 * CounterMain local INCREMENTS                a second thread of this JVM waits while this one increments
 * </pre>
 */
public final class CounterMain {
    /** How long a step may block before the JVM gives up (the test's deadline is longer). */
    static final long STEP_TIMEOUT_MS = 300_000;
    /** How long another thread may take to get a lock the failed step should have released. */
    static final long LOCK_RELEASE_TIMEOUT_MS = 30_000;

    private CounterMain() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "solo" -> solo(Integer.parseInt(args[1]));
            case "inc" -> increment(args[1], Integer.parseInt(args[2]), Long.parseLong(args[3]));
            case "wait" -> awaitOnly(Long.parseLong(args[1]));
            case "summary" -> System.out.println(Counter.ROOT.summary());
            case "logged" -> System.out.println("logged " + args[1] + " " + Counter.ROOT.logged(args[1]));
            case "worker" -> worker();
            case "unlocked" -> unlocked();
            case "local" -> local(Integer.parseInt(args[1]));
            default -> throw new IllegalArgumentException("unknown role " + args[0]);
        }
    }

    private static void solo(int increments) throws Exception {
        Counter counter = Counter.ROOT;
        long[] seen = new long[1];
        Thread waiter = start(() -> seen[0] = counter.awaitAtLeast(2L * increments));
        List<Thread> incrementers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String name = "t" + i;
            incrementers.add(start(() -> {
                for (int n = 1; n <= increments; n++) {
                    counter.inc(name + "-" + n);
                }
                return 0;
            }));
        }
        for (Thread thread : incrementers) {
            thread.join(STEP_TIMEOUT_MS);
        }
        waiter.join(STEP_TIMEOUT_MS);
        System.out.println("count " + seen[0] + " " + counter.read());
        System.out.println(counter.summary());
    }

    private static void increment(String name, int increments, long target) throws Exception {
        printRootAndAwaitGo();
        long started = System.nanoTime();
        for (int n = 1; n <= increments; n++) {
            Counter.ROOT.inc(name + "-" + n);
        }
        System.out.println("count " + Counter.ROOT.awaitAtLeast(target) + " " + Counter.ROOT.read());
        System.out.println(Counter.ROOT.summary());
        System.err.printf("%d increments in %d ms%n", increments, (System.nanoTime() - started) / 1_000_000);
    }

    private static void awaitOnly(long target) throws Exception {
        printRootAndAwaitGo();
        System.out.println("count " + Counter.ROOT.awaitAtLeast(target) + " " + Counter.ROOT.read());
        System.out.println(Counter.ROOT.summary());
    }

    private static void printRootAndAwaitGo() throws Exception {
        Counter counter = Counter.ROOT;
        System.out.println("root count=" + counter.read() + " origin=" + counter.origin);
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line = in.readLine();
        if (!"go".equals(line)) {
            throw new IllegalStateException("expected go, got " + line);
        }
    }

    private static void worker() throws Exception {
        Counter counter = Counter.ROOT;
        try {
            counter.setWorker(new Thread(() -> { }));
            System.out.println("no error");
        } catch (RuntimeException e) {
            System.out.println("error " + e.getClass().getName() + ": " + e.getMessage());
        }
        // The failed write left the synchronized method by an exception: another thread must get the lock.
        Thread other = start(() -> {
            counter.inc("other");
            return 0;
        });
        other.join(LOCK_RELEASE_TIMEOUT_MS);
        System.out.println(other.isAlive() ? "lock still held" : "lock released, worker " + counter.worker);
        System.exit(0); // the other thread may still wait for a leaked lock: do not wait for it
    }

    private static void unlocked() {
        Counter counter = Counter.ROOT;
        long before = counter.read();
        try {
            counter.count = before + 100;
            System.out.println("no error");
        } catch (RuntimeException e) {
            System.out.println("error " + e.getClass().getName() + ": " + e.getMessage());
        }
        System.out.println("count before " + before + " after " + counter.read());
    }

    private static void local(int increments) throws Exception {
        Counter counter = Counter.ROOT;
        long target = counter.read() + increments;
        long[] seen = new long[1];
        Thread waiter = start(() -> seen[0] = counter.awaitAtLeast(target));
        for (int n = 1; n <= increments; n++) {
            counter.inc("local-" + n);
        }
        waiter.join(STEP_TIMEOUT_MS);
        System.out.println(waiter.isAlive() ? "waiter still waiting" : "waiter saw " + seen[0] + " of " + target);
    }

    /** A step of a thread that may throw: its result or failure is printed by the thread itself on failure. */
    private interface Step {
        long run() throws Exception;
    }

    private static Thread start(Step step) {
        Thread thread = new Thread(() -> {
            try {
                step.run();
            } catch (Exception e) {
                System.out.println("error " + e);
            }
        });
        thread.start();
        return thread;
    }
}
