package org.sovereign.tomcat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Session;
import org.apache.catalina.session.ManagerBase;
import org.apache.catalina.session.StandardSession;
import org.apache.juli.logging.Log;
import org.apache.juli.logging.LogFactory;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapException;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapSessionEndedException;
import org.sovereign.heap.Security;

/**
 * A Tomcat 10.1 session manager that keeps every session on the Sovereign heap, so any Tomcat of the
 * cluster serves any request (no sticky sessions) and a Tomcat that dies loses nothing that was
 * committed. In {@code context.xml}:
 *
 * <pre>{@code
 * <Manager className="org.sovereign.tomcat.SovereignSessionManager"
 *          endpoints="127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103"/>
 * <Valve className="org.sovereign.tomcat.SessionLockValve"/>
 * }</pre>
 *
 * <p>What is promised: a session id is unique cluster-wide; a request run by {@link SessionLockValve}
 * holds the session's cluster lock and its changes (attributes, also values changed in place,
 * {@code maxInactiveInterval}, the access time) commit atomically at its end, or not at all if its
 * Tomcat dies first; {@code sessionCreated} fires once, on the node that created the session;
 * {@code sessionDestroyed} fires on exactly one node per expired session: the one whose expiry scan
 * unlinked it from the heap, under its lock, in a commit made before the listeners run (if that node
 * dies inside them they are not run again elsewhere); an invalidated session is unlinked in its
 * request's commit, so a Tomcat that dies inside that request invalidated nothing (as for any change
 * of the request), and the session expires later. A request never expires a session: past its
 * deadline, the session is gone for requests and the next scan destroys it. Security: the {@code
 * securityDir} and {@code tokenFile} attributes, or else the heap client's discovery
 * ({@code SOVEREIGN_SECURITY_DIR}, {@code SOVEREIGN_TOKEN}, ...).
 *
 * <p>Failover: a session's lock goes back to the cluster with each request's commit (unless
 * {@code keepSessionLocks="true"}), so when a Tomcat dies between requests the next one takes the
 * session at once; a Tomcat that dies inside a request holds it until its heap session's lease
 * ends ({@code sessionTtlMs}, 10 s by default). A Tomcat that stalls past that lease (a long GC
 * pause, a frozen VM) finds its heap session ended when it resumes: it connects a new one, and
 * the requests it was running when it stalled are refused (their commits carry the old locks'
 * tokens) and answered 503.
 *
 * <p>With the Sovereign agent in the JVM ({@code -javaagent:sovereign-agent.jar=config=...}), the
 * manager uses the agent's heap session (the {@code endpoints} and security attributes are then
 * the agent's), and attribute values that are instrumented objects or java.util collections are
 * stored as shared graphs ({@link AgentGraphs}); other values as bytes, as without it. A Tomcat
 * with the agent whose heap session ended cannot connect a new one (its shared objects belong to
 * the old one): it answers 503 until it is restarted.
 */
public class SovereignSessionManager extends ManagerBase {
    /** How long a request waits for its session's lock by default: above a dead holder's lease (10 s). */
    static final long LOCK_WAIT_MS_DEFAULT = 60_000;
    /** Most attempts at a session id no session has: 128 random bits collide practically never. */
    static final int SESSION_ID_ATTEMPTS_MAX = 8;
    /** Prefix of the root map's name; the context's host and path follow. */
    static final String ROOT_PREFIX = "sovereign.tomcat.sessions:";

    private static final Log log = LogFactory.getLog(SovereignSessionManager.class);
    private static final String NAME = "SovereignSessionManager";

    private String endpoints;
    private String securityDir;
    private String tokenFile;
    private String rootName;
    private long lockWaitMs = LOCK_WAIT_MS_DEFAULT;
    private long sessionTtlMs = HeapClient.SESSION_TTL_MS_DEFAULT;
    private boolean keepSessionLocks;

    private volatile HeapClient client;
    private volatile SessionStore store;
    /** The agent's shared graphs, or null when no agent runs in this JVM. */
    private volatile AgentGraphs graphs;
    private final ThreadLocal<RequestScope> scopes = new ThreadLocal<>();
    /**
     * Session ids that open requests on this node use (loaded, created, renamed to), with how many
     * requests: the expiry scan never drops this node's copy of one (see {@link #dropCopiesGoneFromTheHeap}).
     */
    private final ConcurrentHashMap<String, Integer> inUse = new ConcurrentHashMap<>();

