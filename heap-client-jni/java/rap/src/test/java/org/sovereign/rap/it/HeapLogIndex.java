package org.sovereign.rap.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.rap.json.JsonObject;
import org.eclipse.rap.json.JsonValue;
import org.sovereign.heap.Security;
import org.sovereign.testkit.HeapNodes;

/**
 * How far the heap's Raft log has grown: the leader's last applied index from
 * {@code heapctl status --json} (as an operator reads it). Read when no request is in flight, every
 * entry the leader appended is applied, so the difference of two readings is the number of log
 * entries written between them: what "one durable commit per UI request" is checked against.
 */
final class HeapLogIndex {
    /** heapctl answers in well under a second; longer means the cluster is in trouble. */
    static final long HEAPCTL_TIMEOUT_MS = 20_000;

    private final HeapNodes heap;
    private final Path heapctl;

    HeapLogIndex(HeapNodes heap) {
        this.heap = heap;
        this.heapctl = HeapNodes.requiredFile("sovereign.heapctl.binary", "build it: cargo build --release -p heapctl");
    }

    /** The leader's last applied log index. */
    long read() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(heapctl.toString(), "--endpoints", heap.endpoints(), "status",
                "--json").redirectError(ProcessBuilder.Redirect.INHERIT);
        adminEnvironment(builder.environment());
        Process status = builder.start();
        String output = new String(status.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!status.waitFor(HEAPCTL_TIMEOUT_MS, TimeUnit.MILLISECONDS) || status.exitValue() != 0) {
            throw new IllegalStateException("heapctl status failed: " + output);
        }
        JsonObject report = JsonValue.readFrom(output).asObject();
        JsonValue leader = report.get("leader");
        if (leader == null || !leader.isNumber()) {
            throw new IllegalStateException("no leader in heapctl's status: " + output);
        }
        for (JsonValue node : report.get("nodes").asArray()) {
            JsonObject fields = node.asObject();
            if (fields.get("id").asLong() == leader.asLong() && fields.get("last_applied").isNumber()) {
                return fields.get("last_applied").asLong();
            }
        }
        throw new IllegalStateException("heapctl's status has no last_applied for leader " + leader + ": " + output);
    }

    /** heapctl as the cluster's admin: the security folder (its CA and admin token), or plaintext. */
    private void adminEnvironment(Map<String, String> environment) {
        environment.remove(Security.PLAINTEXT_ENV);
        environment.remove(Security.TOKEN_ENV);
        environment.remove(Security.SECURITY_DIR_ENV);
        if (heap.securityDir() == null) {
            environment.put(Security.PLAINTEXT_ENV, "1");
        } else {
            environment.put(Security.SECURITY_DIR_ENV, heap.securityDir().toString());
        }
    }
}
