package org.sovereign.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.sovereign.testkit.HeapNodes;

/**
 * The agent's rules seen from application JVMs (cases v and vi and more): a non-portable value
 * names its path from the root and the lock is released on that exception path; a write without
 * the lock throws and changes nothing; a loaded graph has one Java instance per heap object and
 * transient fields at their defaults; a waiter and a notifier in the same JVM do not deadlock; a bad
 * config stops the JVM with the file and line.
 */
@Timeout(600)
class SharedObjectRulesIT {
    private static HeapNodes cluster;
    private static Path config;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = HeapNodes.start();
        config = AgentJvm.writeConfig(Files.createTempDirectory(HeapNodes.workDir(), "rules-"));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        cluster.close();
    }

    private static String[] run(String name, String main, int lines, String... args) throws Exception {
        return AgentJvm.run(cluster, config, name, main, lines, args);
    }

    @Test
    void sharingAThreadThrowsNamingThePathAndReleasesTheLock() throws Exception {
        String[] out = run("worker", "demo.CounterMain", 2, "worker");
        assertTrue(out[0].startsWith("error org.sovereign.heap.NonPortableObjectException: cannot share a "
                + "java.lang.Thread at demo.Counter.ROOT.worker: a Thread runs in this JVM only"), out[0]);
        assertEquals("lock released, worker null", out[1], "another thread got the lock; the field kept its value");
    }

    @Test
    void anUnlockedWriteThrowsAndChangesNothing() throws Exception {
        String[] out = run("unlocked", "demo.CounterMain", 2, "unlocked");
        assertTrue(out[0].startsWith("error org.sovereign.heap.UnlockedSharedObjectException: field count of shared "
                + "object demo.Counter.ROOT (a demo.Counter, heap object "), out[0]);
        assertTrue(out[0].contains("synchronized (object)"), "the message says what to do: " + out[0]);
        String[] counts = out[1].split(" ");
        assertEquals(counts[2], counts[4], "the count is unchanged: " + out[1]);
    }

    @Test
    void aLoadedGraphHasOneInstancePerObjectAndTransientDefaults() throws Exception {
        String first = run("graph-1", "demo.NodeMain", 1)[0];
        String second = run("graph-2", "demo.NodeMain", 1)[0];
        assertTrue(first.equals("node a->b identity true visits 1") || first.equals("node a->b identity true visits 0"),
                first);
        assertEquals("node a->b identity true visits 0", second,
                "the second JVM loaded the cycle: next.next is the root itself, and the transient field is 0");
    }

    @Test
    void aWaiterAndANotifierInOneJvmDoNotDeadlock() throws Exception {
        String out = run("local", "demo.CounterMain", 1, "local", "20")[0];
        assertTrue(out.startsWith("waiter saw "), out);
        String[] words = out.split(" ");
        assertEquals(words[4], words[2], "the waiter returned at its target: " + out);
    }

    @Test
    void aBadConfigStopsTheJvmNamingTheFileAndLine() throws Exception {
        Path bad = Files.createTempDirectory(HeapNodes.workDir(), "bad-").resolve("bad.toml");
        Files.writeString(bad, "instrument = [\"demo.**\"]\nroots = [\"demo.Counter.ROOT\"]\nlevel = 3\n",
                StandardCharsets.UTF_8);
        try (AgentJvm jvm = AgentJvm.start("bad-config", cluster, bad, "demo.NodeMain")) {
            assertNotEquals(0, jvm.awaitExit(), "the JVM must not run the application unclustered");
            String stderr = jvm.stderr();
            assertTrue(stderr.contains(bad + ":3:"), "the error names file and line: " + stderr);
        }
    }
}