    // ---- configuration (context.xml attributes) ----

    /** The heap nodes, {@code host:port,host:port,...} (required). */
    public void setEndpoints(String endpoints) {
        this.endpoints = endpoints;
    }

    public String getEndpoints() {
        return endpoints;
    }

    /** A security folder ({@code ca.pem}, optionally {@code admin.token}); default: the client's discovery. */
    public void setSecurityDir(String securityDir) {
        this.securityDir = securityDir;
    }

    public String getSecurityDir() {
        return securityDir;
    }

    /** A file holding the token to use (a write-role token is enough); default: the client's discovery. */
    public void setTokenFile(String tokenFile) {
        this.tokenFile = tokenFile;
    }

    public String getTokenFile() {
        return tokenFile;
    }

    /** The heap root holding this application's sessions; default from the host and context path. */
    public void setRootName(String rootName) {
        this.rootName = rootName;
    }

    public String getRootName() {
        return rootName;
    }

    /** How long a request waits for its session's lock before the valve answers 503. */
    public void setLockWaitMs(long lockWaitMs) {
        if (lockWaitMs <= 0) {
            throw new IllegalArgumentException("lockWaitMs must be positive; it was " + lockWaitMs);
        }
        this.lockWaitMs = lockWaitMs;
    }

    public long getLockWaitMs() {
        return lockWaitMs;
    }

    /**
     * The lease of this Tomcat's heap session, in ms ({@value HeapClient#SESSION_TTL_MS_MIN} to
     * {@value HeapClient#SESSION_TTL_MS_MAX}; default {@value HeapClient#SESSION_TTL_MS_DEFAULT}):
     * how long the session locks of a Tomcat that died inside requests stay held. Shorter is a
     * quicker takeover, at the price of losing the heap session (and the requests in flight) in a
     * stall of two thirds of it.
     */
    public void setSessionTtlMs(long sessionTtlMs) {
        if (sessionTtlMs < HeapClient.SESSION_TTL_MS_MIN || sessionTtlMs > HeapClient.SESSION_TTL_MS_MAX) {
            throw new IllegalArgumentException("sessionTtlMs must be " + HeapClient.SESSION_TTL_MS_MIN + " to "
                    + HeapClient.SESSION_TTL_MS_MAX + " ms; it was " + sessionTtlMs);
        }
        this.sessionTtlMs = sessionTtlMs;
    }

    public long getSessionTtlMs() {
        return sessionTtlMs;
    }

    /**
     * Whether this Tomcat keeps a session's cluster lock after the request (greedily, so its next
     * request here takes it without a round trip). Off by default: behind a balancer without
     * stickiness the next request usually goes elsewhere, and a kept lock makes the Tomcat that gets
     * it wait for this one, or, if this one died, for its lease to end.
     */
    public void setKeepSessionLocks(boolean keepSessionLocks) {
        this.keepSessionLocks = keepSessionLocks;
    }

    public boolean getKeepSessionLocks() {
        return keepSessionLocks;
    }

    @Override
    public String getName() {
        return NAME;
    }

    // ---- lifecycle ----

    @Override
    protected void startInternal() throws LifecycleException {
        super.startInternal();
        if (endpoints == null || endpoints.isBlank()) {
            throw new LifecycleException("SovereignSessionManager needs endpoints=\"host:port,...\" (the heap nodes) "
                    + "in the <Manager> element of context.xml");
        }
        graphs = AgentGraphs.detect();
        if (graphs != null && (securityDir != null || tokenFile != null)) {
            log.warn("securityDir and tokenFile are ignored: the Sovereign agent runs in this JVM, and the manager "
                    + "uses its heap session (security from SOVEREIGN_SECURITY_DIR / SOVEREIGN_TOKEN)");
        }
        try {
            connect();
        } catch (HeapException | IOException e) {
            throw new LifecycleException("SovereignSessionManager could not connect to the heap at " + endpoints
                    + ": " + e.getMessage(), e);
        }
        log.info("sessions of " + getContext().getName() + " on the Sovereign heap at " + endpoints + ", root "
                + store.rootName() + (graphs != null ? "; the Sovereign agent runs here: instrumented objects and "
                + "collections are stored as shared graphs, through the agent's heap session" : ""));
        setState(LifecycleState.STARTING);
    }

