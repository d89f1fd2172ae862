package org.sovereign.tomcat.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.sovereign.testkit.HeapNodes;

/**
 * HAProxy (Debian's {@code haproxy}) running the repository's deploy/tomcat/haproxy.cfg, with the two
 * Tomcats' addresses and its own port given through the environment, as an operator would.
 */
final class HaProxy implements AutoCloseable {
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    static final String BINARY = "/usr/sbin/haproxy";

    final int port;
    private final Process process;

    private HaProxy(int port, Process process) {
        this.port = port;
        this.process = process;
    }

    static HaProxy start(TomcatNode a, TomcatNode b) throws Exception {
        return start(a, b, HeapNodes.requiredFile("sovereign.haproxy.config", "it is deploy/tomcat/haproxy.cfg"));
    }

    /** As {@link #start(TomcatNode, TomcatNode)}, running {@code config} (same environment variables). */
    static HaProxy start(TomcatNode a, TomcatNode b, Path config) throws Exception {
        if (!Files.isExecutable(Path.of(BINARY))) {
            throw new IllegalStateException(BINARY + " is missing: apt-get install haproxy (.ci/run installs it)");
        }
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path log = HeapNodes.workDir().resolve("haproxy-" + port + ".log");
        ProcessBuilder builder = new ProcessBuilder(List.of(BINARY, "-db", "-f", config.toString()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put("SOVEREIGN_HTTP_BIND", "127.0.0.1:" + port);
        builder.environment().put("SOVEREIGN_TOMCAT_A", a.address());
        builder.environment().put("SOVEREIGN_TOMCAT_B", b.address());
        System.out.println("[haproxy] start on port " + port + " in front of " + a.address() + " and " + b.address());
        HaProxy proxy = new HaProxy(port, builder.start());
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!proxy.process.isAlive()) {
                throw new AssertionError("haproxy exited with " + proxy.process.exitValue() + "; log:\n"
                        + Files.readString(log));
            }
            try {
                new Socket("127.0.0.1", port).close();
                return proxy;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        proxy.close();
        throw new AssertionError("haproxy not listening within " + START_TIMEOUT);
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        process.destroyForcibly();
        HeapNodes.awaitDeath(process);
    }
}
