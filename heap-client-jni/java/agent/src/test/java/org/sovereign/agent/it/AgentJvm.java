package org.sovereign.agent.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.sovereign.testkit.HeapNodes;

/**
 * A JVM running demo application code (target/test-classes, which has no Sovereign classes), with or
 * without {@code -javaagent:<the built agent jar>=config=<file>}, against a plaintext cluster
 * ({@code SOVEREIGN_PLAINTEXT=1}, {@code SOVEREIGN_ENDPOINTS}, which overrides the config's
 * endpoints). The test reads its standard output line by line; standard error goes to a log file.
 */
final class AgentJvm implements AutoCloseable {
    /** How long one line may take to come (a JVM start plus a cluster round trip, on a loaded machine). */
    static final long LINE_TIMEOUT_MS = 120_000;

    private final String name;
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;
    private final Path log;

    private AgentJvm(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    }

    /** The agent config the tests use: endpoints come from SOVEREIGN_ENDPOINTS, which overrides this one. */
    static Path writeConfig(Path dir) throws IOException {
        Path config = dir.resolve("app.toml");
        Files.writeString(config, String.join("\n",
                "endpoints  = \"127.0.0.1:1\"          # replaced by SOVEREIGN_ENDPOINTS",
                "roots      = [\"demo.Counter.ROOT\", \"demo.Node.ROOT\", \"demo.Catalog.ROOT\", \"demo.Catalog.TOTALS\"]",
                "instrument = [\"demo.**\"]",
                "transient  = []",
                ""), StandardCharsets.UTF_8);
        return config;
    }

    /** Starts {@code main} with {@code args}; with the agent unless {@code config} is null. */
    static AgentJvm start(String name, HeapNodes cluster, Path config, String main, String... args) throws IOException {
        return start(name, cluster, config, List.of(), main, args);
    }

    /** As {@link #start(String, HeapNodes, Path, String, String...)}, with JVM options ({@code -Dname=value}) first. */
    static AgentJvm start(String name, HeapNodes cluster, Path config, List<String> options, String main, String... args)
            throws IOException {
        return start(name, cluster, config, options, List.of(), main, args);
    }

    /**
     * As {@link #start(String, HeapNodes, Path, List, String, String...)}, with {@code before} before
     * the Sovereign agent's option and {@code after} after it (another -javaagent, say).
     */
    static AgentJvm start(String name, HeapNodes cluster, Path config, List<String> before, List<String> after,
            String main, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx128m");
        command.addAll(before);
        if (config != null) {
            Path agent = HeapNodes.requiredFile("sovereign.agent.jar", "build it first: mvn package in heap-client-jni/java");
            command.add("-javaagent:" + agent + "=config=" + config);
        }
        command.addAll(after);
        command.add("-cp");
        command.add(HeapNodes.requiredFile("sovereign.test.classes", "run the tests with Maven").toString());
        command.add(main);
        command.addAll(List.of(args));
        Path log = HeapNodes.workDir().resolve("jvm-" + name + "-" + System.nanoTime() + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        if (cluster != null) {
            cluster.clientEnvironment(builder.environment());
            builder.environment().put("SOVEREIGN_ENDPOINTS", cluster.endpoints());
        } else {
            builder.environment().put("SOVEREIGN_PLAINTEXT", "1");
        }
        System.out.println("[jvm " + name + "] start: " + main + " " + String.join(" ", args)
                + (config == null ? " (no agent)" : " (agent)") + ", stderr in " + log);
        return new AgentJvm(name, builder.start(), log);
    }

    /** Runs {@code main} with the agent to its end: its first {@code lines} lines, after checking it exited with 0. */
    static String[] run(HeapNodes cluster, Path config, String name, String main, int lines, String... args)
            throws Exception {
        try (AgentJvm jvm = start(name, cluster, config, main, args)) {
            String[] out = new String[lines];
            for (int i = 0; i < lines; i++) {
                out[i] = jvm.readLine();
            }
            if (jvm.awaitExit() != 0) {
                throw new AssertionError("jvm " + name + " exited with " + jvm.process.exitValue() + "; stderr: "
                        + jvm.stderr());
            }
            return out;
        }
    }

    /** The next line the JVM prints; fails after {@link #LINE_TIMEOUT_MS} or if it exits first. */
    String readLine() throws Exception {
        return readLine(LINE_TIMEOUT_MS);
    }

    /** The next line the JVM prints; fails after {@code timeoutMs} or if it exits first. */
    String readLine(long timeoutMs) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        });
        String text;
        try {
            text = line.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("jvm " + name + " printed nothing for " + timeoutMs + " ms; its stderr: "
                    + stderr());
        }
        if (text == null) {
            throw new AssertionError("jvm " + name + " exited (status " + process.waitFor() + ") without a line; its "
                    + "stderr: " + stderr());
        }
        System.out.println("[jvm " + name + "] " + text);
        return text;
    }

    /** SIGKILL: the JVM dies at once, inside whatever it was doing ({@code destroyForcibly} is SIGKILL on Linux). */
    void kill() {
        process.destroyForcibly();
        HeapNodes.awaitDeath(process);
        System.out.println("[jvm " + name + "] killed (SIGKILL)");
    }

    void send(String line) {
        in.println(line);
    }

    /** Waits for the JVM to exit and returns its status. */
    int awaitExit() throws Exception {
        if (!process.waitFor(LINE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
            throw new AssertionError("jvm " + name + " did not exit within " + LINE_TIMEOUT_MS + " ms");
        }
        return process.exitValue();
    }

    String stderr() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(none)";
    }

    @Override
    public void close() {
        in.close();
        process.destroyForcibly();
        HeapNodes.awaitDeath(process);
    }
}