    @Override
    protected void stopInternal() throws LifecycleException {
        setState(LifecycleState.STOPPING);
        super.stopInternal();
        HeapClient open = client;
        client = null;
        if (open != null && graphs == null) {
            open.close(); // the agent's session is the agent's to close, at JVM exit
        }
    }

    /** A heap session and the store reached through it, replacing any before. */
    private void connect() throws IOException {
        HeapClient fresh = graphs != null ? graphs.client() : HeapClient.connect(endpoints, security(), sessionTtlMs);
        SessionStore freshStore = new SessionStore(fresh, rootName != null ? rootName : defaultRootName(getContext()));
        if (!keepSessionLocks) {
            fresh.setLocksKept(freshStore.lockPrefix(), false);
        }
        client = fresh;
        store = freshStore;
    }

    /** The heap client requests use now (replaced after the cluster ended its session). */
    HeapClient heapClient() {
        return client;
    }

    /** The agent's shared graphs, or null when no agent runs in this JVM. */
    AgentGraphs graphs() {
        return graphs;
    }

    /**
     * After the cluster ended this Tomcat's heap session (it stalled past {@link #getSessionTtlMs()}):
     * connects a new one, unless another thread already did, and drops this node's copies of the
     * sessions (their handles belong to the old client; each is read again from the heap when next
     * used). The old session's locks are gone, and its fencing tokens refuse what it still sends.
     */
    synchronized void reconnectAfter(HeapClient failed, HeapSessionEndedException error) {
        if (client != failed || failed == null) {
            return;
        }
        if (graphs != null) {
            throw new IllegalStateException("the heap ended this Tomcat's session (" + error.getMessage() + "); with the "
                    + "Sovereign agent, this JVM's shared objects belong to that session: restart this Tomcat");
        }
        log.warn("the heap ended this Tomcat's session (" + error.getMessage() + "); connecting a new one");
        try {
            connect();
        } catch (IOException e) {
            throw new IllegalStateException("reconnecting to the heap at " + endpoints + " failed: " + e.getMessage()
                    + "; check the security settings, then restart the web application", e);
        }
        for (Session local : sessions.values().toArray(new Session[0])) {
            dropLocal(local.getIdInternal());
        }
        failed.close();
    }

    private Security security() throws IOException {
        if (securityDir == null && tokenFile == null) {
            return Security.discover();
        }
        Security security = securityDir != null ? Security.fromDirectory(Path.of(securityDir)) : Security.discover();
        if (tokenFile != null) {
            security = security.withToken(Files.readString(Path.of(tokenFile), StandardCharsets.UTF_8));
        }
        return security;
    }

    static String defaultRootName(Context context) {
        String host = context.getParent() != null ? context.getParent().getName() : "";
        return ROOT_PREFIX + host + (context.getPath().isEmpty() ? "/" : context.getPath());
    }

    /** Sessions live on the heap: nothing to load at start. */
    @Override
    public void load() {
    }

    /** Sessions live on the heap: nothing to write at stop. */
    @Override
    public void unload() {
    }

    // ---- the request scope, driven by SessionLockValve ----

    /**
     * Starts a request for the thread: takes the requested session's cluster lock as {@code mode}
     * says. Returns false, holding nothing, if the lock was not granted within {@link #getLockWaitMs()}.
     */
    boolean beginRequest(String requestedId, LockMode mode) throws InterruptedException {
        if (scopes.get() != null) {
            throw new IllegalStateException("a session scope is already open on this thread: is SessionLockValve "
                    + "declared twice (context.xml and server.xml)? Declare it once, in context.xml");
        }
        RequestScope scope = new RequestScope(mode);
        if (requestedId != null && mode != LockMode.NONE) {
            Lock lock = mode == LockMode.WRITE ? store.writeLock(requestedId) : store.readLock(requestedId);
            if (!lock.tryLock(lockWaitMs, TimeUnit.MILLISECONDS)) {
                return false;
            }
            scope.hold(requestedId, lock, mode == LockMode.WRITE);
        }
        scopes.set(scope);
        return true;
    }

