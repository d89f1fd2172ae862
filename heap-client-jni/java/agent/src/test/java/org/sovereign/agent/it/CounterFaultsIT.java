package org.sovereign.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.Security;
import org.sovereign.testkit.HeapNodes;

/**
 * The Counter (with its log) under faults, with real processes killed by SIGKILL. (iii) The
 * heap leader dies while JVMs A and B increment and C waits: every JVM ends with the exact count and
 * a log with one entry per increment, nothing lost or doubled. (iv) JVM A dies inside {@code inc},
 * after {@code count++} and before {@code log.add}, holding the counter's lock: B goes on once A's
 * session lease ends, the count is exactly the increments whose {@code inc} returned, and A's
 * half-done increment is nowhere (count and log agree, its log entry is absent). Fewer increments
 * than case (ii), to keep the suite short; the assertions stay exact.
 */
@Timeout(600)
class CounterFaultsIT {
    /** Increments per JVM in the leader-kill case. */
    static final int FAILOVER_INCREMENTS = 200;
    /** The increment of JVM A that never returns in the JVM-kill case. */
    static final int PAUSE_AT = 15;
    /** Increments of JVM B in the JVM-kill case (more than it can do before A pauses, so it must outlive A). */
    static final int SURVIVOR_INCREMENTS = 50;
    private static final long POLL_MS = 50;

    @Test
    void aLeaderKilledMidwayLosesAndDoublesNoIncrement() throws Exception {
        try (HeapNodes cluster = HeapNodes.start();
                HeapClient observer = HeapClient.connect(cluster.endpoints(), Security.plaintext())) {
            Path config = AgentJvm.writeConfig(Files.createTempDirectory(HeapNodes.workDir(), "failover-"));
            String increments = Integer.toString(FAILOVER_INCREMENTS);
            long total = 2L * FAILOVER_INCREMENTS;
            String target = Long.toString(total);
            System.out.println("[failover] start: A, B increment " + increments + " times each, C waits for " + target);
            try (AgentJvm a = AgentJvm.start("A", cluster, config, "demo.CounterMain", "inc", "A", increments, target)) {
                a.readLine();
                try (AgentJvm b = AgentJvm.start("B", cluster, config, "demo.CounterMain", "inc", "B", increments, target);
                        AgentJvm c = AgentJvm.start("C", cluster, config, "demo.CounterMain", "wait", target)) {
                    b.readLine();
                    c.readLine();
                    long started = System.nanoTime();
                    c.send("go");
                    a.send("go");
                    b.send("go");
                    HeapObject counter = observer.root("demo.Counter.ROOT").getObject("value");
                    long seen;
                    while ((seen = counter.getLong("count")) < total / 3) {
                        Thread.sleep(POLL_MS);
                    }
                    int leader = cluster.leader();
                    System.out.println("[failover] fault: SIGKILL heap leader node " + leader + " at count " + seen);
                    cluster.kill(leader);

                    System.out.println("[failover] check: every JVM ends at " + target + " with " + target + " log entries");
                    for (AgentJvm jvm : List.of(c, a, b)) {
                        assertEquals("count " + target + " " + target, jvm.readLine(), "the wait and the count");
                        assertEquals(CounterAcrossJvmsIT.summary(total), jvm.readLine(), "nothing lost or doubled");
                    }
                    System.out.printf("[failover] %d increments from two JVMs, leader killed midway, in %d ms%n", total,
                            (System.nanoTime() - started) / 1_000_000);
                    for (AgentJvm jvm : List.of(a, b, c)) {
                        assertEquals(0, jvm.awaitExit());
                    }
                }
            }
        }
    }

    @Test
    void aJvmKilledInsideIncLeavesExactlyTheReturnedIncrements() throws Exception {
        try (HeapNodes cluster = HeapNodes.start()) {
            Path config = AgentJvm.writeConfig(Files.createTempDirectory(HeapNodes.workDir(), "crash-"));
            System.out.println("[crash] start: A pauses inside its increment " + PAUSE_AT + ", B increments "
                    + SURVIVOR_INCREMENTS + " times");
            String survivor = Integer.toString(SURVIVOR_INCREMENTS);
            try (AgentJvm a = AgentJvm.start("A", cluster, config, List.of("-Ddemo.pauseAtIncrement=" + PAUSE_AT),
                    "demo.CounterMain", "inc", "A", Integer.toString(10 * PAUSE_AT), "0")) {
                a.readLine();
                try (AgentJvm b = AgentJvm.start("B", cluster, config, "demo.CounterMain", "inc", "B", survivor, "0")) {
                    b.readLine();
                    a.send("go");
                    b.send("go");
                    String paused = a.readLine();
                    Matcher matcher = Pattern.compile("paused inside inc (\\d+) \\(shared count (\\d+)\\), (\\d+) incs "
                            + "returned").matcher(paused);
                    assertTrue(matcher.matches(), paused);
                    long returnedByA = Long.parseLong(matcher.group(3));
                    assertEquals(PAUSE_AT - 1, returnedByA);
                    System.out.println("[crash] fault: SIGKILL JVM A inside inc " + PAUSE_AT + " (count++ done, log.add "
                            + "not), holding the counter's lock");
                    long killed = System.nanoTime();
                    a.kill();

                    long expected = returnedByA + SURVIVOR_INCREMENTS;
                    System.out.println("[crash] check: B goes on after A's lease; the count is " + returnedByA
                            + " returned incs of A + " + SURVIVOR_INCREMENTS + " of B = " + expected);
                    assertEquals("count " + expected + " " + expected, b.readLine(), "exactly the returned increments");
                    assertEquals(CounterAcrossJvmsIT.summary(expected), b.readLine(), "count and log agree");
                    System.out.printf("[crash] B finished %d ms after A was killed (A's lease had to end first)%n",
                            (System.nanoTime() - killed) / 1_000_000);
                    assertEquals(0, b.awaitExit());
                }
            }
            try (AgentJvm d = AgentJvm.start("D", cluster, config, "demo.CounterMain", "logged", "A-" + PAUSE_AT)) {
                assertEquals("logged A-" + PAUSE_AT + " false", d.readLine(), "the half-done increment's entry is nowhere");
                assertEquals(0, d.awaitExit());
            }
        }
    }
}
