package org.sovereign.tomcat.it;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.sovereign.testkit.HeapNodes;

/**
 * One real Tomcat 10.1 process: the unpacked distribution as CATALINA_HOME, a CATALINA_BASE of its
 * own (the distribution's conf/ with a small server.xml on a free port; lib/ with the Sovereign
 * jars; webapps/cart/ the demo shop from target/test-classes, its META-INF/context.xml declaring
 * SovereignSessionManager and SessionLockValve), started with Bootstrap directly so that the test
 * can SIGKILL it.
 */
final class TomcatNode implements AutoCloseable {
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final long POLL_MS = 100;
    /** The heap session lease of each Tomcat (the manager's sessionTtlMs): short, so a test that
     *  stalls a Tomcat past it waits seconds; long enough for a loaded 2-core machine's pauses. */
    static final long HEAP_SESSION_TTL_MS = 3_000;

    final String name;
    final int port;
    private final Path base;
    private final Process process;

    private TomcatNode(String name, int port, Path base, Process process) {
        this.name = name;
        this.port = port;
        this.base = base;
        this.process = process;
    }

    /** Which session manager the demo shop runs with (the benchmark compares them). */
    enum Sessions {
        /** SovereignSessionManager and SessionLockValve: sessions on the heap, no stickiness needed. */
        SOVEREIGN,
        /**
         * The same, in a JVM started with the Sovereign agent ({@code -javaagent}, instrumenting
         * {@code demo.cart.**}): the cart is stored as a shared graph, not as bytes.
         */
        SOVEREIGN_AGENT,
        /** Tomcat's StandardManager: sessions in one Tomcat's memory (needs stickiness; no failover). */
        STANDARD,
        /** Tomcat's DeltaManager: sessions replicated to the other Tomcat over Tribes (sticky). */
        DELTA
    }

    /**
     * Starts Tomcat {@code name} against {@code cluster}. With {@code securityInContext}, context.xml
     * names the security folder and a token file; otherwise the JVM gets SOVEREIGN_SECURITY_DIR and
     * SOVEREIGN_TOKEN and the manager finds them by the client's discovery.
     */
    static TomcatNode start(String name, HeapNodes cluster, boolean securityInContext) throws Exception {
        return start(name, cluster, securityInContext, Sessions.SOVEREIGN, 0, 0);
    }

