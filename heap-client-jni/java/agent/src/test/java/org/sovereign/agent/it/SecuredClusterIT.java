package org.sovereign.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.sovereign.testkit.HeapNodes;

/**
 * The agent against a secured cluster (TLS and tokens, how {@code heap-server} runs by default):
 * application JVMs find the CA and a write-role token the way production does (the security folder
 * in {@code SOVEREIGN_SECURITY_DIR}, the token in {@code SOVEREIGN_TOKEN}) and share roots, objects,
 * locks and wait/notify through it exactly as on a plaintext cluster.
 */
@Timeout(300)
class SecuredClusterIT {
    private static HeapNodes cluster;
    private static Path config;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = HeapNodes.startSecured();
        config = AgentJvm.writeConfig(Files.createTempDirectory(HeapNodes.workDir(), "secured-"));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        cluster.close();
    }

    @Test
    void locksWaitsAndSharedGraphsWorkOverTlsWithAWriteToken() throws Exception {
        String local = AgentJvm.run(cluster, config, "secured-local", "demo.CounterMain", 1, "local", "20")[0];
        assertTrue(local.startsWith("waiter saw "), local);
        String[] words = local.split(" ");
        assertEquals(words[4], words[2], "the waiter returned at its target: " + local);

        String first = AgentJvm.run(cluster, config, "secured-graph-1", "demo.NodeMain", 1)[0];
        String second = AgentJvm.run(cluster, config, "secured-graph-2", "demo.NodeMain", 1)[0];
        assertTrue(first.startsWith("node a->b identity true visits "), first);
        assertEquals("node a->b identity true visits 0", second,
                "a second JVM loaded the graph the first shared, over TLS");
    }
}