    /**
     * Ends the thread's request: saves each session it used that is still valid and covered by a
     * write lock, then releases the locks, which commits all of it at once.
     */
    void endRequest() {
        RequestScope scope = scopes.get();
        if (scope == null) {
            return;
        }
        scopes.remove();
        long nowMs = System.currentTimeMillis();
        try {
            for (SovereignSession session : scope.touched()) {
                if (session.isValid() && scope.coversWrite(session.getIdInternal())) {
                    session.save(nowMs, graphs, webappClassLoader());
                } else if (session.isValid()) {
                    session.forgetLocalValues();
                }
            }
        } finally {
            try {
                release(scope);
            } finally {
                unuse(scope);
            }
        }
        if (scope.mode == LockMode.READ) {
            touchAfterRead(scope, nowMs);
        }
    }

    /**
     * Marks session {@code id} in use by {@code scope} until it ends: before the request reads,
     * creates or renames anything of it, so the expiry scan cannot drop the copy it works on.
     */
    private void use(RequestScope scope, String id) {
        if (scope.use(id)) {
            inUse.merge(id, 1, Integer::sum);
        }
    }

    /** The end of {@code scope}'s use of its sessions (after its release: what it created is on the heap). */
    private void unuse(RequestScope scope) {
        for (String id : scope.used()) {
            inUse.computeIfPresent(id, (key, count) -> count == 1 ? null : count - 1);
        }
    }

    /**
     * Releases {@code scope}'s locks, which commits the thread's changes; with the agent, its graphs'
     * changes go into that commit first, and afterwards the agent learns whether they reached the
     * heap. A failure to record them still releases the locks (a lock left held blocks the session
     * cluster-wide), committing the rest, and the graphs take the heap's values back.
     */
    private void release(RequestScope scope) {
        AgentGraphs agent = graphs;
        if (agent == null || scope.entered().isEmpty()) {
            scope.release();
            return;
        }
        RuntimeException recordFailure = null;
        try {
            agent.beforeRelease();
        } catch (RuntimeException e) {
            recordFailure = e;
        }
        boolean committed = false;
        try {
            scope.release();
            committed = recordFailure == null;
        } finally {
            for (HeapObject owner : scope.entered()) {
                agent.released(owner, committed);
            }
        }
        if (recordFailure != null) {
            throw recordFailure;
        }
    }

    /**
     * A read-locked request keeps its session alive too: its access time and deadline are written
     * after the read lock is released (one commit; no lock, so a concurrent writer's later time may
     * win, which only moves the deadline by the length of one request).
     */
    private void touchAfterRead(RequestScope scope, long nowMs) {
        for (SovereignSession session : scope.touched()) {
            HeapObject object = session.heapObject();
            if (session.isValid() && object != null && !scope.coversWrite(session.getIdInternal())) {
                try {
                    store.touch(object, nowMs, session.getMaxInactiveInterval());
                } catch (HeapException e) {
                    log.debug("access time of session " + session.getIdInternal() + " not written: " + e.getMessage());
                }
            }
        }
    }

    // ---- Manager ----

    @Override
    protected StandardSession getNewSession() {
        return new SovereignSession(this);
    }

    @Override
    public Session createSession(String requestedId) {
        if (maxActiveSessions >= 0 && getActiveSessions() >= maxActiveSessions) {
            rejectedSessions++;
            throw new IllegalStateException("more than maxActiveSessions=" + maxActiveSessions + " sessions on this "
                    + "Tomcat; raise maxActiveSessions or leave it unset");
        }
        long nowMs = System.currentTimeMillis();
        SovereignSession session = (SovereignSession) createEmptySession();
        session.setNew(true);
        session.setValid(true);
        session.setCreationTime(nowMs);
        session.setMaxInactiveInterval(getContext().getSessionTimeout() * 60);
        String id = requestedId != null && store.find(requestedId) == null ? requestedId : generateSessionId();
        RequestScope scope = scopes.get();
        if (scope != null) {
            use(scope, id); // not on the heap until the request commits
        }
        if (scope != null && scope.holdsAnyWrite()) {
            scope.cover(id); // committed with the request's lock
            session.attach(enter(scope, store.create(id, nowMs, session.getMaxInactiveInterval()), true));
        } else if (scope != null) {
            Lock lock = store.writeLock(id);
            lock.lock();
            scope.hold(id, lock, true); // released, and so committed, at the request's end
            session.attach(enter(scope, store.create(id, nowMs, session.getMaxInactiveInterval()), true));
        } else {
            Lock lock = store.writeLock(id);
            lock.lock();
            try {
                session.attach(store.create(id, nowMs, session.getMaxInactiveInterval()));
            } finally {
                lock.unlock();
            }
        }
        session.setId(id); // adds it locally and fires sessionCreated, here only
        if (scope != null) {
            scope.loaded(id, session);
        }
        return session;
    }

