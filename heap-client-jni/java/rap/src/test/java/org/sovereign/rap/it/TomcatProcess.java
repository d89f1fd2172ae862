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
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One real Tomcat 10.1 process running the order-entry demo: the unpacked distribution as
 * CATALINA_HOME, a CATALINA_BASE of its own (the distribution's conf/ with a small server.xml on a
 * free loopback port) whose webapps/orders/ is the exploded demo (web.xml and classes from
 * target/test-classes, the RAP jar in WEB-INF/lib), started with Bootstrap directly so the test owns
 * the process and can SIGKILL it. {@link TomcatSettings} add JVM arguments, context-params (the heap
 * endpoints), jars and environment; {@link TomcatGroup} starts several. Adapted from the tomcat
 * module's TomcatNode.
 */
final class TomcatProcess implements AutoCloseable {
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    static final Duration EXIT_TIMEOUT = Duration.ofSeconds(10);
    static final String CONTEXT = "orders";
    private static final long POLL_MS = 100;

    final String name;
    final int port;
    final Path base;
    private final Process process;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private TomcatProcess(String name, int port, Path base, Process process) {
        this.name = name;
        this.port = port;
        this.base = base;
        this.process = process;
    }

    /** Starts Tomcat with the demo as it is and waits until its status servlet answers. */
    static TomcatProcess start(Path workDir) throws Exception {
        return start(workDir, TomcatSettings.named("tomcat"));
    }

    /** Starts Tomcat with the demo and {@code settings} and waits until its status servlet answers. */
    static TomcatProcess start(Path workDir, TomcatSettings settings) throws Exception {
        int port = freePort();
        Path home = TestPaths.required("sovereign.tomcat.home", "run the test with Maven (it unpacks Tomcat)");
        Path base = Files.createTempDirectory(workDir, settings.name() + "-");
        prepareBase(home, base, port, settings);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Dcatalina.home=" + home, "-Dcatalina.base=" + base,
                "-Djava.io.tmpdir=" + base.resolve("temp"),
                // RAP renders each widget's id (w2, w3, ...) as its DOM element's id, for the browser test.
                "-Dorg.eclipse.rap.rwt.enableUITests=true"));
        command.addAll(settings.jvmArgs());
        command.addAll(List.of("-cp", home.resolve("bin/bootstrap.jar") + ":" + home.resolve("bin/tomcat-juli.jar"),
                "org.apache.catalina.startup.Bootstrap", "start"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(base.resolve("logs/console.log").toFile()));
        settings.environment().accept(builder.environment());
        System.out.println("[" + settings.name() + "] start on port " + port + ", CATALINA_BASE " + base);
        long startedNanos = System.nanoTime();
        TomcatProcess tomcat = new TomcatProcess(settings.name(), port, base, builder.start());
        try {
            tomcat.awaitReady();
            System.out.printf("[%s] ready after %.1f s (pid %d)%n", tomcat.name,
                    (System.nanoTime() - startedNanos) / 1e9, tomcat.process.pid());
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

    private static void prepareBase(Path home, Path base, int port, TomcatSettings settings) throws IOException {
        Path webapp = base.resolve("webapps").resolve(CONTEXT);
        for (Path dir : List.of(base.resolve("conf"), base.resolve("logs"), base.resolve("temp"), base.resolve("work"),
                webapp.resolve("WEB-INF/lib"), webapp.resolve("WEB-INF/classes/demo/orders"),
                webapp.resolve("META-INF"))) {
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
        Path lib = TestPaths.required("sovereign.rap.webappLib", "mvn copies the RAP and heap client jars there");
        copyTree(lib, webapp.resolve("WEB-INF/lib"));
        Path library = TestPaths.required("sovereign.rap.jar", "run the test in mvn's package phase, after the jar");
        Files.copy(library, webapp.resolve("WEB-INF/lib").resolve(library.getFileName()),
                StandardCopyOption.REPLACE_EXISTING);
        for (Path jar : settings.webappJars()) {
            Files.copy(jar, webapp.resolve("WEB-INF/lib").resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(webapp.resolve("META-INF/context.xml"), contextXml(settings.contextParams()),
                StandardCharsets.UTF_8);
    }

    /**
     * The webapp's context.xml: each context-param as a {@code <Parameter>}, which the webapp reads as
     * it reads web.xml's; {@code override="false"} so a web.xml entry of the same name cannot win over
     * what the test set.
     */
    static String contextXml(Map<String, String> params) {
        StringBuilder xml = new StringBuilder("<Context>\n");
        for (Map.Entry<String, String> param : params.entrySet()) {
            xml.append("  <Parameter name=\"").append(xmlAttribute(param.getKey())).append("\" value=\"")
                    .append(xmlAttribute(param.getValue())).append("\" override=\"false\"/>\n");
        }
        return xml.append("</Context>\n").toString();
    }

    private static String xmlAttribute(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
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
                throw new AssertionError(name + " exited with " + process.exitValue() + "; log:\n" + log());
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
        throw new AssertionError(name + " not ready within " + START_TIMEOUT + "; log:\n" + log());
    }

    /** host:port of its HTTP connector, as HAProxy's server line wants it. */
    String address() {
        return "127.0.0.1:" + port;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
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

    /**
     * SIGKILL of this Tomcat's own pid ({@code destroyForcibly} is SIGKILL on Linux): it dies at once,
     * inside whatever requests it was running, as a scenario's "the server dies" needs.
     */
    void kill() {
        close();
        System.out.println("[" + name + "] killed (SIGKILL to pid " + process.pid() + ")");
    }

    /** SIGSTOP (a stalled server: a long GC pause, a frozen VM) or SIGCONT of this Tomcat's pid. */
    void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new AssertionError("kill -" + signal + " " + process.pid() + " failed");
        }
        System.out.println("[" + name + "] SIG" + signal + " to pid " + process.pid());
    }

    /** SIGKILL: nothing of the demo needs an orderly shutdown, and the test must not leave Tomcat behind. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(name + " (pid " + process.pid() + ") still alive " + EXIT_TIMEOUT + " after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + name + " (pid " + process.pid() + ") to exit", e);
        }
    }
}
