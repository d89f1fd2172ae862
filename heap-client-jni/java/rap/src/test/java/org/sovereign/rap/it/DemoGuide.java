package org.sovereign.rap.it;

import demo.orders.MessageLogFilter;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What {@link DemoMain} prints once the demo runs: the URLs to open, each Tomcat's pid and port with
 * the exact commands to try a failover by hand (kill -9, drain, status, resume, HAProxy's runtime
 * API), where the logs are, and how to stop it. Text only; it starts and stops nothing.
 */
final class DemoGuide {
    private DemoGuide() {
    }

    static void print(Path work, HaProxyProcess proxy, TomcatGroup tomcats) throws IOException {
        String context = "/" + TomcatProcess.CONTEXT;
        List<String> lines = new ArrayList<>();
        lines.add("");
        lines.add("==== The RAP failover demo runs: 3 heap nodes, 2 Tomcats, HAProxy round-robin (not sticky) ====");
        lines.add("Open (through HAProxy):");
        lines.add("  " + proxy.url(context + "/app") + "        the order-entry wizard");
        lines.add("  " + proxy.url(context + "/unstable") + "   a page whose replay differs: reported, never shown");
        lines.add("  " + proxy.url(context + "/status") + "     the orders placed so far (JSON)");
        lines.add("Each response's " + HaProxyProcess.SERVED_BY_HEADER + " header names the Tomcat that answered: curl -si "
                + proxy.url(context + "/status"));
        for (int i = 0; i < tomcats.size(); i++) {
            lines.addAll(tomcatLines(tomcats.get(i)));
        }
        lines.addAll(haproxyLines(proxy));
        lines.add("Logs:");
        for (int i = 0; i < tomcats.size(); i++) {
            TomcatProcess tomcat = tomcats.get(i);
            lines.add("  " + tomcat.name + ": " + tomcat.base.resolve("logs").toAbsolutePath() + "/ (console.log, "
                    + MessageLogFilter.LOG_FILE + ": the UI messages it served)");
        }
        lines.add("  haproxy:    " + proxy.logPath().toAbsolutePath());
        lines.add("  heap nodes: " + heapLogs(work));
        lines.add("Stop: Ctrl-C here, or kill " + ProcessHandle.current().pid() + " (SIGTERM); it stops all of the above.");
        lines.add("Only if this JVM is SIGKILLed, stop what it started: kill -9 " + childPids());
        lines.add("====");
        System.out.println(String.join("\n", lines));
    }

    private static List<String> tomcatLines(TomcatProcess tomcat) {
        String admin = "http://127.0.0.1:" + tomcat.port + "/" + TomcatProcess.CONTEXT + "/sovereign-rap";
        return List.of(
                tomcat.name + ": pid " + tomcat.pid() + ", port " + tomcat.port + " (" + tomcat.url("/app") + " directly)",
                "  kill -9 " + tomcat.pid() + "    # dies mid-whatever; its users carry on on the other Tomcat",
                "  curl -X POST " + admin + "/drain     # health answers 503, HAProxy takes it out in about 1 s",
                "  curl " + admin + "/status            # \"canSwitchOff\":true once no request is in flight",
                "  curl -X POST " + admin + "/resume    # back into the rotation");
    }

    private static List<String> haproxyLines(HaProxyProcess proxy) {
        Path config = TestPaths.required("sovereign.rap.haproxy.config", "it is deploy/rap/haproxy.cfg");
        String api = config.toAbsolutePath().normalize().resolveSibling("runtime-api.py") + " " + proxy.socketPath();
        String server = HaProxyProcess.BACKEND + "/" + HaProxyProcess.SERVERS.get(0);
        return List.of(
                "HAProxy: port " + proxy.port + ", runtime API socket " + proxy.socketPath(),
                "  " + api + " show stat",
                "  " + api + " set server " + server + " state maint     # or ready");
    }

    /** The heap nodes' logs: HeapNodes keeps them in a cluster-* folder of the work folder. */
    private static String heapLogs(Path work) throws IOException {
        List<String> folders = new ArrayList<>();
        try (DirectoryStream<Path> clusters = Files.newDirectoryStream(work, "cluster-*")) {
            for (Path cluster : clusters) {
                folders.add(cluster.toAbsolutePath() + "/node{1,2,3}.log");
            }
        }
        return folders.isEmpty() ? "(none found in " + work.toAbsolutePath() + ")" : String.join(", ", folders);
    }

    /** Every process this JVM started (heap-server x3, the Tomcats' JVMs, haproxy). */
    private static String childPids() {
        return ProcessHandle.current().children().map(child -> Long.toString(child.pid()))
                .collect(Collectors.joining(" "));
    }
}
