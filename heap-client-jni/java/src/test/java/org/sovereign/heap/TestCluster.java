package org.sovereign.heap;

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

/**
 * A real three-node Sovereign cluster for the tests: {@code heap-server} processes (the binary named
 * by the system property {@code sovereign.server.binary}, set by the pom) on free loopback ports,
 * with their data and logs in a fresh directory under {@code target/test-work}. {@link #start()}
 * returns once a client can connect and write; {@link #close()} kills every node.
 */
final class TestCluster implements AutoCloseable {
    static final int NODES = 3;
    /** How long start-up, a restart or a leader lookup may take before the test fails. */
    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final long POLL_MS = 100;

    private final Path dir;
    private final int[] ports = new int[NODES];
    private final Process[] nodes = new Process[NODES];

    private TestCluster(Path dir) {
        this.dir = dir;
    }

    static Path workDir() throws IOException {
        Path base = Path.of(System.getProperty("sovereign.test.dir", "target/test-work"));
        Files.createDirectories(base);
        return base;
    }

    static Path binary(String property) {
        String path = System.getProperty(property);
        if (path == null) {
            throw new IllegalStateException("system property " + property + " is not set; run the tests with Maven");
        }
        Path binary = Path.of(path);
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is missing; build it first: cargo build -p heap-server -p heapctl");
        }
        return binary;
    }

    /** Starts three nodes and waits until the cluster accepts a client. */
    static TestCluster start() throws Exception {
        TestCluster cluster = new TestCluster(Files.createTempDirectory(workDir(), "cluster-"));
        System.out.println("[cluster] start: 3 nodes in " + cluster.dir);
        // Hold all listeners until every port is known, so the three ports differ.
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
        for (int id = 1; id <= NODES; id++) {
            cluster.startNode(id);
        }
        cluster.awaitReady();
        return cluster;
    }

    String address(int id) {
        return "127.0.0.1:" + ports[id - 1];
    }

    String endpoints() {
        StringBuilder endpoints = new StringBuilder();
        for (int id = 1; id <= NODES; id++) {
            endpoints.append(id == 1 ? "" : ",").append(address(id));
        }
        return endpoints.toString();
    }

    private String peers() {
        StringBuilder peers = new StringBuilder();
        for (int id = 1; id <= NODES; id++) {
            peers.append(id == 1 ? "" : ",").append(id).append('=').append(address(id));
        }
        return peers.toString();
    }

    /** Starts node {@code id} (again, on its existing data directory after a kill). */
    void startNode(int id) throws IOException {
        Path log = dir.resolve("node" + id + ".log");
        ProcessBuilder builder = new ProcessBuilder(binary("sovereign.server.binary").toString(),
                "--id", Integer.toString(id), "--listen", address(id), "--peers", peers(),
                "--data-dir", dir.resolve("node" + id).toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        nodes[id - 1] = builder.start();
    }

    /** Waits until a client connects and can write a root. */
    void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        HeapException last = null;
        while (System.nanoTime() < deadline) {
            checkAlive();
            try (HeapClient client = HeapClient.connect(endpoints())) {
                client.root("test-cluster-ready").set("ready", true);
                System.out.println("[cluster] ready at " + endpoints());
                return;
            } catch (HeapException e) {
                last = e;
                Thread.sleep(POLL_MS);
            }
        }
        throw new AssertionError("cluster at " + endpoints() + " not ready within " + READY_TIMEOUT + "; logs in "
                + dir, last);
    }

    private void checkAlive() {
        for (int i = 0; i < NODES; i++) {
            if (nodes[i] != null && !nodes[i].isAlive()) {
                throw new AssertionError("node " + (i + 1) + " exited with " + nodes[i].exitValue() + "; see "
                        + dir.resolve("node" + (i + 1) + ".log"));
            }
        }
    }

    /** The id of the current leader, as {@code heapctl status --json} reports it. */
    int leader() throws Exception {
        Pattern leader = Pattern.compile("\"leader\"\\s*:\\s*(\\d+)");
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String output = "";
        while (System.nanoTime() < deadline) {
            Process heapctl = new ProcessBuilder(binary("sovereign.heapctl.binary").toString(), "--endpoints",
                    endpoints(), "status", "--json").redirectErrorStream(true).start();
            output = new String(heapctl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            heapctl.waitFor(30, TimeUnit.SECONDS);
            Matcher matcher = leader.matcher(output);
            if (matcher.find()) {
                return Integer.parseInt(matcher.group(1));
            }
            Thread.sleep(POLL_MS);
        }
        throw new AssertionError("no leader within " + READY_TIMEOUT + "; heapctl said: " + output);
    }

    /** SIGKILL: the node dies at once ({@code destroyForcibly} is SIGKILL on Linux). */
    void kill(int id) throws InterruptedException {
        Process node = nodes[id - 1];
        if (node != null) {
            node.destroyForcibly();
            node.waitFor();
            nodes[id - 1] = null;
        }
    }

    @Override
    public void close() throws Exception {
        for (int id = 1; id <= NODES; id++) {
            kill(id);
        }
        // The data directories go; the node logs stay in target/test-work for a failed run's reader.
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
}
