package org.sovereign.tomcat.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sovereign.testkit.HeapNodes;

/**
 * The session manager benchmark (run by tomcat/bench/run.sh, not by the tests): for
 * SovereignSessionManager (round-robin, no stickiness; also in JVMs with the agent, where the Integer
 * attribute is still bytes), StandardManager and DeltaManager (both sticky), two real Tomcats behind
 * HAProxy and wrk posting /api/incr (a read and a write of one session attribute) over pre-created
 * sessions; prints throughput, p50 and p99 and, on the heap, log entries per request, and checks that
 * the sessions' counts add up to the requests answered.
 */
public final class SessionBenchmark {
    /** Longest run per configuration: this machine is shared with other measurements. */
    static final int SECONDS_MAX = 10;
    static final int WRK_THREADS = 2;
    static final long WRK_TIMEOUT_S = 60;

    private SessionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(args[0]);
        int connections = Integer.parseInt(args[1]);
        int sessions = Integer.parseInt(args[2]);
        Path out = Path.of(args[3]);
        if (seconds > SECONDS_MAX) {
            throw new IllegalArgumentException("at most " + SECONDS_MAX + " s per configuration");
        }
        List<String> rows = new ArrayList<>();
        try (HeapNodes cluster = HeapNodes.startSecured()) {
            for (TomcatNode.Sessions kind : TomcatNode.Sessions.values()) {
                rows.add(run(kind, cluster, seconds, connections, sessions));
            }
        }
        String table = String.join("\n",
                "wrk -t" + WRK_THREADS + " -c" + connections + " -d" + seconds + "s, POST /cart/api/incr over " + sessions
                        + " sessions, 2 Tomcat 10.1.59 behind HAProxy, 3 heap-server nodes ("
                        + System.getProperty("sovereign.server.binary") + "), one machine",
                "",
                "| sessions | balancing | requests/s | p50 | p99 | non-2xx | requests | counts added | heap log entries per request |",
                "|---|---|---|---|---|---|---|---|---|") + "\n" + String.join("\n", rows) + "\n";
        System.out.println(table);
        Files.writeString(out, table, StandardCharsets.UTF_8);
    }

    private static String run(TomcatNode.Sessions kind, HeapNodes cluster, int seconds, int connections, int sessions)
            throws Exception {
        int tribesA = TomcatNode.freePort();
        int tribesB = TomcatNode.freePort();
        Path benchDir = HeapNodes.requiredFile("sovereign.bench.dir", "run bench/run.sh");
        boolean onHeap = kind == TomcatNode.Sessions.SOVEREIGN || kind == TomcatNode.Sessions.SOVEREIGN_AGENT;
        Path config = onHeap
                ? HeapNodes.requiredFile("sovereign.haproxy.config", "it is deploy/tomcat/haproxy.cfg")
                : benchDir.resolve("haproxy-sticky.cfg");
        System.out.println("[bench] " + kind);
        try (TomcatNode a = TomcatNode.start("A", cluster, true, kind, tribesA, tribesB);
                TomcatNode b = TomcatNode.start("B", cluster, false, kind, tribesB, tribesA);
                HaProxy proxy = HaProxy.start(a, b, config)) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                WebClient browser = new WebClient();
                WebClient.Answer answer = browser.post(proxy.url(), "/api/incr");
                if (answer.status() != 200) {
                    throw new IllegalStateException(kind + ": creating a session answered " + answer.status());
                }
                ids.add(browser.sessionId());
            }
            Path idsFile = HeapNodes.workDir().resolve("sessions-" + kind + ".txt");
            Files.write(idsFile, ids, StandardCharsets.UTF_8);
            long indexBefore = cluster.lastApplied();
            String report = wrk(proxy.url(), seconds, connections, benchDir.resolve("session-incr.lua"), idsFile);
            System.out.println(report);
            long answered = number(report, "(\\d+) requests in");
            // Everything wrk sent was answered, so applied: the entries its requests wrote (and the
            // clients' lease renewals meanwhile, a few per second).
            long entries = cluster.lastApplied() - indexBefore;
            long counted = 0;
            for (String id : ids) {
                WebClient browser = new WebClient();
                browser.useSession(id);
                counted += browser.get(proxy.url(), "/api/cart").number("count");
            }
            return "| " + kind.name().toLowerCase() + " | " + (onHeap ? "round-robin" : "sticky")
                    + " | " + Math.round(decimal(report, "Requests/sec:\\s+([\\d.]+)")) + " | " + latency(report, "50%")
                    + " | " + latency(report, "99%") + " | " + Math.max(0, number(report, "Non-2xx or 3xx responses: (\\d+)"))
                    + " | " + answered + " | " + (counted - sessions) + " | "
                    + (onHeap ? String.format("%.2f", (double) entries / answered) : "-")
                    + " |";
        }
    }

    private static String wrk(String url, int seconds, int connections, Path script, Path ids) throws Exception {
        Process wrk = new ProcessBuilder("wrk", "-t" + WRK_THREADS, "-c" + connections, "-d" + seconds + "s", "--latency",
                "-s", script.toString(), url, "--", ids.toString()).redirectErrorStream(true).start();
        String output = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!wrk.waitFor(WRK_TIMEOUT_S, TimeUnit.SECONDS) || wrk.exitValue() != 0) {
            throw new IllegalStateException("wrk failed: " + output);
        }
        return output;
    }

    private static long number(String text, String regex) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        return matcher.find() ? Long.parseLong(matcher.group(1)) : -1;
    }

    private static double decimal(String text, String regex) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        return matcher.find() ? Double.parseDouble(matcher.group(1)) : -1;
    }

    /** A percentile line of wrk's latency distribution ("99%   12.34ms"), in ms. */
    private static String latency(String text, String percentile) {
        Matcher matcher = Pattern.compile(Pattern.quote(percentile) + "\\s+([\\d.]+)(us|ms|s)\\b").matcher(text);
        if (!matcher.find()) {
            return "?";
        }
        double value = Double.parseDouble(matcher.group(1));
        double ms = switch (matcher.group(2)) {
            case "us" -> value / 1000;
            case "s" -> value * 1000;
            default -> value;
        };
        return String.format("%.1f ms", ms);
    }
}
