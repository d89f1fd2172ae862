package org.sovereign.heap;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real three-node Sovereign cluster for the tests: {@code heap-server} processes (the binary named
 * by the system property {@code sovereign.server.binary}, set by the pom) on free loopback ports,
 * with their data and logs in a fresh directory under {@code target/test-work}. {@link #start()}
 * starts a plaintext cluster ({@code --insecure-plaintext}); {@link #startSecured()} a secured one:
 * a CA, node certificates and tokens made with the built {@code heapctl} in the cluster's
 * {@code security} folder, and the nodes started with {@code --tls-ca/--tls-cert/--tls-key/--tokens}.
 * Both return once a client can connect and write; {@link #close()} kills every node.
 */
final class TestCluster implements AutoCloseable {
    static final int NODES = 3;
    /** How long start-up, a restart or a leader lookup may take before the test fails. */
    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    /** How long one {@code heapctl cert/token} command may take (it only writes files). */
    static final Duration HEAPCTL_TIMEOUT = Duration.ofSeconds(60);
    private static final long POLL_MS = 100;

    /** The tokens of a secured cluster: name and role, made before the nodes start (they read the file once). */
    static final String ADMIN_TOKEN = "test-admin";
    static final String WRITE_TOKEN = "test-writer";
    static final String READ_TOKEN = "test-reader";
    private static final String[][] TOKENS = {
        {ADMIN_TOKEN, "admin"},
        {WRITE_TOKEN, "write"},
        {READ_TOKEN, "read"},
    };
    /** A token as heapctl prints it: 32 random bytes as 64 lowercase hex digits. */
    private static final Pattern TOKEN_TEXT = Pattern.compile("[0-9a-f]{64}");

    private final Path dir;
    /** The security folder of a secured cluster (ca.pem, nodeN.pem/.key, tokens.toml, admin.token); null if plaintext. */
    private final Path securityDir;
    /** Token text by name (secured clusters only). */
    private final Map<String, String> tokens = new HashMap<>();
    private final int[] ports = new int[NODES];
    private final Process[] nodes = new Process[NODES];

    private TestCluster(Path dir, Path securityDir) {
        this.dir = dir;
        this.securityDir = securityDir;
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

    /** Starts three plaintext nodes ({@code --insecure-plaintext}) and waits until the cluster accepts a client. */
    static TestCluster start() throws Exception {
        TestCluster cluster = new TestCluster(Files.createTempDirectory(workDir(), "cluster-"), null);
        System.out.println("[cluster] start: 3 plaintext nodes in " + cluster.dir);
        return cluster.startAll();
    }

    /**
     * Starts three secured nodes (TLS with certificates from a fresh CA, the tokens {@link #ADMIN_TOKEN},
     * {@link #WRITE_TOKEN} and {@link #READ_TOKEN}) and waits until an admin client connects and writes.
     */
    static TestCluster startSecured() throws Exception {
        Path dir = Files.createTempDirectory(workDir(), "cluster-");
        TestCluster cluster = new TestCluster(dir, dir.resolve("security"));
        System.out.println("[cluster] start: 3 secured nodes in " + cluster.dir);
        cluster.prepareSecurity();
        return cluster.startAll();
    }

    /** Starts every node on fresh ports and waits until the cluster accepts a client; on failure kills them. */
    private TestCluster startAll() throws Exception {
        // Hold all listeners until every port is known, so the three ports differ.
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < NODES; i++) {
                ServerSocket socket = new ServerSocket(0);
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
        try {
            for (int id = 1; id <= NODES; id++) {
                startNode(id);
            }
            awaitReady();
        } catch (Exception | AssertionError e) {
            // No test will close a cluster it never got: do not leave its nodes running.
            close();
            throw e;
        }
        return this;
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

    /**
     * Makes the security folder with heapctl: the CA, one certificate per node (for 127.0.0.1) and
     * the tokens (tokens.toml holds their digests; the texts heapctl prints are kept in memory, and
     * the admin one in admin.token, so {@link Security#fromDirectory} and heapctl find it).
     */
    private void prepareSecurity() throws Exception {
        Files.createDirectories(securityDir);
        String folder = securityDir.toString();
        heapctl("cert", "ca", "--dir", folder);
        for (int id = 1; id <= NODES; id++) {
            heapctl("cert", "node", "--dir", folder, "--id", Integer.toString(id), "--host", "127.0.0.1");
        }
        Path tokenFile = securityDir.resolve("tokens.toml");
        for (String[] token : TOKENS) {
            // heapctl prints the token alone on standard output (its notes go to standard error).
            String output = heapctl("token", "new", "--name", token[0], "--role", token[1], "--tokens",
                    tokenFile.toString()).strip();
            if (!TOKEN_TEXT.matcher(output).matches()) {
                throw new AssertionError("heapctl token new printed " + output.length()
                        + " characters, not a token of 64 hex digits alone");
            }
            tokens.put(token[0], output);
        }
        Path adminToken = securityDir.resolve(Security.ADMIN_TOKEN_FILE);
        if (!Files.exists(adminToken)) {
            Files.writeString(adminToken, tokens.get(ADMIN_TOKEN) + "\n", StandardCharsets.UTF_8);
        }
        System.out.println("[cluster] security folder " + securityDir + ": CA, " + NODES + " node certificates, tokens "
                + tokens.keySet());
    }

    /**
     * Runs heapctl with {@code args} and returns what it printed on standard output (its notes go to
     * standard error, shown only when it fails); fails on an error exit or a hang.
     */
    static String heapctl(String... args) throws Exception {
        return runHeapctl(new ProcessBuilder(), List.of(args));
    }

    /**
     * Runs heapctl aimed at this cluster (its endpoints, exactly its security: the admin token of a
     * secured one) and returns what it printed on standard output, as {@link #heapctl} does.
     */
    String heapctlHere(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--endpoints", endpoints()));
        all.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder();
        securityEnvironment(builder.environment());
        return runHeapctl(builder, all);
    }

    private static String runHeapctl(ProcessBuilder builder, List<String> args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(binary("sovereign.heapctl.binary").toString());
        command.addAll(args);
        Process process = builder.command(command).start();
        // Read on other threads so that a heapctl that hangs or fills a pipe cannot block the test.
        CompletableFuture<String> output = readAsync(process.getInputStream());
        CompletableFuture<String> errors = readAsync(process.getErrorStream());
        String described = "heapctl " + String.join(" ", args);
        if (!process.waitFor(HEAPCTL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(described + " did not finish within " + HEAPCTL_TIMEOUT);
        }
        String text = output.get(HEAPCTL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        String errorText = errors.get(HEAPCTL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (process.exitValue() != 0) {
            throw new AssertionError(described + " exited with " + process.exitValue() + ": " + text + errorText);
        }
        return text;
    }

    private static CompletableFuture<String> readAsync(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(cannot read it: " + e + ")";
            }
        });
    }

    /** Whether this cluster was started with TLS and tokens. */
    boolean isSecured() {
        return securityDir != null;
    }

    /** The security folder (ca.pem, admin.token, tokens.toml, node certificates) of a secured cluster. */
    Path securityDir() {
        if (securityDir == null) {
            throw new IllegalStateException("a plaintext cluster has no security folder; start it with startSecured()");
        }
        return securityDir;
    }

    /** The text of the token made for {@code name} ({@link #ADMIN_TOKEN}, {@link #WRITE_TOKEN}, {@link #READ_TOKEN}). */
    String token(String name) {
        String token = tokens.get(name);
        if (token == null) {
            throw new IllegalStateException("no token " + name + " in this cluster; it has " + tokens.keySet());
        }
        return token;
    }

    /** What an admin client of this cluster uses: plaintext, or the CA and the admin token. */
    Security security() {
        return isSecured() ? Security.fromDirectory(securityDir).withToken(token(ADMIN_TOKEN)) : Security.plaintext();
    }

    /** The environment for heapctl: exactly this cluster's security, whatever the test JVM's own is. */
    private void securityEnvironment(Map<String, String> environment) {
        environment.remove(Security.SECURITY_DIR_ENV);
        environment.remove(Security.CA_ENV);
        environment.remove(Security.TOKEN_ENV);
        environment.remove(Security.PLAINTEXT_ENV);
        if (isSecured()) {
            environment.put(Security.SECURITY_DIR_ENV, securityDir.toString());
        } else {
            environment.put(Security.PLAINTEXT_ENV, "1");
        }
    }

    /** Starts node {@code id} (again, on its existing data directory after a kill). */
    void startNode(int id) throws IOException {
        Path log = dir.resolve("node" + id + ".log");
        List<String> command = new ArrayList<>(List.of(binary("sovereign.server.binary").toString(),
                "--id", Integer.toString(id), "--listen", address(id), "--peers", peers(),
                "--data-dir", dir.resolve("node" + id).toString()));
        if (isSecured()) {
            command.addAll(List.of("--tls-ca", securityDir.resolve("ca.pem").toString(),
                    "--tls-cert", securityDir.resolve("node" + id + ".pem").toString(),
                    "--tls-key", securityDir.resolve("node" + id + ".key").toString(),
                    "--tokens", securityDir.resolve("tokens.toml").toString()));
        } else {
            command.add("--insecure-plaintext");
        }
        ProcessBuilder builder = new ProcessBuilder(command)
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
            try (HeapClient client = HeapClient.connect(endpoints(), security())) {
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
            ProcessBuilder builder = new ProcessBuilder(binary("sovereign.heapctl.binary").toString(), "--endpoints",
                    endpoints(), "status", "--json").redirectErrorStream(true);
            securityEnvironment(builder.environment());
            Process heapctl = builder.start();
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
