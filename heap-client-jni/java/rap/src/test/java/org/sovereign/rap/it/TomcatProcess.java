package org.sovereign.rap.it;

import demo.orders.MessageLogFilter;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One real Tomcat 10.1 process running the order-entry demo: the unpacked distribution as
 * CATALINA_HOME, a CATALINA_BASE of its own (the distribution's conf/ with a small server.xml on a
 * free loopback port) whose webapps/orders/ is the exploded demo (web.xml and classes from
 * target/test-classes, the RAP jar in WEB-INF/lib), started with Bootstrap directly so the test owns
 * the process. Adapted from the tomcat module's TomcatNode, without the heap.
 */
final class TomcatProcess implements AutoCloseable {
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    static final Duration EXIT_TIMEOUT = Duration.ofSeconds(10);
    static final String CONTEXT = "orders";
    private static final long POLL_MS = 100;

    final int port;
    final Path base;
    private final Process process;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private TomcatProcess(int port, Path base, Process process) {
        this.port = port;
        this.base = base;
        this.process = process;
    }

    /** Starts Tomcat with the demo and waits until its status servlet answers. */
    static TomcatProcess start(Path workDir) throws Exception {
        int port = freePort();
        Path home = TestPaths.required("sovereign.tomcat.home", "run the test with Maven (it unpacks Tomcat)");
        Path base = Files.createTempDirectory(workDir, "tomcat-");
        prepareBase(home, base, port);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Dcatalina.home=" + home, "-Dcatalina.base=" + base,
                "-Djava.io.tmpdir=" + base.resolve("temp"),
                // RAP renders each widget's id (w2, w3, ...) as its DOM element's id, for the browser test.
                "-Dorg.eclipse.rap.rwt.enableUITests=true",
                "-cp", home.resolve("bin/bootstrap.jar") + ":" + home.resolve("bin/tomcat-juli.jar"),
                "org.apache.catalina.startup.Bootstrap", "start"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("logs/console.log").toFile()));
        System.out.println("[tomcat] start on port " + port + ", CATALINA_BASE " + base);
        long startedNanos = System.nanoTime();
        TomcatProcess tomcat = new TomcatProcess(port, base, builder.start());
        try {
            tomcat.awaitReady();
            System.out.printf("[tomcat] ready after %.1f s%n", (System.nanoTime() - startedNanos) / 1e9);
        } catch (Exception | AssertionError e) {
            tomcat.close();
            throw e;
        }
        return tomcat;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void prepareBase(Path home, Path base, int port) throws IOException {
        Path webapp = base.resolve("webapps").resolve(CONTEXT);
        for (Path dir : List.of(base.resolve("conf"), base.resolve("logs"), base.resolve("temp"), base.resolve("work"),
                webapp.resolve("WEB-INF/lib"), webapp.resolve("WEB-INF/classes/demo/orders"))) {
            Files.createDirectories(dir);
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
        Path classes = TestPaths.required("sovereign.test.classes", "run the test with Maven");
        copyTree(classes.resolve("demo/orders"), webapp.resolve("WEB-INF/classes/demo/orders"));
        copyTree(classes.resolve("orders-webapp"), webapp);
        Path lib = TestPaths.required("sovereign.rap.webappLib", "mvn copies the RAP jar there");
        copyTree(lib, webapp.resolve("WEB-INF/lib"));
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

    /** Polls the status servlet (which needs the RAP application started), failing with the log if Tomcat exits. */
    private void awaitReady() throws Exception {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("tomcat exited with " + process.exitValue() + "; log:\n" + log());
            }
            try {
                if (get("/status").statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(POLL_MS);
        }
        throw new AssertionError("tomcat not ready within " + START_TIMEOUT + "; log:\n" + log());
    }

    /** The demo's URL for {@code path} (e.g. "/app"). */
    String url(String path) {
        return "http://127.0.0.1:" + port + "/" + CONTEXT + path;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url(path))).timeout(REQUEST_TIMEOUT).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** The UI messages the demo's MessageLogFilter wrote, one JSON object a line. */
    List<String> messageLog() throws IOException {
        Path log = base.resolve("logs").resolve(MessageLogFilter.LOG_FILE);
        return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
    }

    String log() throws IOException {
        Path log = base.resolve("logs/console.log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(none)";
    }

    /** SIGKILL: nothing of the demo needs an orderly shutdown, and the test must not leave Tomcat behind. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("tomcat (pid " + process.pid() + ") still alive " + EXIT_TIMEOUT + " after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for tomcat (pid " + process.pid() + ") to exit", e);
        }
    }
}
