package org.sovereign.rap.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The RAP benchmark's Markdown: the setup in one line, then the failover-pause and overhead tables. */
final class BenchmarkTables {
    private BenchmarkTables() {
    }

    static String render(int trials, List<FailoverPauses.Row> pauses, List<RecordingOverhead.Row> overhead,
            double loadAtStart, double loadAtEnd) throws Exception {
        StringBuilder out = new StringBuilder();
        out.append(setup()).append(String.format(" Load average %.1f at the start, %.1f at the end.", loadAtStart,
                loadAtEnd));
        if (FailoverPauseBenchmark.KEEP_UI_LOCKS) {
            out.append(" Tomcats A, B and C keep UI locks between requests (KEEP_UI_LOCKS=true).");
        }
        out.append("\n\n");
        out.append("Failover pause: request N sent to Tomcat B, which has no copy of the UI session and rebuilds it "
                + "by replaying the N recorded requests; " + trials + " UI sessions per journal size (p50 / p99 / max; "
                + "nearest rank: with under 100 samples p99 is the largest).\n\n");
        out.append("| journal (requests) | trials | failover: B rebuilds, then answers | replay alone (B's log) "
                + "| copy one request behind (2 per trial) | copy current (no failover) |\n");
        out.append("|---|---|---|---|---|---|\n");
        for (FailoverPauses.Row row : pauses) {
            String journal = String.format("%,d", row.journalRequests())
                    + (row.afterKill() ? ", its Tomcat (C) SIGKILLed first" : "");
            out.append(String.format("| %s | %d | %s | %s | %s | %s |%n", journal, row.trials(),
                    row.failover().summary(), cell(row.replayLogged()), cell(row.oneBehind()), cell(row.live())));
        }
        out.append("\nRecording overhead: the same UI requests to one Tomcat, with sovereign-rap's RecordingServlet "
                + "or with RAP's own RWTServlet (request 0 of each UI session not counted).\n\n");
        out.append("| servlet | UI sessions at once | UI requests | requests/s | p50 | p99 | heap log entries per UI request |\n");
        out.append("|---|---|---|---|---|---|---|\n");
        for (RecordingOverhead.Row row : overhead) {
            String entries = Double.isNaN(row.logEntriesPerRequest()) ? "-"
                    : String.format("%.2f (%,d entries)", row.logEntriesPerRequest(), row.logEntries());
            out.append(String.format("| %s | %d | %,d | %.0f | %s | %s | %s |%n", row.servlet(), row.sessions(),
                    row.requests(), row.requestsPerSecond(), Latencies.ms(row.latencies().percentileMs(50)),
                    Latencies.ms(row.latencies().percentileMs(99)), entries));
        }
        return out.toString();
    }

    /** A table cell: the latencies' summary, or "-" when the row has none of them. */
    private static String cell(Latencies latencies) {
        return latencies.count() == 0 ? "-" : latencies.summary();
    }

    /** What ran: cores, Tomcat and RAP versions, the heap-server binary. */
    private static String setup() throws Exception {
        Path tomcatHome = TestPaths.required("sovereign.tomcat.home", "run bench/run.sh");
        String rap;
        try (Stream<Path> jars = Files.list(TestPaths.required("sovereign.rap.webappLib", "run bench/run.sh"))) {
            rap = jars.map(jar -> jar.getFileName().toString()).filter(name -> name.startsWith("org.eclipse.rap.rwt"))
                    .findFirst().orElse("RAP ?");
        }
        return "One machine, " + Runtime.getRuntime().availableProcessors() + " cores: 3 secured heap-server nodes ("
                + System.getProperty("sovereign.server.binary") + "), three " + tomcatHome.getFileName() + " (A, B, and C "
                + "for the SIGKILL row) with the order-entry demo (" + rap + ", SWT_COMPATIBILITY), UI requests over HTTP (java.net.http, no browser) "
                + "straight to each Tomcat.";
    }
}