    /**
     * With the agent, tells it the thread holds {@code session}'s lock ({@code write} or read) for
     * the scope, so its graphs are current and (write) writable; returns {@code session}.
     */
    private HeapObject enter(RequestScope scope, HeapObject session, boolean write) {
        AgentGraphs agent = graphs;
        if (agent != null && scope.entered(session)) {
            agent.entered(session, write);
        }
        return session;
    }

    /** A session id no session on the heap has (ids are 128 random bits; this checks anyway). */
    @Override
    protected String generateSessionId() {
        for (int attempt = 0; attempt < SESSION_ID_ATTEMPTS_MAX; attempt++) {
            String id = super.generateSessionId();
            if (store.find(id) == null) {
                return id;
            }
            log.warn("generated session id already on the heap; generating another");
        }
        throw new IllegalStateException(SESSION_ID_ATTEMPTS_MAX + " generated session ids were all taken on the heap; "
                + "the random generator is broken: check secureRandomAlgorithm");
    }

    /**
     * The session {@code id} as the heap has it now, or null if there is none (or it expired, in
     * which case, holding its write lock, this node expires it). In a request the valve locked, the
     * heap is read once per request; in a request without a lock, this node's copy is used if it
     * has one.
     */
    @Override
    public Session findSession(String id) throws IOException {
        if (id == null) {
            return null;
        }
        RequestScope scope = scopes.get();
        if (scope != null) {
            use(scope, id);
        }
        if (scope != null && scope.isLoaded(id)) {
            Session session = sessions.get(id);
            return session != null && session.isValid() ? session : null;
        }
        if (scope != null && scope.mode == LockMode.NONE && sessions.get(id) != null) {
            return sessions.get(id);
        }
        SovereignSession session = load(id);
        if (scope != null && session != null) {
            scope.loaded(id, session);
        }
        return session;
    }

    /**
     * Reads session {@code id} from the heap into this node's copy; null if there is none or its
     * deadline passed (an expired session is gone for requests; the expiry scan destroys it).
     */
    private SovereignSession load(String id) {
        SovereignSession session = read(id);
        return session == null || session.isPastDeadline(System.currentTimeMillis()) ? null : session;
    }

    /** Session {@code id} from the heap as this node's copy, expired or not; null if there is none. */
    private SovereignSession read(String id) {
        HeapObject object = store.find(id);
        if (object == null) {
            dropLocal(id);
            return null;
        }
        RequestScope scope = scopes.get();
        if (scope != null && scope.holds(id)) {
            enter(scope, object, scope.coversWrite(id));
        }
        SovereignSession session = (SovereignSession) sessions.get(id);
        if (session == null) {
            session = (SovereignSession) createEmptySession();
            session.setValid(true);
            session.setId(id, false); // local only: sessionCreated fired where it was created
        }
        session.refresh(object, webappClassLoader(), graphs);
        return session;
    }

    private void dropLocal(String id) {
        Session local = sessions.remove(id);
        if (local instanceof SovereignSession) {
            ((SovereignSession) local).detach();
        }
    }

    ClassLoader webappClassLoader() {
        Context context = getContext();
        return context.getLoader() != null ? context.getLoader().getClassLoader()
                : Thread.currentThread().getContextClassLoader();
    }

    /**
     * Removes the session locally; if it is being invalidated, also from the heap (under its write
     * lock: the request's, or taken here), committed with that lock's release. A session the expiry
     * scan claimed is already unlinked.
     */
    @Override
    public void remove(Session session, boolean update) {
        super.remove(session, update);
        if (!(session instanceof SovereignSession) || !((SovereignSession) session).isExpiringNow()) {
            return;
        }
        SovereignSession removed = (SovereignSession) session;
        if (removed.isClaimed()) {
            removed.detach(); // the expiry scan unlinked it before its listeners ran
            return;
        }
        String id = removed.getIdInternal();
        RequestScope scope = scopes.get();
        if (scope != null && scope.coversWrite(id)) {
            store.remove(id);
        } else {
            Lock lock = store.writeLock(id);
            lock.lock();
            try {
                store.remove(id);
            } finally {
                lock.unlock();
            }
        }
        removed.detach();
    }

