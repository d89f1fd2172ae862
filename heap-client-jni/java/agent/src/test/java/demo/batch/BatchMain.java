package demo.batch;

import java.util.HashSet;
import java.util.Set;
import org.sovereign.agent.runtime.AgentCounters;

/**
 * One JVM of the batch tests (application code; it imports only the agent's counters, to report
 * round trips and write batches). Prints one line per step for the test to read; usage:
 * <pre>
 * BatchMain build          assigns Archive.ROOT and Tree.ROOT (1,000 objects each)
 * BatchMain load           reads both roots (loading the graphs) and prints objects, round trips, time
 * BatchMain record N       records entries 1..N in Ledger.ROOT, one commit each; prints the write batches
 * BatchMain check N        prints "ready", then checks the ledger under its lock until it has N entries
 * </pre>
 */
public final class BatchMain {
    /** How long {@code check} waits for the writer before it gives up (the test's deadline is longer). */
    static final long CHECK_TIMEOUT_MS = 300_000;

    private BatchMain() {}

    public static void main(String[] args) {
        switch (args[0]) {
            case "build" -> build();
            case "load" -> load();
            case "record" -> record(Long.parseLong(args[1]));
            case "check" -> check(Long.parseLong(args[1]));
            default -> throw new IllegalArgumentException("unknown role " + args[0]);
        }
    }

    private static void build() {
        Archive.ROOT = Archive.of("main");
        Tree.ROOT = Tree.of();
        System.out.println("built archive " + Archive.ROOT.objects() + " tree " + Tree.ROOT.count());
    }

    private static void load() {
        long before = AgentCounters.readRequests(); // connects first: the session is not a read
        long started = System.nanoTime();
        Archive archive = Archive.ROOT;
        long archiveMs = (System.nanoTime() - started) / 1_000_000;
        long archiveTrips = AgentCounters.readRequests() - before;
        System.out.println("archive objects " + archive.objects() + " pages " + archive.pages() + " round trips "
                + archiveTrips + " ms " + archiveMs);

        before = AgentCounters.readRequests();
        started = System.nanoTime();
        Tree tree = Tree.ROOT;
        long treeMs = (System.nanoTime() - started) / 1_000_000;
        long treeTrips = AgentCounters.readRequests() - before;
        System.out.println("tree objects " + tree.count() + " sum " + tree.sum() + " round trips " + treeTrips + " ms "
                + treeMs);
    }

    private static void record(long entries) {
        long batches = AgentCounters.writeBatches();
        long fields = AgentCounters.fieldWritesSent();
        for (long i = 1; i <= entries; i++) {
            Ledger.ROOT.record(i);
        }
        System.out.println("recorded " + entries + " write batches " + (AgentCounters.writeBatches() - batches)
                + " fields sent " + (AgentCounters.fieldWritesSent() - fields));
    }

    private static void check(long entries) {
        Set<String> states = new HashSet<>();
        String state = Ledger.ROOT.check();
        System.out.println("ready " + state);
        long deadline = System.nanoTime() + CHECK_TIMEOUT_MS * 1_000_000;
        while (!state.equals("ok " + entries) && System.nanoTime() < deadline) {
            if (!state.startsWith("ok ")) {
                System.out.println("broken " + state);
                return;
            }
            states.add(state);
            state = Ledger.ROOT.check();
        }
        states.add(state);
        System.out.println("consistent " + states.size() + " states, last " + state);
    }
}
