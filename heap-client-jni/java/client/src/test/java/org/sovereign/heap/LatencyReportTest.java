package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs {@link LatencyReport} in its own JVM (no -Xcheck:jni, which would slow every JNI call) against
 * a fresh cluster and prints its figures; they are also kept in {@code target/latency-report.txt}.
 * Only that it ran is asserted: timings depend on the machine.
 */
@Timeout(300)
class LatencyReportTest extends ClusterTest {

    @Test
    void reportLatencies() throws Exception {
        List<String> lines = new ArrayList<>();
        try (ChildJvm report = ChildJvm.start(List.of("-Xmx128m"), LatencyReport.class, cluster.endpoints(), "500")) {
            for (int i = 0; i < 3; i++) {
                lines.add(report.readLine());
            }
            assertEquals(0, report.waitForExit());
        }
        for (String line : lines) {
            System.out.println("[latency] " + line);
        }
        assertTrue(lines.get(0).startsWith("cached getLong"), lines.get(0));
        assertTrue(lines.get(1).startsWith("native call baseline"), lines.get(1));
        assertTrue(lines.get(2).startsWith("uncontended lock+set+unlock"), lines.get(2));
        Files.write(TestCluster.workDir().resolveSibling("latency-report.txt"), lines, StandardCharsets.UTF_8);
    }
}