    /** Moves the session to {@code newId} on the heap (attributes kept), then locally. */
    @Override
    protected void changeSessionId(Session session, String newId, boolean notifySessionListeners,
            boolean notifyContainerListeners) {
        String oldId = session.getIdInternal();
        RequestScope scope = scopes.get();
        if (scope != null) {
            use(scope, newId); // not on the heap under this id until the request commits
        }
        if (scope != null && scope.coversWrite(oldId)) {
            store.rename(oldId, newId);
            scope.cover(newId);
        } else {
            Lock lock = store.writeLock(oldId);
            lock.lock();
            try {
                store.rename(oldId, newId);
            } finally {
                lock.unlock();
            }
        }
        super.changeSessionId(session, newId, notifySessionListeners, notifyContainerListeners);
        if (scope != null && session instanceof SovereignSession) {
            scope.loaded(newId, (SovereignSession) session);
        }
    }

    // ---- expiry ----

    /**
     * Expires every session whose heap deadline passed and whose lock is free now. A node claims a
     * session by unlinking it from the heap under its lock, committed before anything else; only
     * the node whose commit did it fires {@code sessionDestroyed}, afterwards, without the lock; the
     * others find it gone. So a node that dies inside its listeners leaves them fired once, never
     * again elsewhere (nor finished). A session a request holds is left to the next scan.
     */
    @Override
    public void processExpires() {
        long startMs = System.currentTimeMillis();
        HeapClient open = client;
        if (open == null || store == null) {
            return;
        }
        int expired = 0;
        try {
            Map<String, Object> onHeap = store.all();
            dropCopiesGoneFromTheHeap(onHeap.keySet());
            for (Map.Entry<String, Object> entry : onHeap.entrySet()) {
                if (!(entry.getValue() instanceof HeapObject)) {
                    continue;
                }
                long expiresAtMs = ((HeapObject) entry.getValue()).getLong(SessionStore.EXPIRES_AT_MS);
                if (expiresAtMs > 0 && expiresAtMs <= startMs && expireIfDue(entry.getKey())) {
                    expired++;
                }
            }
        } catch (HeapSessionEndedException e) {
            reconnectAfter(open, e);
        } catch (HeapException e) {
            log.warn("expiry scan of " + store.rootName() + " stopped: " + e.getMessage() + "; the next scan retries");
        }
        if (expired > 0 && log.isDebugEnabled()) {
            log.debug(expired + " sessions expired by this node");
        }
        processingTime += System.currentTimeMillis() - startMs;
    }

    /**
     * Forgets this node's copies of sessions not on the heap (destroyed or invalidated by another
     * node), so their handles no longer hold the session's objects and the collector can free them.
     * A copy an open request uses is kept: it may be one the request is creating, not committed yet.
     * Any other copy is only a cache of the heap, so dropping one of a session committed after
     * {@code onHeap} was read costs a read at its next request, never a change. The check and the
     * drop are one step against {@link #use}: a request marking the id waits for the drop, then
     * reads the heap afresh.
     */
    private void dropCopiesGoneFromTheHeap(Set<String> onHeap) {
        for (Session local : sessions.values().toArray(new Session[0])) {
            String id = local.getIdInternal();
            if (id != null && !onHeap.contains(id)) {
                inUse.compute(id, (key, count) -> {
                    if (count == null) {
                        dropLocal(key);
                    }
                    return count;
                });
            }
        }
    }

    /**
     * Expires session {@code id} if its lock is free and, read under it, it is still due: unlinks it,
     * commits that at the lock's release (the claim), then fires the listeners here.
     */
    private boolean expireIfDue(String id) {
        Lock lock = store.writeLock(id);
        if (!lock.tryLock()) {
            return false;
        }
        RequestScope scope = new RequestScope(LockMode.WRITE);
        scope.hold(id, lock, true);
        scopes.set(scope);
        SovereignSession due;
        try {
            due = read(id);
            if (due != null && due.isPastDeadline(System.currentTimeMillis())) {
                store.remove(id);
            } else {
                due = null;
            }
        } finally {
            scopes.remove();
            release(scope); // commits the unlink; if this throws, nothing was claimed or fired
        }
        if (due == null) {
            return false;
        }
        due.expireClaimed();
        return true;
    }
}
