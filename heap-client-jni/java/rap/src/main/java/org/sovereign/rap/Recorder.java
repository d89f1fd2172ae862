package org.sovereign.rap;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapException;
import org.sovereign.heap.HeapSessionEndedException;
import org.sovereign.heap.HeapUnavailableException;
import org.sovereign.heap.Security;

/**
 * The recording engine of one web application: takes each RAP request before RAP does, records UI
 * requests in their UI session's journal on the heap, and rebuilds on this server, by replay, any UI
 * session another server ran. The request path is in {@link UiRequestHandler}; this class holds what
 * the application shares: the heap client, the journals, the local UI sessions, drain state, and
 * the sweeper that ends idle UI sessions.
 */
final class Recorder implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Recorder.class.getName());
    /** Makes measured text sizes part of each UI session (RAP keeps them per application by default):
     *  otherwise the same request renders differently on a server that measured other sessions. */
    static final String TEXT_SIZE_STORE_SESSION_SCOPED = "org.eclipse.rap.rwt.textSizeStoreSessionScoped";

    private static volatile Recorder current;

    private final ServletContext context;
    private final RecorderConfig config;
    /** The heap client and the journals it reaches; replaced when the cluster ended its session. */
    private volatile Connection connection;
    private final LocalUiSessions sessions = new LocalUiSessions(RapLimits.LOCAL_UI_SESSIONS_MAX);
    private final HttpServlet rap;
    private final ScheduledExecutorService sweeper;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean draining;

    private Recorder(ServletContext context, RecorderConfig config, HeapClient heap, HttpServlet rap) {
        this.context = context;
        this.config = config;
        this.connection = new Connection(heap, new Journal(heap, context.getContextPath()));
        this.rap = rap;
        this.sweeper = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "sovereign-rap-sweeper " + context.getContextPath());
            thread.setDaemon(true);
            return thread;
        });
        long sweepMs = RapLimits.sweepIntervalMs(config.idleTimeoutMs());
        sweeper.scheduleWithFixedDelay(this::sweep, sweepMs, sweepMs, TimeUnit.MILLISECONDS);
    }

    /** Starts the web application's recorder around RAP's servlet {@code rap} (initialized). */
    static Recorder start(ServletContext context, HttpServlet rap) {
        RecorderConfig config = RecorderConfig.from(context);
        if (System.getProperty(TEXT_SIZE_STORE_SESSION_SCOPED) == null) {
            System.setProperty(TEXT_SIZE_STORE_SESSION_SCOPED, "true");
        }
        HeapClient heap = connect(config);
        Recorder recorder = new Recorder(context, config, heap, rap);
        current = recorder;
        LOG.info(() -> "sovereign-rap: recording UI sessions of " + context.getContextPath() + " on the heap at "
                + config.endpoints());
        return recorder;
    }

    /** The recorder of this web application; fails with what to do when RecordingServlet is not set up. */
    static Recorder current() {
        Recorder recorder = current;
        if (recorder == null) {
            throw new RapException("no RAP recorder runs in this web application: map org.sovereign.rap."
                    + "RecordingServlet instead of RAP's RWTServlet in web.xml (see the README's \"RAP failover\")");
        }
        return recorder;
    }

    private static HeapClient connect(RecorderConfig config) {
        HeapClient heap = HeapClient.connect(config.endpoints(), Security.discover(), RapLimits.HEAP_SESSION_TTL_MS);
        if (!config.keepUiLocks()) {
            // A UI session's lock goes back with each request's commit rather than stay with this
            // server: if this server dies between requests, the next one takes it at once instead
            // of waiting out this server's lease. It costs a grant per request (two log entries).
            heap.setLocksKept(Journal.UI_LOCK_PREFIX, false);
        }
        return heap;
    }

    HeapClient heap() {
        return connection.heap();
    }

    Journal journal() {
        return connection.journal();
    }

    /**
     * After the cluster ended this server's heap session (the server stalled past its lease,
     * {@link RapLimits#HEAP_SESSION_TTL_MS}): connects a new session, unless another request already
     * did. The old session's locks are gone and its fencing tokens refuse whatever it still sends;
     * this server's copies of UI sessions stay valid (their journals are unchanged) and catch up as
     * usual.
     */
    synchronized void reconnectAfter(HeapClient failed, HeapSessionEndedException error) {
        if (connection.heap() != failed) {
            return;
        }
        LOG.warning(() -> "sovereign-rap: the heap ended this server's session (" + error.getMessage()
                + "); connecting a new one");
        HeapClient fresh = connect(config);
        connection = new Connection(fresh, new Journal(fresh, context.getContextPath()));
        failed.close();
    }

    LocalUiSessions sessions() {
        return sessions;
    }

    RecorderConfig config() {
        return config;
    }

    ServletContext context() {
        return context;
    }

    /** Runs RAP's own servlet on a (wrapped) request. */
    void runRap(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
        rap.service(request, response);
    }

    /** Serves one request to RAP's entry point. */
    void service(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
        if (!isUiRequest(request)) {
            serveOther(request, response);
            return;
        }
        inFlight.incrementAndGet();
        try {
            byte[] body = readBody(request);
            if (body == null) {
                send(response, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE, RapResponses.error(
                        "a UI request over " + RapLimits.REQUEST_BYTES_MAX + " bytes cannot be recorded; restart"));
                return;
            }
            UiOutcome outcome;
            try {
                outcome = handleOnce(request, response, body);
            } catch (HeapUnavailableException e) {
                outcome = new UiOutcome(HttpServletResponse.SC_SERVICE_UNAVAILABLE, RapResponses.error(
                        "the heap did not answer in time (" + e.getMessage() + "); retry"));
            } catch (HeapException e) {
                // The heap refused, a journal is damaged, or RAP failed the request: RAP's error box with
                // the reason, not the container's error page with a stack trace.
                LOG.log(Level.WARNING, "sovereign-rap: a UI request failed", e);
                outcome = UiOutcome.ended("This request failed: " + e.getMessage());
            }
            send(response, outcome.status(), outcome.body(), outcome.contentType());
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /**
     * Runs a UI request; if the cluster had ended this server's heap session meanwhile (nothing of
     * the attempt committed: its commit was refused), connects a new session and runs it once more.
     */
    private UiOutcome handleOnce(HttpServletRequest request, HttpServletResponse response, byte[] body) {
        HeapClient heap = heap();
        try {
            return new UiRequestHandler(this, request, response).handle(body);
        } catch (HeapSessionEndedException e) {
            reconnectAfter(heap, e);
            return new UiRequestHandler(this, request, response).handle(body);
        }
    }

    /** The startup page, resources and service handlers: not recorded; a known cid is mapped to this server's. */
    private void serveOther(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        String cid = request.getParameter(UiRequest.CID_PARAMETER);
        LocalUiSession local = cid == null ? null : sessions.get(cid);
        if (local == null || local.localCid() == null) {
            runRap(request, response);
            return;
        }
        runRap(new MappedRequest(request, local.localCid(), local.http()), response);
    }

    /** A RAP UI request: a JSON POST to the entry point that names no service handler. */
    static boolean isUiRequest(HttpServletRequest request) {
        String type = request.getContentType();
        return "POST".equals(request.getMethod()) && type != null && type.startsWith("application/json")
                && request.getParameter("servicehandler") == null;
    }

    /** The body, or null when it is over {@link RapLimits#REQUEST_BYTES_MAX}. */
    private static byte[] readBody(HttpServletRequest request) throws IOException {
        try (InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes(RapLimits.REQUEST_BYTES_MAX + 1);
            return body.length > RapLimits.REQUEST_BYTES_MAX ? null : body;
        }
    }

    /** Writes a JSON answer through the writer, as RAP does (so filters that wrap it see it too). */
    static void send(HttpServletResponse response, int status, String body) throws IOException {
        send(response, status, body, UiOutcome.JSON);
    }

    static void send(HttpServletResponse response, int status, String body, String contentType) throws IOException {
        response.setStatus(status);
        response.setContentType(contentType);
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.getBytes(StandardCharsets.UTF_8).length);
        response.getWriter().write(body);
    }

    boolean draining() {
        return draining;
    }

    void setDraining(boolean draining) {
        this.draining = draining;
        LOG.info(() -> "sovereign-rap: " + (draining ? "draining: the health check now fails, so the load "
                + "balancer sends this server no new requests" : "serving again"));
    }

    int inFlight() {
        return inFlight.get();
    }

    /** Ends UI sessions idle past the timeout: this server's copies, and (bounded) their journals. */
    private void sweep() {
        try {
            long nowMs = System.currentTimeMillis();
            sessions.endIdle(nowMs - config.idleTimeoutMs());
            for (String cid : journal().idle(nowMs, config.idleTimeoutMs(), RapLimits.SWEEP_DELETES_MAX)) {
                new UiSessionEnder(this, cid).endIfIdle(nowMs);
            }
        } catch (HeapSessionEndedException e) {
            reconnectAfter(heap(), e);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "sovereign-rap: the idle sweep failed; it runs again in "
                    + RapLimits.sweepIntervalMs(config.idleTimeoutMs()) + " ms", e);
        }
    }

    /** The heap client of this recorder and the journals reached through it. */
    private record Connection(HeapClient heap, Journal journal) {
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        sessions.endAll();
        connection.heap().close();
        if (current == this) {
            current = null;
        }
    }
}
