package org.sovereign.agent.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapException;
import org.sovereign.heap.Security;

/**
 * A real three-node plaintext cluster for the agent's multi-JVM tests: {@code heap-server} processes
 * (the binary the pom names in {@code sovereign.server.binary}) on free loopback ports, data and
 * logs under {@code target/test-work}. The client module's TestCluster does the same with more
 * (security, restarts); it is test code of another module, so the agent keeps this small copy.
 */
public final class HeapNodes implements AutoCloseable {
    static final int NODES = 3;
    /** How long start-up may take before the test fails. */
    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final long POLL_MS = 100;

    private final Path dir;
    private final int[] ports = new int[NODES];
    private final Process[] nodes = new Process[NODES];

    private HeapNodes(Path dir) {
        this.dir = dir;
    }

    public static Path workDir() throws IOException {
        Path base = Path.of(System.getProperty("sovereign.test.dir", "target/test-work"));
        Files.createDirectories(base);
        return base;
    }

    static Path requiredFile(String property, String hint) {
        String value = System.getProperty(property);
        if (value == null) {
            throw new IllegalStateException("system property " + property + " is not set; run the tests with Maven");
        }
        Path path = Path.of(value);
        if (!Files.exists(path)) {
            throw new IllegalStateException(path + " is missing; " + hint);
        }
        return path;
    }

    /** Starts three nodes and waits until a client can write. */
    public static HeapNodes start() throws Exception {
        HeapNodes cluster = new HeapNodes(Files.createTempDirectory(workDir(), "cluster-"));
        System.out.println("[cluster] start: 3 plaintext nodes in " + cluster.dir);
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < NODES; i++) {
                ServerSocket socket = new ServerSocket(0);
                sockets.add(socket);
                cluster.ports[i] = socket.getLocalPort();
            }
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
        try {
            for (int id = 1; id <= NODES; id++) {
                cluster.startNode(id);
            }
            cluster.awaitReady();
        } catch (Exception | AssertionError e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    public String endpoints() {
        StringBuilder endpoints = new StringBuilder();
        for (int id = 1; id <= NODES; id++) {
            endpoints.append(id == 1 ? "" : ",").append("127.0.0.1:").append(ports[id - 1]);
        }
        return endpoints.toString();
    }

    private void startNode(int id) throws IOException {
        StringBuilder peers = new StringBuilder();
        for (int peer = 1; peer <= NODES; peer++) {
            peers.append(peer == 1 ? "" : ",").append(peer).append("=127.0.0.1:").append(ports[peer - 1]);
        }
        Path binary = requiredFile("sovereign.server.binary", "build it first: cargo build -p heap-server");
        List<String> command = List.of(binary.toString(), "--id", Integer.toString(id), "--listen",
                "127.0.0.1:" + ports[id - 1], "--peers", peers.toString(), "--data-dir",
                dir.resolve("node" + id).toString(), "--insecure-plaintext");
        nodes[id - 1] = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("node" + id + ".log").toFile()))
                .start();
    }

    private void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        HeapException last = null;
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < NODES; i++) {
                if (!nodes[i].isAlive()) {
                    throw new AssertionError("node " + (i + 1) + " exited with " + nodes[i].exitValue() + "; see "
                            + dir.resolve("node" + (i + 1) + ".log"));
                }
            }
            try (HeapClient client = HeapClient.connect(endpoints(), Security.plaintext())) {
                client.root("test-cluster-ready").set("ready", true);
                System.out.println("[cluster] ready at " + endpoints());
                return;
            } catch (HeapException e) {
                last = e;
                Thread.sleep(POLL_MS);
            }
        }
        throw new AssertionError("cluster at " + endpoints() + " not ready within " + READY_TIMEOUT + "; logs in " + dir,
                last);
    }

    /** The id of the current leader, as {@code heapctl status --json} reports it. */
    int leader() throws Exception {
        Pattern leader = Pattern.compile("\"leader\"\\s*:\\s*(\\d+)");
        Path heapctl = requiredFile("sovereign.heapctl.binary", "build it first: cargo build -p heapctl");
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String output = "";
        while (System.nanoTime() < deadline) {
            ProcessBuilder builder = new ProcessBuilder(heapctl.toString(), "--endpoints", endpoints(), "status", "--json")
                    .redirectErrorStream(true);
            builder.environment().put("SOVEREIGN_PLAINTEXT", "1");
            Process status = builder.start();
            output = new String(status.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            status.waitFor(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Matcher matcher = leader.matcher(output);
            if (matcher.find() && Integer.parseInt(matcher.group(1)) > 0) {
                return Integer.parseInt(matcher.group(1));
            }
            Thread.sleep(POLL_MS);
        }
        throw new AssertionError("no leader within " + READY_TIMEOUT + "; heapctl said: " + output);
    }

    /** SIGKILL: node {@code id} dies at once ({@code destroyForcibly} is SIGKILL on Linux). */
    void kill(int id) {
        Process node = nodes[id - 1];
        if (node != null) {
            node.destroyForcibly();
            awaitDeath(node);
            nodes[id - 1] = null;
        }
    }

    @Override
    public void close() throws IOException {
        for (Process node : nodes) {
            if (node != null) {
                node.destroyForcibly();
                awaitDeath(node);
            }
        }
        for (int id = 1; id <= NODES; id++) {
            Path data = dir.resolve("node" + id);
            if (Files.exists(data)) {
                try (Stream<Path> paths = Files.walk(data)) {
                    paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
                }
            }
        }
        System.out.println("[cluster] stopped");
    }

    /** Waits for a killed process to be gone (bounded: SIGKILL cannot be refused); keeps an interrupt. */
    static void awaitDeath(Process process) {
        try {
            process.waitFor(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
