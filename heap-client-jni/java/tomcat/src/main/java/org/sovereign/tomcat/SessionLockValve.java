package org.sovereign.tomcat;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapException;
import org.sovereign.heap.HeapSessionEndedException;

/**
 * Runs each request of a web application under its session's cluster lock, so that requests of one
 * session run one at a time across every Tomcat, and saves the session's changes at the end of the
 * request, committed with the lock's release before the response is completed. Declared in
 * {@code context.xml} beside {@link SovereignSessionManager}:
 *
 * <pre>{@code
 * <Valve className="org.sovereign.tomcat.SessionLockValve"
 *        noLockPatterns="/static/*,*.css,*.js" readLockPatterns="/api/poll"/>
 * }</pre>
 *
 * <p>{@code noLockPatterns}: requests that take no lock and save nothing (static resources; they see
 * this node's copy of the session). {@code readLockPatterns}: requests that take the session's read
 * lock, so they run side by side and never queue behind a slow writer; their attribute changes are
 * not saved (their access time is). Every other request takes the write lock. Patterns are as in
 * {@code web.xml} ({@code /prefix/*}, {@code *.ext}, {@code /exact}), matched against the path
 * inside the context. Requests run on one thread from start to end: asynchronous servlets are not
 * supported behind this valve. Bytes a servlet flushes itself leave before the commit.
 */
public class SessionLockValve extends ValveBase {
    private static final Log log = LogFactory.getLog(SessionLockValve.class);

    private String noLockPatterns = "";
    private String readLockPatterns = "";
    private volatile UrlPatterns noLock = UrlPatterns.parse("");
    private volatile UrlPatterns readLock = UrlPatterns.parse("");

    public SessionLockValve() {
        super(false); // a request's locks are held by its thread
    }

    public void setNoLockPatterns(String patterns) {
        this.noLock = UrlPatterns.parse(patterns);
        this.noLockPatterns = patterns;
    }

    public String getNoLockPatterns() {
        return noLockPatterns;
    }

    public void setReadLockPatterns(String patterns) {
        this.readLock = UrlPatterns.parse(patterns);
        this.readLockPatterns = patterns;
    }

    public String getReadLockPatterns() {
        return readLockPatterns;
    }

    @Override
    protected void startInternal() throws LifecycleException {
        if (!(getContainer() instanceof Context)) {
            throw new LifecycleException("SessionLockValve belongs in a web application's context.xml, next to "
                    + "<Manager className=\"org.sovereign.tomcat.SovereignSessionManager\" .../>");
        }
        super.startInternal();
    }

    /** The lock a request for {@code path} (inside the context) takes. */
    LockMode modeFor(String path) {
        if (noLock.matches(path)) {
            return LockMode.NONE;
        }
        return readLock.matches(path) ? LockMode.READ : LockMode.WRITE;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        Context context = request.getContext();
        if (context == null || !(context.getManager() instanceof SovereignSessionManager)) {
            throw new ServletException("SessionLockValve needs <Manager className=\"org.sovereign.tomcat."
                    + "SovereignSessionManager\" .../> in the same context.xml");
        }
        SovereignSessionManager manager = (SovereignSessionManager) context.getManager();
        String uri = request.getDecodedRequestURI();
        String path = uri.length() >= context.getPath().length() ? uri.substring(context.getPath().length()) : uri;
        LockMode mode = modeFor(path.isEmpty() ? "/" : path);
        boolean begun;
        try {
            begun = begin(manager, request.getRequestedSessionId(), mode);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            return;
        } catch (HeapException | IllegalStateException e) {
            // IllegalStateException: connecting a new heap session failed (reconnectAfter says why).
            log.warn("session lock for " + uri + " not taken: " + e.getMessage());
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            return;
        }
        if (!begun) {
            log.warn("session of " + uri + " still locked after " + manager.getLockWaitMs() + " ms; answered 503");
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            return;
        }
        HeapClient used = manager.heapClient(); // the client whose locks this request holds
        try {
            getNext().invoke(request, response);
        } finally {
            end(manager, used, response, uri);
        }
    }

    /**
     * Takes the session's lock; if the cluster had ended this Tomcat's heap session (it stalled past
     * its lease), connects a new one and tries once more: nothing was taken or changed yet.
     */
    private static boolean begin(SovereignSessionManager manager, String requestedId, LockMode mode)
            throws InterruptedException {
        HeapClient used = manager.heapClient();
        try {
            return manager.beginRequest(requestedId, mode);
        } catch (HeapSessionEndedException e) {
            manager.reconnectAfter(used, e);
            return manager.beginRequest(requestedId, mode);
        }
    }

    /** Saves and commits; if that fails and the response can still say so, it says 503. */
    private static void end(SovereignSessionManager manager, HeapClient used, Response response, String uri)
            throws IOException {
        try {
            manager.endRequest();
        } catch (HeapSessionEndedException e) {
            // Nothing of this request was committed: the cluster refused the ended session's commit.
            log.warn("session changes of " + uri + " not saved: " + e.getMessage() + "; answered 503");
            manager.reconnectAfter(used, e);
            if (!response.isCommitted()) {
                response.reset();
                response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            }
        } catch (HeapException | IllegalArgumentException | IllegalStateException e) {
            log.error("session changes of " + uri + " not saved: " + e.getMessage(), e);
            if (!response.isCommitted()) {
                response.reset();
                response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            }
        }
    }
}
