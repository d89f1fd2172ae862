package org.sovereign.rap.it;

import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The recording overhead (issue 16's "Speed"): the same sequence of UI requests against the demo on
 * one Tomcat, with RecordingServlet or with RAP's plain RWTServlet, one UI session sequentially and
 * 16 UI sessions at once; per-request latency and requests/s. With recording, also the heap's Raft
 * log entries per UI request (the design: one durable commit per request), from the leader's log
 * index before and after, less what the cluster writes while idle (session keep-alives).
 */
final class RecordingOverhead {
    /** Warm-up before measuring: the JIT, and past MessageLogFilter's 1,000 logged messages (after
     *  which it only counts), so both variants run the same filter work. */
    static final int WARMUP_SESSIONS = 8;
    static final int WARMUP_REQUESTS_PER_SESSION = 150;
    static final int SEQUENTIAL_REQUESTS = 300;
    static final int PARALLEL_SESSIONS = 16;
    static final int PARALLEL_REQUESTS_PER_SESSION = 60;
    /** How long the idle cluster is watched to learn what it writes without UI requests. */
    static final long IDLE_WINDOW_MS = 3_000;

    /** One configuration's result; {@code logEntriesPerRequest} is NaN without recording. */
    record Row(String servlet, int sessions, int requests, double requestsPerSecond, Latencies latencies,
            double logEntriesPerRequest, long logEntries) {
    }

    private final HttpClient http;

    RecordingOverhead(HttpClient http) {
        this.http = http;
    }

    /** Sequential, then parallel, on {@code tomcat}; {@code logIndex} null when it does not record. */
    List<Row> measure(String servlet, TomcatProcess tomcat, HeapLogIndex logIndex) throws Exception {
        String app = tomcat.url("/app");
        drive(app, WARMUP_SESSIONS, WARMUP_REQUESTS_PER_SESSION, null, new Latencies());
        double idleEntriesPerMs = logIndex == null ? 0 : idleRate(logIndex);
        List<Row> rows = new ArrayList<>();
        rows.add(run(servlet, app, 1, SEQUENTIAL_REQUESTS, logIndex, idleEntriesPerMs));
        rows.add(run(servlet, app, PARALLEL_SESSIONS, PARALLEL_REQUESTS_PER_SESSION, logIndex, idleEntriesPerMs));
        return rows;
    }

    private Row run(String servlet, String app, int sessions, int requestsPerSession, HeapLogIndex logIndex,
            double idleEntriesPerMs) throws Exception {
        Latencies latencies = new Latencies();
        Measured measured = drive(app, sessions, requestsPerSession, logIndex, latencies);
        int requests = sessions * requestsPerSession;
        double perRequest = Double.NaN;
        if (logIndex != null) {
            double idleEntries = idleEntriesPerMs * measured.betweenReadingsNs() / 1e6;
            perRequest = (measured.logEntries() - idleEntries) / requests;
        }
        return new Row(servlet, sessions, requests, requests / (measured.wallNs() / 1e9), latencies, perRequest,
                measured.logEntries());
    }

    /** What one run measured besides latencies: its wall time, log entries, and the time between the readings. */
    private record Measured(long wallNs, long logEntries, long betweenReadingsNs) {
    }

    /**
     * {@code sessions} UI sessions (request 0 each, not timed), then each sends {@code requestsPerSession}
     * more, all sessions at once, each request timed; then they are ended.
     */
    private Measured drive(String app, int sessions, int requestsPerSession, HeapLogIndex logIndex, Latencies latencies)
            throws Exception {
        List<UiSessionDriver> drivers = new ArrayList<>();
        for (int i = 0; i < sessions; i++) {
            drivers.add(UiSessionDriver.start(http, app));
        }
        long indexBefore = logIndex == null ? 0 : logIndex.read();
        long readNs = System.nanoTime();
        long wallNs = runAtOnce(app, drivers, requestsPerSession, latencies);
        long betweenNs = System.nanoTime() - readNs;
        long indexAfter = logIndex == null ? 0 : logIndex.read();
        for (UiSessionDriver driver : drivers) {
            driver.shutdown(app);
        }
        return new Measured(wallNs, indexAfter - indexBefore, betweenNs);
    }

    private static long runAtOnce(String app, List<UiSessionDriver> drivers, int requestsPerSession,
            Latencies latencies) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(drivers.size());
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (UiSessionDriver driver : drivers) {
                runs.add(clients.submit(() -> {
                    go.await();
                    for (int i = 0; i < requestsPerSession; i++) {
                        latencies.add(driver.next(app));
                    }
                    return null;
                }));
            }
            long startedNs = System.nanoTime();
            go.countDown();
            for (Future<?> run : runs) {
                run.get();
            }
            return System.nanoTime() - startedNs;
        } finally {
            clients.shutdownNow();
        }
    }

    /** Log entries per ms the cluster writes with no UI request running (keep-alives of the heap sessions). */
    private static double idleRate(HeapLogIndex logIndex) throws Exception {
        long before = logIndex.read();
        long startedNs = System.nanoTime();
        Thread.sleep(IDLE_WINDOW_MS);
        long after = logIndex.read();
        return (after - before) / ((System.nanoTime() - startedNs) / 1e6);
    }
}
