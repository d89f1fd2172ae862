package org.sovereign.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.Security;

/**
 * The Counter across JVMs (cases i and ii): plain Java with {@code static Counter ROOT},
 * {@code synchronized inc()} (count++ then notifyAll) and {@code synchronized awaitAtLeast(n)}
 * (wait while count &lt; n). Without the agent it runs as ordinary Java in one JVM; with it, JVMs
 * A and B increment 1,000 times each while C waits, and all three end at exactly 2,000.
 */
@Timeout(1200)
class CounterAcrossJvmsIT {
    static final int INCREMENTS = 1_000;

    @Test
    void withoutTheAgentTheCounterRunsUnchangedInOneJvm() throws Exception {
        try (AgentJvm solo = AgentJvm.start("solo", null, null, "demo.CounterMain", "solo", Integer.toString(INCREMENTS))) {
            assertEquals("count " + 2 * INCREMENTS + " " + 2 * INCREMENTS, solo.readLine(),
                    "two threads' increments, seen by the waiting thread and after");
            assertEquals(0, solo.awaitExit());
        }
    }

    @Test
    void twoJvmsIncrementWhileAThirdWaitsAndAllSeeEveryIncrement() throws Exception {
        try (HeapNodes cluster = HeapNodes.start()) {
            Path config = AgentJvm.writeConfig(Files.createTempDirectory(HeapNodes.workDir(), "counter-"));
            String increments = Integer.toString(INCREMENTS);
            String target = Integer.toString(2 * INCREMENTS);
            System.out.println("[counter] start: A assigns the root first, then B and C load it");
            try (AgentJvm a = AgentJvm.start("A", cluster, config, "demo.CounterMain", "inc", increments, target)) {
                String rootA = a.readLine();
                assertTrue(rootA.startsWith("root count=0 origin=constructed in pid"),
                        "A's assignment shared its new counter: " + rootA);
                try (AgentJvm b = AgentJvm.start("B", cluster, config, "demo.CounterMain", "inc", increments, target);
                        AgentJvm c = AgentJvm.start("C", cluster, config, "demo.CounterMain", "wait", target)) {
                    assertEquals("root count=0 origin=null", b.readLine(),
                            "B's own assignment took A's counter, loaded with its transient field at the default");
                    assertEquals("root count=0 origin=null", c.readLine(), "so did C's");

                    System.out.println("[counter] act: C waits for " + target + ", A and B increment " + increments
                            + " times each");
                    long started = System.nanoTime();
                    c.send("go");
                    a.send("go");
                    b.send("go");

                    System.out.println("[counter] check: every JVM reads " + target);
                    assertEquals("count " + target + " " + target, c.readLine(), "C's wait returned at the target");
                    assertEquals("count " + target + " " + target, a.readLine(), "A sees every increment");
                    assertEquals("count " + target + " " + target, b.readLine(), "B sees every increment");
                    System.out.printf("[counter] %d increments from two JVMs in %d ms%n", 2 * INCREMENTS,
                            (System.nanoTime() - started) / 1_000_000);
                    assertEquals(0, a.awaitExit());
                    assertEquals(0, b.awaitExit());
                    assertEquals(0, c.awaitExit());
                }
            }
            try (HeapClient client = HeapClient.connect(cluster.endpoints(), Security.plaintext())) {
                long stored = client.root("demo.Counter.ROOT").getObject("value").getLong("count");
                assertEquals(2L * INCREMENTS, stored, "the heap's counter, read with the explicit API");
            }
        }
    }
}
