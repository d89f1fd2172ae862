package org.sovereign.heap;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A second JVM for the tests: {@code java -cp <test classpath> <main> <args>} with a line protocol
 * on its standard input and output. The classpath (target/classes and target/test-classes) comes
 * from the system property {@code sovereign.test.classpath} set by the pom; its stderr goes to a
 * log file.
 */
final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;

    private ChildJvm(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    }

    static ChildJvm start(List<String> jvmOptions, Class<?> main, String... args) throws IOException {
        String classpath = System.getProperty("sovereign.test.classpath");
        if (classpath == null) {
            throw new IllegalStateException("sovereign.test.classpath is not set; run the tests with Maven");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classpath);
        command.add(main.getName());
        command.addAll(List.of(args));
        Path log = TestCluster.workDir().resolve(main.getSimpleName() + "-" + ProcessHandle.current().pid() + ".log");
        Process process = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new ChildJvm(process);
    }

    /** The next line the child prints; fails if it exits first. */
    String readLine() throws IOException {
        String line = out.readLine();
        if (line == null) {
            throw new AssertionError("the child JVM exited (status " + waitForExit() + ") without answering; see its log "
                    + "in target/test-work");
        }
        return line;
    }

    /** Sends one command line and returns the child's one-line answer. */
    String ask(String command) throws IOException {
        in.println(command);
        return readLine();
    }

    int waitForExit() {
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public void close() {
        in.close();
        process.destroyForcibly();
        waitForExit();
    }
}
