package org.sovereign.testkit;

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
 * A real three-node heap cluster for tests, plaintext or secured (TLS and tokens, as
 * {@code heap-server} runs by default): {@code heap-server} processes (the binary the pom names in
 * {@code sovereign.server.binary}) on free loopback ports, data and logs under
 * {@code target/test-work}. Shared by the agent's multi-JVM tests and the Tomcat deployment tests;
 * the client module's own tests use its TestCluster, which can also restart nodes.
 */
public final class HeapNodes implements AutoCloseable {
    static final int NODES = 3;
    /** How long start-up may take before the test fails. */
    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final long POLL_MS = 100;

    private final Path dir;
    /** The CA, node certificates and tokens of a secured cluster; null for a plaintext one. */
    private final Path securityDir;
    /** The write-role token application JVMs use on a secured cluster. */
    private String writeToken;
    private final int[] ports = new int[NODES];
    private final Process[] nodes = new Process[NODES];

    private HeapNodes(Path dir, boolean secured) {
        this.dir = dir;
        this.securityDir = secured ? dir.resolve("security") : null;
    }

    public static Path workDir() throws IOException {
        Path base = Path.of(System.getProperty("sovereign.test.dir", "target/test-work"));
        Files.createDirectories(base);
        return base;
    }

    public static Path requiredFile(String property, String hint) {
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

    /** Starts three plaintext nodes and waits until a client can write. */
    public static HeapNodes start() throws Exception {
        return start(false);
    }

    /**
     * Starts three secured nodes (a CA and node certificates from {@code heapctl cert}, an admin and
     * a write token from {@code heapctl token new}) and waits until a client can write.
     */
    public static HeapNodes startSecured() throws Exception {
        return start(true);
    }

    private static HeapNodes start(boolean secured) throws Exception {
        HeapNodes cluster = new HeapNodes(Files.createTempDirectory(workDir(), "cluster-"), secured);
        System.out.println("[cluster] start: 3 " + (secured ? "secured" : "plaintext") + " nodes in " + cluster.dir);
        if (secured) {
            cluster.prepareSecurity();
        }
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
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--id", Integer.toString(id), "--listen",
                "127.0.0.1:" + ports[id - 1], "--peers", peers.toString(), "--data-dir",
                dir.resolve("node" + id).toString()));
        if (securityDir == null) {
            command.add("--insecure-plaintext");
        } else {
            command.addAll(List.of("--tls-ca", securityDir.resolve("ca.pem").toString(),
                    "--tls-cert", securityDir.resolve("node" + id + ".pem").toString(),
                    "--tls-key", securityDir.resolve("node" + id + ".key").toString(),
                    "--tokens", securityDir.resolve("tokens.toml").toString()));
        }
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
            Security security = securityDir == null ? Security.plaintext() : Security.fromDirectory(securityDir);
            try (HeapClient client = HeapClient.connect(endpoints(), security)) {
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

    /** Writes the CA, the node certificates and the tokens with heapctl (as an operator would). */
    private void prepareSecurity() throws Exception {
        Files.createDirectories(securityDir);
        String folder = securityDir.toString();
        runHeapctl("cert", "ca", "--dir", folder);
        for (int id = 1; id <= NODES; id++) {
            runHeapctl("cert", "node", "--dir", folder, "--id", Integer.toString(id), "--host", "127.0.0.1");
        }
        String tokens = securityDir.resolve("tokens.toml").toString();
        String admin = runHeapctl("token", "new", "--name", "admin", "--role", "admin", "--tokens", tokens).strip();
        writeToken = runHeapctl("token", "new", "--name", "app", "--role", "write", "--tokens", tokens).strip();
        Files.writeString(securityDir.resolve(Security.ADMIN_TOKEN_FILE), admin + "\n", StandardCharsets.UTF_8);
    }

    /** Runs heapctl with {@code args}; returns its standard output, failing on an error exit. */
    private static String runHeapctl(String... args) throws Exception {
        Path heapctl = requiredFile("sovereign.heapctl.binary", "build it first: cargo build -p heapctl");
        List<String> command = new ArrayList<>(List.of(heapctl.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || process.exitValue() != 0) {
            throw new AssertionError("heapctl " + String.join(" ", args) + " failed");
        }
        return output;
    }

    /** The environment heapctl needs for this cluster (admin). */
    private void heapctlEnvironment(java.util.Map<String, String> environment) {
        environment.remove(Security.PLAINTEXT_ENV);
        environment.remove(Security.TOKEN_ENV);
        if (securityDir == null) {
            environment.put(Security.PLAINTEXT_ENV, "1");
        } else {
            environment.put(Security.SECURITY_DIR_ENV, securityDir.toString());
        }
    }

    /**
     * The environment an application JVM needs for this cluster: plaintext, or the security folder
     * (its CA) with the write-role token, found by the client's discovery rules as in production.
     */
    public void clientEnvironment(java.util.Map<String, String> environment) {
        environment.remove(Security.PLAINTEXT_ENV);
        environment.remove(Security.SECURITY_DIR_ENV);
        environment.remove(Security.TOKEN_ENV);
        if (securityDir == null) {
            environment.put(Security.PLAINTEXT_ENV, "1");
        } else {
            environment.put(Security.SECURITY_DIR_ENV, securityDir.toString());
            environment.put(Security.TOKEN_ENV, writeToken);
        }
    }

    /** The security folder (ca.pem, ...) of a secured cluster; null for a plaintext one. */
    public Path securityDir() {
        return securityDir;
    }

    /** Writes the write-role token to a file (for a context.xml tokenFile) and returns its path. */
    public Path writeTokenFile() throws IOException {
        Path file = dir.resolve("app.token");
        Files.writeString(file, writeToken + "\n", StandardCharsets.UTF_8);
        return file;
    }

    /** A client of this cluster with the admin token (for a test's own checks). */
    public HeapClient client() {
        return HeapClient.connect(endpoints(), securityDir == null ? Security.plaintext() : Security.fromDirectory(securityDir));
    }

    /** What one heapctl command printed (standard output and error together) and its exit status. */
    public record HeapctlRun(int exitCode, String output) {
    }

    /**
     * Runs heapctl against this cluster with the admin token ({@code heapctl --endpoints ... ARGS});
     * fails if it does not exit within {@link #READY_TIMEOUT}.
     */
    public HeapctlRun heapctl(String... args) throws IOException, InterruptedException {
        Path heapctl = requiredFile("sovereign.heapctl.binary", "build it first: cargo build -p heapctl");
        List<String> command = new ArrayList<>(List.of(heapctl.toString(), "--endpoints", endpoints()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        heapctlEnvironment(builder.environment());
        Process run = builder.start();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!run.waitFor(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            run.destroyForcibly();
            throw new AssertionError("heapctl " + String.join(" ", args) + " still running after " + READY_TIMEOUT);
        }
        return new HeapctlRun(run.exitValue(), output);
    }

    /** The id of the current leader, as {@code heapctl status --json} reports it. */
    public int leader() throws Exception {
        Pattern leader = Pattern.compile("\"leader\"\\s*:\\s*(\\d+)");
        Path heapctl = requiredFile("sovereign.heapctl.binary", "build it first: cargo build -p heapctl");
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String output = "";
        while (System.nanoTime() < deadline) {
            ProcessBuilder builder = new ProcessBuilder(heapctl.toString(), "--endpoints", endpoints(), "status", "--json")
                    .redirectErrorStream(true);
            heapctlEnvironment(builder.environment());
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

    /**
     * The highest last applied log index of the nodes, as {@code heapctl status --json} reports
     * them: read while nothing is in flight, the leader's, so the difference of two readings is how
     * many log entries were written between them.
     */
    public long lastApplied() throws Exception {
        Path heapctl = requiredFile("sovereign.heapctl.binary", "build it first: cargo build -p heapctl");
        HeapctlRun status = heapctl("status", "--json");
        Matcher matcher = Pattern.compile("\"last_applied\"\\s*:\\s*(\\d+)").matcher(status.output());
        long highest = -1;
        while (matcher.find()) {
            highest = Math.max(highest, Long.parseLong(matcher.group(1)));
        }
        if (status.exitCode() != 0 || highest < 0) {
            throw new AssertionError(heapctl + " status --json gave no last_applied: " + status.output());
        }
        return highest;
    }

    /** SIGKILL: node {@code id} dies at once ({@code destroyForcibly} is SIGKILL on Linux). */
    public void kill(int id) {
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
    public static void awaitDeath(Process process) {
        try {
            process.waitFor(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
