package org.sovereign.rap.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * HAProxy (Debian's {@code haproxy}) running the repository's deploy/rap/haproxy.cfg in front of two
 * test Tomcats, configured through the environment as an operator would (SOVEREIGN_HTTP_BIND,
 * SOVEREIGN_TOMCAT_A/B, SOVEREIGN_RAP_CONTEXT, SOVEREIGN_HAPROXY_SOCKET, and the test's overrides such
 * as SOVEREIGN_BALANCE), with its runtime API on a unix socket of its own. Started, it has seen both
 * Tomcats pass their health check; closed, it is gone and its socket removed.
 */
final class HaProxyProcess implements AutoCloseable {
    static final String BINARY = "/usr/sbin/haproxy";
    /** The backend and server names in deploy/rap/haproxy.cfg. */
    static final String BACKEND = "rap";
    static final List<String> SERVERS = List.of("tomcat-a", "tomcat-b");
    /** The response header in which the config names the server that answered. */
    static final String SERVED_BY_HEADER = "X-Sovereign-Server";
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    /** A server's state change as HAProxy sees it: checks every 500 ms, rise/fall 2, and slack. */
    static final Duration STATE_TIMEOUT = Duration.ofSeconds(10);
    /** One runtime API command: HAProxy answers a local socket in milliseconds. */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** "show stat" for two servers is a few KB; this bounds a runaway answer. */
    static final int REPLY_BYTES_MAX = 1 << 20;
    private static final long POLL_MS = 100;

    final int port;
    private final Process process;
    private final Path socketDir;
    private final Path socket;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private HaProxyProcess(int port, Process process, Path socketDir, Path log) {
        this.port = port;
        this.process = process;
        this.socketDir = socketDir;
        this.socket = socketDir.resolve("api.sock");
        this.log = log;
    }

    /**
     * Runs the config in system property {@code sovereign.rap.haproxy.config} with {@code a} as
     * tomcat-a and {@code b} as tomcat-b; {@code overrides} are further environment variables (e.g.
     * SOVEREIGN_BALANCE=first). Waits until both servers are UP.
     */
    static HaProxyProcess start(Path workDir, TomcatProcess a, TomcatProcess b, Map<String, String> overrides)
            throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        return start(workDir, a, b, overrides, port);
    }

    /**
     * The same on front port {@code port} of 127.0.0.1 (the demo's fixed one, which a person types
     * into a browser); fails with HAProxy's log if the port is taken.
     */
    static HaProxyProcess start(Path workDir, TomcatProcess a, TomcatProcess b, Map<String, String> overrides,
            int port) throws Exception {
        if (!Files.isExecutable(Path.of(BINARY))) {
            throw new IllegalStateException(BINARY + " is missing: apt-get install haproxy (.ci/run installs it)");
        }
        Path config = TestPaths.required("sovereign.rap.haproxy.config", "it is deploy/rap/haproxy.cfg");
        // A unix socket path must stay under 108 bytes: a short folder in /tmp, not the work folder.
        Path socketDir = Files.createTempDirectory(Path.of("/tmp"), "sovereign-haproxy-");
        Path log = workDir.resolve("haproxy-" + port + ".log");
        ProcessBuilder builder = new ProcessBuilder(List.of(BINARY, "-db", "-f", config.toString()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> environment = builder.environment();
        environment.put("SOVEREIGN_HTTP_BIND", "127.0.0.1:" + port);
        environment.put("SOVEREIGN_TOMCAT_A", a.address());
        environment.put("SOVEREIGN_TOMCAT_B", b.address());
        environment.put("SOVEREIGN_RAP_CONTEXT", "/" + TomcatProcess.CONTEXT);
        environment.put("SOVEREIGN_HAPROXY_SOCKET", socketDir.resolve("api.sock").toString());
        environment.putAll(overrides);
        System.out.println("[haproxy] start on port " + port + " in front of " + a.address() + " and " + b.address()
                + " with " + overrides + "; log " + log);
        HaProxyProcess proxy = new HaProxyProcess(port, builder.start(), socketDir, log);
        try {
            proxy.awaitRuntimeApi();
            for (String server : SERVERS) {
                proxy.awaitStatus(server, "UP");
            }
        } catch (Exception | AssertionError e) {
            proxy.close();
            throw e;
        }
        return proxy;
    }

    private void awaitRuntimeApi() throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("haproxy exited with " + process.exitValue() + "; log:\n" + log());
            }
            if (Files.exists(socket)) {
                try {
                    command("show info");
                    return;
                } catch (IOException e) {
                    // bound but not accepting yet
                }
            }
            Thread.sleep(POLL_MS);
        }
        throw new AssertionError("haproxy's runtime API not up on " + socket + " within " + START_TIMEOUT + "; log:\n"
                + log());
    }

    /** Sends one runtime API command and returns HAProxy's answer (it closes the connection after it). */
    String command(String command) throws IOException {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                Selector selector = Selector.open()) {
            channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            ByteBuffer reply = ByteBuffer.allocate(REPLY_BYTES_MAX);
            long deadline = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
            while (reply.hasRemaining()) {
                long leftMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (leftMs <= 0) {
                    throw new IOException("haproxy did not finish answering '" + command + "' within " + COMMAND_TIMEOUT);
                }
                selector.select(leftMs);
                selector.selectedKeys().clear();
                if (channel.read(reply) < 0) {
                    return new String(reply.array(), 0, reply.position(), StandardCharsets.UTF_8);
                }
            }
            throw new IOException("haproxy's answer to '" + command + "' is over " + REPLY_BYTES_MAX + " bytes");
        }
    }

    /** The status column of {@code server} in "show stat" (UP, DOWN, MAINT, "UP 1/2", ...). */
    String status(String server) throws IOException {
        String[] lines = command("show stat").split("\n");
        if (lines.length == 0 || !lines[0].startsWith("# ")) {
            throw new IOException("unexpected 'show stat' answer: " + String.join("\n", lines));
        }
        Map<String, Integer> column = new HashMap<>();
        String[] names = lines[0].substring(2).split(",", -1);
        for (int i = 0; i < names.length; i++) {
            column.put(names[i], i);
        }
        for (String line : lines) {
            String[] fields = line.split(",", -1);
            if (fields.length == names.length && fields[column.get("pxname")].equals(BACKEND)
                    && fields[column.get("svname")].equals(server)) {
                return fields[column.get("status")];
            }
        }
        throw new IOException("no server " + BACKEND + "/" + server + " in 'show stat'");
    }

    /** Waits until HAProxy reports {@code server} with {@code expected} status. */
    void awaitStatus(String server, String expected) throws Exception {
        long deadline = System.nanoTime() + STATE_TIMEOUT.toNanos();
        String status = status(server);
        while (!status.equals(expected)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(BACKEND + "/" + server + " is " + status + ", not " + expected + " after "
                        + STATE_TIMEOUT + "; log:\n" + log());
            }
            Thread.sleep(POLL_MS);
            status = status(server);
        }
    }

    /**
     * {@code set server rap/<server> state <state>} (ready, drain or maint), as deploy/rap/consolidate.sh
     * does; for maint, waits until HAProxy reports MAINT.
     */
    void setState(String server, String state) throws Exception {
        String reply = command("set server " + BACKEND + "/" + server + " state " + state);
        if (!reply.isBlank()) {
            throw new AssertionError("haproxy refused state " + state + " for " + server + ": " + reply);
        }
        if (state.equals("maint")) {
            awaitStatus(server, "MAINT");
        }
        System.out.println("[haproxy] " + BACKEND + "/" + server + " state " + state);
    }

    /** The URL of {@code path} (e.g. "/orders/app") through HAProxy. */
    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url(path))).timeout(REQUEST_TIMEOUT).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** The server that answered a GET of {@code path}, as the config's response header names it. */
    String servedBy(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = get(path);
        return response.headers().firstValue(SERVED_BY_HEADER).orElseThrow(() -> new AssertionError(
                "no " + SERVED_BY_HEADER + " header on " + path + " (status " + response.statusCode() + ")"));
    }

    /** The runtime API's unix socket (for deploy/rap/runtime-api.py). */
    Path socketPath() {
        return socket;
    }

    /** The file HAProxy's output goes to. */
    Path logPath() {
        return log;
    }

    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(none)";
    }

    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        try {
            process.waitFor(STATE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(socket);
        Files.deleteIfExists(socketDir);
    }
}
