package org.sovereign.rap.it;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.sovereign.testkit.HeapNodes;

/**
 * The RAP failover demo by hand (rap/demo/run.sh starts it): three heap nodes, two Tomcats with the
 * recording order-entry demo and HAProxy running deploy/rap/haproxy.cfg round-robin on a fixed front
 * port, the same deployment RapFailoverIT drives with a browser. Prints what to open and the commands
 * to try a failover ({@link DemoGuide}), reports what HAProxy sees while it runs, and on SIGINT or
 * SIGTERM stops everything it started. A tool, not a test: it checks nothing.
 */
final class DemoMain {
    static final int FRONT_PORT_DEFAULT = 8080;
    /** Exit status for a wrong argument or a taken port (the script's own usage errors use it too). */
    static final int EXIT_USAGE = 2;
    /**
     * How long the shutdown hook waits for main to stop everything. A start in progress finishes
     * first (the harness has no way to abandon one half-way without leaving processes behind), and
     * that is bounded by its own timeouts: heap 60 s, Tomcats 90 s (in parallel), HAProxy 30 s + 2 x 10 s.
     */
    static final Duration STOP_TIMEOUT = Duration.ofMinutes(5);
    /** How often the watch reads HAProxy's server states and the Tomcats' liveness. */
    static final Duration WATCH_INTERVAL = Duration.ofSeconds(1);
    /** Set once everything runs, so a stop during the start can say it waits for the start. */
    private static final AtomicBoolean RUNNING = new AtomicBoolean();
    private static final String PROCESS_RUNNING = "running";
    /** The status HaProxyProcess.start waits for on both servers. */
    private static final String HAPROXY_UP = "UP";

    private DemoMain() {
    }

    public static void main(String[] args) throws Exception {
        int frontPort;
        try {
            frontPort = frontPort(args);
        } catch (IllegalArgumentException e) {
            System.err.println("[demo] " + e.getMessage());
            System.exit(EXIT_USAGE);
            return;
        }
        if (!isFree(frontPort)) {
            System.err.println("[demo] port " + frontPort + " on 127.0.0.1 is taken (see: ss -ltnp 'sport = :" + frontPort
                    + "'); stop what listens there or give another port: run.sh 8090");
            System.exit(EXIT_USAGE);
        }
        CountDownLatch stopRequested = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(stopRequested, stopped), "demo-stop"));
        try {
            run(frontPort, stopRequested);
        } finally {
            stopped.countDown();
        }
    }

    /** The front port from the arguments: none (the default) or one number from 1 to 65535. */
    static int frontPort(String[] args) {
        if (args.length == 0) {
            return FRONT_PORT_DEFAULT;
        }
        String usage = "usage: run.sh [FRONT_PORT]   (1 to 65535, default " + FRONT_PORT_DEFAULT + "), not "
                + String.join(" ", args);
        if (args.length > 1 || !args[0].matches("[0-9]{1,5}")) {
            throw new IllegalArgumentException(usage);
        }
        int port = Integer.parseInt(args[0]);
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException(usage);
        }
        return port;
    }

    /** Whether HAProxy could bind 127.0.0.1:{@code port} now (as it does, with SO_REUSEADDR). */
    static boolean isFree(int port) throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (BindException e) {
            return false;
        }
    }

    /** Starts the deployment, prints the guide, watches until a stop is requested, stops it all. */
    private static void run(int frontPort, CountDownLatch stopRequested) throws Exception {
        Path work = TestPaths.directory("sovereign.test.dir", "target/demo/work");
        System.out.println("[demo] starting 3 heap nodes, 2 Tomcats and HAProxy on port " + frontPort + " (about a minute)");
        // try-with-resources closes in reverse order, and closes what started if a later start fails.
        try (HeapNodes heap = HeapNodes.start();
                TomcatGroup tomcats = TomcatGroup.start(work, List.of(TomcatSettings.withHeap("tomcat-a", heap),
                        TomcatSettings.withHeap("tomcat-b", heap)));
                HaProxyProcess proxy = HaProxyProcess.start(work, tomcats.get(0), tomcats.get(1), Map.of(), frontPort)) {
            if (stopRequested.getCount() > 0) {
                DemoGuide.print(work, proxy, tomcats);
                RUNNING.set(true);
            }
            watch(stopRequested, proxy, tomcats);
            System.out.println("[demo] stopping HAProxy, the Tomcats and the heap nodes");
        }
        System.out.println("[demo] stopped; logs stay in " + work.toAbsolutePath());
    }

    /**
     * Until a stop is requested, prints each change of HAProxy's view of a Tomcat (UP, DOWN, MAINT) and
     * each Tomcat that died, so a person trying a failover sees it land. Runs as long as the person
     * wants the demo: no bound but the stop.
     */
    private static void watch(CountDownLatch stopRequested, HaProxyProcess proxy, TomcatGroup tomcats)
            throws InterruptedException {
        // What the start waited for, so a change even before the first look is reported.
        Map<String, String> lastSeen = new HashMap<>();
        for (int i = 0; i < tomcats.size(); i++) {
            lastSeen.put(processKey(tomcats.get(i)), PROCESS_RUNNING);
            lastSeen.put(haproxyKey(tomcats.get(i)), HAPROXY_UP);
        }
        while (!stopRequested.await(WATCH_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)) {
            for (int i = 0; i < tomcats.size(); i++) {
                TomcatProcess tomcat = tomcats.get(i);
                report(lastSeen, processKey(tomcat), tomcat.isAlive() ? PROCESS_RUNNING : "exited (pid " + tomcat.pid() + ")");
                report(lastSeen, haproxyKey(tomcat), status(proxy, tomcat.name));
            }
        }
    }

    private static String processKey(TomcatProcess tomcat) {
        return tomcat.name + " process";
    }

    private static String haproxyKey(TomcatProcess tomcat) {
        return "HAProxy's " + HaProxyProcess.BACKEND + "/" + tomcat.name;
    }

    private static String status(HaProxyProcess proxy, String server) {
        try {
            return proxy.status(server);
        } catch (IOException e) {
            return "unknown (the runtime API does not answer: " + e.getMessage() + ")";
        }
    }

    private static void report(Map<String, String> lastSeen, String what, String now) {
        String before = lastSeen.put(what, now);
        if (!now.equals(before)) {
            System.out.println("[demo] " + what + ": " + before + " -> " + now);
        }
    }

    /** The shutdown hook: asks main to stop and waits until it has (the JVM exits when hooks return). */
    private static void stop(CountDownLatch stopRequested, CountDownLatch stopped) {
        if (stopped.getCount() > 0) {
            System.out.println(RUNNING.get() ? "[demo] stop requested"
                    : "[demo] stop requested during the start: it finishes first, then everything stops");
        }
        stopRequested.countDown();
        try {
            if (!stopped.await(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                System.err.println("[demo] not stopped within " + STOP_TIMEOUT + "; check: pgrep -f catalina; pgrep haproxy; "
                        + "pgrep heap-server");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
