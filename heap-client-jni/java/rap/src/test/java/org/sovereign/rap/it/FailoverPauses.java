package org.sovereign.rap.it;

import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The failover pause (issue 16's "Speed"): UI sessions recorded on Tomcat A, then one request sent to
 * Tomcat B, which has no copy and rebuilds the UI session by replaying the journal before it answers.
 * Per trial, a fresh UI session: requests 0..N-2 on A (built several sessions at once, not timed),
 * then timed one at a time with nothing else running: request N-1 on A (A's copy is current: the
 * request without failover), request N on B (the failover: B rebuilds from N recorded requests, which
 * its log must say), requests N+1 on A and N+2 on B (each server's copy one request behind: the
 * round-robin case, a catch-up of one request, which their logs must say).
 */
final class FailoverPauses {
    /** UI sessions built at once on A; more only queue on this 2-core machine. */
    static final int BUILD_THREADS = 4;
    /** Failovers run first and not counted, so the JIT has compiled the replay path (as on a server that
     *  has been replaying under round-robin). */
    static final int WARMUP_TRIALS = 3;
    static final int WARMUP_JOURNAL_REQUESTS = 100;
    /** Trials per journal size: at least 20 (the p99), at most what fits the run's 10 minutes. */
    static final int TRIALS_MIN = 20;
    static final int TRIALS_MAX = 100;

    /** One journal size's samples: current copy, failover, B's own replay time, one request behind
     *  (none after a kill); {@code afterKill}: the UI sessions' server was SIGKILLed before the failover. */
    record Row(int journalRequests, int trials, boolean afterKill, Latencies live, Latencies failover,
            Latencies replayLogged, Latencies oneBehind) {
        Row(int journalRequests, int trials, boolean afterKill) {
            this(journalRequests, trials, afterKill, new Latencies(), new Latencies(), new Latencies(), new Latencies());
        }
    }

    private final HttpClient http;
    private final TomcatProcess a;
    private final TomcatProcess b;

    FailoverPauses(HttpClient http, TomcatProcess a, TomcatProcess b) {
        this.http = http;
        this.a = a;
        this.b = b;
    }

    void warmUp() throws Exception {
        measure(WARMUP_JOURNAL_REQUESTS, WARMUP_TRIALS);
    }

    Row measure(int journalRequests, int trials) throws Exception {
        if (journalRequests < 2) {
            throw new IllegalArgumentException("a journal of at least 2 requests (request 0 makes the UI session)");
        }
        Row row = new Row(journalRequests, trials, false);
        for (UiSessionDriver session : build(journalRequests - 1, trials)) {
            trial(session, row);
        }
        return row;
    }

    /**
     * The failover pause after A dies: {@code trials} UI sessions built on A, each one's last
     * request on A, then A is SIGKILLed (between requests, where most deaths fall: a request takes
     * milliseconds, a user thinks for seconds), then each session's next request goes to B, one at
     * a time. Had A kept the UI sessions' locks, B would first wait for A's heap session lease to
     * end (3 s); this row shows what B does without that wait. A is gone afterwards.
     */
    Row measureAfterKill(int journalRequests, int trials) throws Exception {
        Row row = new Row(journalRequests, trials, true);
        List<UiSessionDriver> sessions = build(journalRequests - 1, trials);
        for (UiSessionDriver session : sessions) {
            row.live().add(session.next(a.url("/app")));
        }
        a.kill();
        for (UiSessionDriver session : sessions) {
            row.failover().add(session.next(b.url("/app")));
            String replayMs = logged(b, session.cid(), "rebuilt here from " + journalRequests + " recorded requests");
            row.replayLogged().add(Long.parseLong(replayMs) * 1_000_000);
            session.shutdown(b.url("/app"));
        }
        return row;
    }

    /** {@code trials} UI sessions on A with {@code requests} requests each, several at once. */
    private List<UiSessionDriver> build(int requests, int trials) throws Exception {
        ExecutorService builders = Executors.newFixedThreadPool(BUILD_THREADS);
        try {
            List<Future<UiSessionDriver>> built = new ArrayList<>();
            for (int i = 0; i < trials; i++) {
                built.add(builders.submit(() -> {
                    UiSessionDriver session = UiSessionDriver.start(http, a.url("/app"));
                    while (session.nextCounter() < requests) {
                        session.next(a.url("/app"));
                    }
                    return session;
                }));
            }
            List<UiSessionDriver> sessions = new ArrayList<>();
            for (Future<UiSessionDriver> session : built) {
                sessions.add(session.get());
            }
            return sessions;
        } finally {
            builders.shutdownNow();
        }
    }

    private void trial(UiSessionDriver session, Row row) throws Exception {
        int journal = row.journalRequests();
        row.live().add(session.next(a.url("/app")));
        row.failover().add(session.next(b.url("/app")));
        long replayMs = Long.parseLong(logged(b, session.cid(), "rebuilt here from " + journal + " recorded requests"));
        row.replayLogged().add(replayMs * 1_000_000);
        row.oneBehind().add(session.next(a.url("/app")));
        logged(a, session.cid(), "caught up with 1 recorded requests");
        row.oneBehind().add(session.next(b.url("/app")));
        logged(b, session.cid(), "caught up with 1 recorded requests");
        session.shutdown(b.url("/app"));
        session.shutdown(a.url("/app"));
    }

    /**
     * The ms of the replay that {@code tomcat}'s log reports for UI session {@code cid} in words
     * {@code what} (Replayer's line); fails if there is no such line: then the request was not served
     * the way this measurement claims.
     */
    private static String logged(TomcatProcess tomcat, String cid, String what) throws Exception {
        Pattern line = Pattern.compile("UI session " + Pattern.quote(cid) + " " + Pattern.quote(what) + " in (\\d+) ms");
        Matcher matcher = line.matcher(tomcat.log());
        if (!matcher.find()) {
            throw new IllegalStateException(tomcat.name + "'s log does not say that UI session " + cid + " was " + what
                    + "; see " + tomcat.base.resolve("logs/console.log"));
        }
        return matcher.group(1);
    }
}
