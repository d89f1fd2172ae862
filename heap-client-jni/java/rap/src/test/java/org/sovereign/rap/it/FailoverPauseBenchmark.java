package org.sovereign.rap.it;

import java.lang.management.ManagementFactory;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.sovereign.testkit.HeapNodes;

/**
 * The RAP failover benchmark (issue 16's "Speed"; run by rap/bench/run.sh, never by the build: a
 * benchmark measures, it does not pass or fail on time). Three heap nodes (secured, as heap-server
 * runs by default), real Tomcats A and B (and C, SIGKILLed for the last failover row) with the
 * order-entry demo recording on the heap, UI sessions driven over HTTP ({@link UiSessionDriver})
 * straight to each Tomcat: phase 1 the failover pause ({@link FailoverPauses}), phase 2 the
 * recording overhead against another Tomcat with plain RAP ({@link RecordingOverhead}). Prints each phase's time and a Markdown table, written to args[1].
 */
public final class FailoverPauseBenchmark {
    /** Journal sizes of the issue: requests recorded before the failover request. */
    static final List<Integer> JOURNAL_SIZES = List.of(10, 100, 1_000);
    /** The journal size of the row whose UI sessions' Tomcat is SIGKILLed first (the target size). */
    static final int KILLED_JOURNAL_REQUESTS = 100;
    /** The context parameter that makes a server keep UI locks between requests (RecorderConfig). */
    static final String KEEP_UI_LOCKS_PARAM = "sovereign.rap.keepUiLocks";
    /** Whether Tomcats A, B and C keep UI locks (run.sh's KEEP_UI_LOCKS=true); default: as shipped. */
    static final boolean KEEP_UI_LOCKS = Boolean.getBoolean("sovereign.bench.keepUiLocks");
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

    private final long startedNs = System.nanoTime();
    /** Other work on the machine moves the numbers; the table says how busy it was. */
    private final double loadAtStart = loadAverage();
    private long phaseStartedNs = startedNs;

    private FailoverPauseBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: FailoverPauseBenchmark TRIALS OUTPUT.md (run bench/run.sh)");
        }
        int trials = Integer.parseInt(args[0]);
        if (trials < FailoverPauses.TRIALS_MIN || trials > FailoverPauses.TRIALS_MAX) {
            throw new IllegalArgumentException("trials per journal size must be " + FailoverPauses.TRIALS_MIN + " to "
                    + FailoverPauses.TRIALS_MAX + ", not " + trials);
        }
        String table = new FailoverPauseBenchmark().run(trials);
        System.out.println(table);
        Path out = Path.of(args[1]);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, table, StandardCharsets.UTF_8);
    }

    private String run(int trials) throws Exception {
        Path work = TestPaths.directory("sovereign.test.dir", "target/bench/work");
        Path plainWebXml = TestPaths.required("sovereign.bench.dir", "run bench/run.sh").resolve("plain-web.xml");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT).build();
        List<FailoverPauses.Row> pauses = new ArrayList<>();
        List<RecordingOverhead.Row> overhead = new ArrayList<>();
        try (HeapNodes heap = HeapNodes.startSecured();
                TomcatGroup tomcats = TomcatGroup.start(work, List.of(failoverTomcat("tomcat-a", heap),
                        failoverTomcat("tomcat-b", heap), failoverTomcat("tomcat-c", heap)))) {
            phase("start: 3 heap nodes, Tomcats A, B and C" + (KEEP_UI_LOCKS ? ", keeping UI locks" : ""));
            FailoverPauses failovers = new FailoverPauses(http, tomcats.get(0), tomcats.get(1));
            failovers.warmUp();
            phase("warm-up: " + FailoverPauses.WARMUP_TRIALS + " failovers not counted");
            for (int journal : JOURNAL_SIZES) {
                FailoverPauses.Row row = failovers.measure(journal, trials);
                pauses.add(row);
                phase("failover pause, journal of " + journal + ": " + row.failover().summary());
            }
            FailoverPauses.Row killed = new FailoverPauses(http, tomcats.get(2), tomcats.get(1))
                    .measureAfterKill(KILLED_JOURNAL_REQUESTS, trials);
            pauses.add(killed);
            phase("failover pause after Tomcat C was SIGKILLed, journal of " + KILLED_JOURNAL_REQUESTS + ": "
                    + killed.failover().summary());
            // B is done (C was killed); each Tomcat measured next takes B's place, so the machine runs
            // two Tomcats at a time.
            tomcats.get(1).close();
            RecordingOverhead measure = new RecordingOverhead(http);
            overhead.addAll(measure.measure("RecordingServlet", tomcats.get(0), new HeapLogIndex(heap)));
            phase("recording overhead: RecordingServlet");
            try (TomcatProcess keeping = TomcatProcess.start(work, TomcatSettings.withHeap("tomcat-k", heap)
                    .withContextParam(KEEP_UI_LOCKS_PARAM, "true"))) {
                phase("start: Tomcat K with " + KEEP_UI_LOCKS_PARAM + "=true");
                overhead.addAll(measure.measure("RecordingServlet, " + KEEP_UI_LOCKS_PARAM + "=true", keeping,
                        new HeapLogIndex(heap)));
                phase("recording overhead: RecordingServlet keeping UI locks");
            }
            try (TomcatProcess plain = PlainRapTomcat.start(work, plainWebXml)) {
                phase("start: Tomcat with plain RAP");
                overhead.addAll(measure.measure("RWTServlet (plain RAP)", plain, null));
                phase("recording overhead: plain RWTServlet");
            }
        }
        return BenchmarkTables.render(trials, pauses, overhead, loadAtStart, loadAverage());
    }

    /** A Tomcat of the failover rows: the demo recording on {@code heap}, keeping UI locks if asked. */
    private static TomcatSettings failoverTomcat(String name, HeapNodes heap) {
        TomcatSettings settings = TomcatSettings.withHeap(name, heap);
        return KEEP_UI_LOCKS ? settings.withContextParam(KEEP_UI_LOCKS_PARAM, "true") : settings;
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private void phase(String what) {
        long nowNs = System.nanoTime();
        System.out.printf("[bench] %6.1f s (phase %5.1f s)  %s%n", (nowNs - startedNs) / 1e9,
                (nowNs - phaseStartedNs) / 1e9, what);
        phaseStartedNs = nowNs;
    }
}