    /** A free loopback port (for a Tomcat's HTTP connector or its Tribes receiver). */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /**
     * As {@link #start(String, HeapNodes, boolean)}, with the session manager {@code sessions}; for
     * {@link Sessions#DELTA}, this Tomcat's Tribes receiver is on {@code tribesPort} and its peer's on
     * {@code peerTribesPort}.
     */
    static TomcatNode start(String name, HeapNodes cluster, boolean securityInContext, Sessions sessions,
            int tribesPort, int peerTribesPort) throws Exception {
        int port = freePort();
        Path home = HeapNodes.requiredFile("sovereign.tomcat.home", "run the tests with Maven (it unpacks Tomcat)");
        Path base = Files.createTempDirectory(HeapNodes.workDir(), "tomcat-" + name + "-");
        prepareBase(home, base, port, cluster, securityInContext);
        if (sessions == Sessions.STANDARD || sessions == Sessions.DELTA) {
            TomcatConfigs.useTomcatSessions(base, name, port, sessions == Sessions.DELTA, tribesPort, peerTribesPort);
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m"));
        if (sessions == Sessions.SOVEREIGN_AGENT) {
            command.add("-javaagent:" + HeapNodes.requiredFile("sovereign.agent.jar", "mvn package copies it") + "=config="
                    + writeAgentConfig(base, cluster));
        }
        command.addAll(List.of("-Ddemo.node=" + name, "-Dcatalina.home=" + home, "-Dcatalina.base=" + base,
                "-Djava.io.tmpdir=" + base.resolve("temp"),
                "-cp", home.resolve("bin/bootstrap.jar") + ":" + home.resolve("bin/tomcat-juli.jar"),
                "org.apache.catalina.startup.Bootstrap", "start"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("logs/console.log").toFile()));
        cluster.clientEnvironment(builder.environment());
        if (sessions == Sessions.SOVEREIGN_AGENT) {
            // The manager uses the agent's heap session then: its lease, like sessionTtlMs otherwise.
            builder.environment().put("SOVEREIGN_SESSION_TTL_MS", Long.toString(HEAP_SESSION_TTL_MS));
        }
        if (securityInContext && sessions != Sessions.SOVEREIGN_AGENT) { // the agent reads the environment
            builder.environment().remove("SOVEREIGN_SECURITY_DIR");
            builder.environment().remove("SOVEREIGN_TOKEN");
        }
        System.out.println("[tomcat " + name + "] start on port " + port + ", CATALINA_BASE " + base);
        TomcatNode node = new TomcatNode(name, port, base, builder.start());
        node.awaitReady();
        return node;
    }

    private static void prepareBase(Path home, Path base, int port, HeapNodes cluster, boolean securityInContext)
            throws IOException {
        for (String dir : List.of("conf", "lib", "logs", "temp", "work", "webapps/cart/WEB-INF/classes/demo/cart",
                "webapps/cart/META-INF")) {
            Files.createDirectories(base.resolve(dir));
        }
        for (String file : List.of("web.xml", "catalina.properties", "catalina.policy", "logging.properties")) {
            Files.copy(home.resolve("conf").resolve(file), base.resolve("conf").resolve(file));
        }
        Files.writeString(base.resolve("conf/server.xml"), String.join("\n",
                "<Server port=\"-1\" shutdown=\"SHUTDOWN\">",
                "  <Service name=\"Catalina\">",
                "    <Connector port=\"" + port + "\" address=\"127.0.0.1\" protocol=\"HTTP/1.1\" connectionTimeout=\"20000\"/>",
                "    <Engine name=\"Catalina\" defaultHost=\"localhost\">",
                "      <Host name=\"localhost\" appBase=\"webapps\" unpackWARs=\"false\" autoDeploy=\"false\"/>",
                "    </Engine>",
                "  </Service>",
                "</Server>", ""), StandardCharsets.UTF_8);
        Files.copy(HeapNodes.requiredFile("sovereign.tomcat.jar", "mvn package builds it"),
                base.resolve("lib/sovereign-tomcat.jar"));
        try (Stream<Path> jars = Files.list(HeapNodes.requiredFile("sovereign.tomcat.lib", "mvn package copies it"))) {
            for (Path jar : (Iterable<Path>) jars::iterator) {
                Files.copy(jar, base.resolve("lib").resolve(jar.getFileName()));
            }
        }
        Path classes = HeapNodes.requiredFile("sovereign.test.classes", "run the tests with Maven");
        try (Stream<Path> files = Files.list(classes.resolve("demo/cart"))) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.copy(file, base.resolve("webapps/cart/WEB-INF/classes/demo/cart").resolve(file.getFileName()));
            }
        }
        copyTree(classes.resolve("cart-webapp"), base.resolve("webapps/cart"));
        String security = securityInContext
                ? "           securityDir=\"" + cluster.securityDir() + "\"\n           tokenFile=\""
                        + cluster.writeTokenFile() + "\"\n"
                : "";
        // The expiry scan every second (backgroundProcessorDelay 1 x processExpiresFrequency 1), so
        // the expiry test waits seconds, not minutes.
        Files.writeString(base.resolve("webapps/cart/META-INF/context.xml"), String.join("\n",
                "<Context backgroundProcessorDelay=\"1\">",
                "  <Manager className=\"org.sovereign.tomcat.SovereignSessionManager\"",
                "           endpoints=\"" + cluster.endpoints() + "\"",
                security + "           sessionTtlMs=\"" + HEAP_SESSION_TTL_MS + "\" processExpiresFrequency=\"1\"/>",
                "  <Valve className=\"org.sovereign.tomcat.SessionLockValve\"",
                "         noLockPatterns=\"/static/*\" readLockPatterns=\"/api/poll,/api/stats\"/>",
                "</Context>", ""), StandardCharsets.UTF_8);
    }

    /** The agent's config: the cluster's endpoints, and the demo shop's classes may be shared. */
    private static Path writeAgentConfig(Path base, HeapNodes cluster) throws IOException {
        Path config = base.resolve("conf/sovereign-agent.toml");
        Files.writeString(config, String.join("\n",
                "endpoints  = \"" + cluster.endpoints() + "\"",
                "instrument = [\"demo.cart.**\"]",
                ""), StandardCharsets.UTF_8);
        return config;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Waits until the demo shop answers (its static health file), failing with the log if Tomcat exits. */
    private void awaitReady() throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("tomcat " + name + " exited with " + process.exitValue() + "; log:\n" + log());
            }
            try {
                HttpURLConnection connection = (HttpURLConnection) URI.create(
                        "http://127.0.0.1:" + port + "/cart/static/health.txt").toURL().openConnection();
                connection.setConnectTimeout(1000);
                connection.setReadTimeout(5000);
                if (connection.getResponseCode() == 200) {
                    System.out.println("[tomcat " + name + "] ready");
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(POLL_MS);
        }
        throw new AssertionError("tomcat " + name + " not ready within " + START_TIMEOUT + "; log:\n" + log());
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    String log() throws IOException {
        Path log = base.resolve("logs/console.log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(none)";
    }

    /** SIGKILL: Tomcat dies at once, inside whatever requests it was running. */
    void kill() {
        process.destroyForcibly();
        HeapNodes.awaitDeath(process);
        System.out.println("[tomcat " + name + "] killed (SIGKILL)");
    }

    /** SIGSTOP (a stalled server: a long GC pause, a frozen VM) or SIGCONT of this Tomcat's pid. */
    void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new AssertionError("kill -" + signal + " " + process.pid() + " failed");
        }
        System.out.println("[tomcat " + name + "] SIG" + signal);
    }

    /**
     * Runs a full garbage collection in this Tomcat's JVM ({@code jcmd PID GC.run}), so the heap
     * client's handles nothing references any more are found and their holds released.
     */
    void gc() throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process run = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "GC.run")
                .redirectErrorStream(true).start();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (run.waitFor() != 0) {
            throw new AssertionError("jcmd " + process.pid() + " GC.run failed: " + output);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroyForcibly();
        HeapNodes.awaitDeath(process);
    }
}
