package org.sovereign.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sovereign.tomcat.it.ItChecks.awaitSlowRequest;
import static org.sovereign.tomcat.it.ItChecks.exists;
import static org.sovereign.tomcat.it.ItChecks.itemsOf;
import static org.sovereign.tomcat.it.ItChecks.ok;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapObject;
import org.sovereign.testkit.HeapNodes;

/**
 * HTTP sessions on the heap in a real deployment: a secured three-node heap cluster, two Tomcat 10.1
 * processes (A finds the cluster's security through context.xml, B through the environment) running
 * the demo shop with SovereignSessionManager and SessionLockValve, and HAProxy round-robin in front,
 * without stickiness. One deployment for the class; the tests that kill something run last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TomcatSessionsIT {
    /** The heap root the demo shop's sessions live in (host localhost, context /cart). */
    static final String ROOT = "sovereign.tomcat.sessions:localhost/cart";
    /** How long an expired session may take to be destroyed: its deadline plus a few one-second scans. */
    static final long EXPIRY_WAIT_MS = 30_000;
    /** How long an expired session's objects may take to be collected: GCs in every JVM, the client's
     *  hold release (200 ms batches) and the collector's grace and cycle (seconds). */
    static final long FREE_WAIT_MS = 60_000;
    static final int INCREMENTS_PER_CLIENT = 200;
    static final int IN_FLIGHT_PER_CLIENT = 8;
    /** How long the read-lock test's slow poll sleeps: long enough for a second poll to come and go. */
    static final int SLOW_POLL_MS = 5_000;
    /** How far past its heap session's lease the stall test keeps a Tomcat stopped: the cluster's
     *  expiry runs on its own ticks, so the session ends a little after the lease. */
    static final long STALL_PAST_LEASE_MS = 3_000;
    /** How long the listener killed mid-way would sleep: far past the test, so it is surely inside it. */
    static final int KILLED_LISTENER_MS = 60_000;
    /** How long the other Tomcat gets, after the dead one's lease, to destroy the session again if it would. */
    static final long EXPIRY_SCANS_AFTER_LEASE_MS = 4_000;

    static HeapNodes cluster;
    static TomcatNode tomcatA;
    static TomcatNode tomcatB;
    static HaProxy proxy;
    static HeapClient heap;
    static String a;
    static String b;
    static String lb;

    @BeforeAll
    static void deploy() throws Exception {
        long startMs = System.currentTimeMillis();
        cluster = HeapNodes.startSecured();
        tomcatA = TomcatNode.start("A", cluster, true);
        tomcatB = TomcatNode.start("B", cluster, false);
        proxy = HaProxy.start(tomcatA, tomcatB);
        heap = cluster.client();
        a = "http://" + tomcatA.address();
        b = "http://" + tomcatB.address();
        lb = proxy.url();
        System.out.println("[deploy] heap, 2 Tomcats and HAProxy up in " + (System.currentTimeMillis() - startMs) + " ms");
    }

    @AfterAll
    static void undeploy() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {heap, proxy, tomcatA, tomcatB, cluster}) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    @Test
    @Order(1)
    void writtenOnAIsReadOnB() throws Exception {
        WebClient browser = new WebClient();
        WebClient.Answer written = ok(browser.post(a, "/api/add?sku=apple&qty=2"));
        assertEquals("A", written.string("node"));
        WebClient.Answer read = ok(browser.get(b, "/api/cart"));
        System.out.println("[check] written on A: " + written.body() + "; read on B: " + read.body());
        assertEquals("B", read.string("node"));
        assertEquals(written.string("id"), read.string("id"), "B must serve A's session, not a new one");
        assertTrue(read.body().contains("\"items\":{\"apple\":2}"), read.body());
    }

    @Test
    @Order(2)
    void valueChangedInPlaceReachesTheOtherNode() throws Exception {
        WebClient browser = new WebClient();
        ok(browser.post(a, "/api/add?sku=apple")); // setAttribute("cart", new Cart()), then cart.add
        ok(browser.post(b, "/api/add?sku=pear")); // cart.add only: no setAttribute
        ok(browser.post(a, "/api/add?sku=apple")); // cart.add only
        WebClient.Answer read = ok(browser.get(b, "/api/cart"));
        System.out.println("[check] after in-place changes on A, B, A: " + read.body());
        assertTrue(read.body().contains("\"items\":{\"apple\":2,\"pear\":1}"), read.body());
    }

    @Test
    @Order(3)
    void changeSessionIdKeepsTheAttributes() throws Exception {
        WebClient browser = new WebClient();
        String oldId = ok(browser.post(a, "/api/add?sku=plum&qty=3")).string("id");
        WebClient.Answer rotated = ok(browser.post(a, "/api/rotate"));
        String newId = rotated.string("id");
        assertNotEquals(oldId, newId);
        assertEquals(newId, browser.sessionId(), "the new id must be sent as the cookie");
        WebClient.Answer read = ok(browser.get(b, "/api/cart"));
        System.out.println("[check] id " + oldId + " -> " + newId + "; on B: " + read.body());
        assertEquals(newId, read.string("id"));
        assertTrue(read.body().contains("\"plum\":3"), read.body());
        assertFalse(heap.rootMap(ROOT).containsKey(oldId), "the old id must be gone from the heap");
        WebClient stale = new WebClient();
        stale.useSession(oldId);
        WebClient.Answer withOldId = ok(stale.get(b, "/api/cart"));
        assertNotEquals(oldId, withOldId.string("id"), "the old id must not find the session any more");
        assertTrue(withOldId.body().contains("\"items\":{}"), withOldId.body());
    }

    @Test
    @Order(4)
    void invalidateFiresDestroyedOnceAndDeletesTheSession() throws Exception {
        WebClient browser = new WebClient();
        String id = ok(browser.post(a, "/api/add?sku=fig")).string("id");
        assertTrue(heap.rootMap(ROOT).containsKey(id));
        ok(browser.post(b, "/api/invalidate"));
        assertFalse(heap.rootMap(ROOT).containsKey(id), "an invalidated session must be unlinked from the heap");
        Map<String, Integer> destroyed = destroyedCounts();
        assertEquals(1, destroyed.getOrDefault(id, 0), "sessionDestroyed for " + id + " across A and B: " + destroyed);
        WebClient.Answer after = ok(browser.get(a, "/api/cart"));
        assertNotEquals(id, after.string("id"));
        assertTrue(after.body().contains("\"items\":{}"), after.body());
    }

    @Test
    @Order(5)
    void sessionCreatedFiresOnceAcrossTheNodes() throws Exception {
        Set<String> ids = ConcurrentHashMap.newKeySet();
        Set<String> nodes = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 10; i++) {
            // One request per new browser, so round-robin alternates the creating Tomcat.
            WebClient.Answer created = ok(new WebClient().post(lb, "/api/add?sku=kiwi"));
            ids.add(created.string("id"));
            nodes.add(created.string("node"));
        }
        Map<String, Integer> created = countsOf("created");
        System.out.println("[check] 10 sessions through HAProxy, created on " + nodes);
        assertEquals(Set.of("A", "B"), nodes, "round-robin must have used both Tomcats");
        for (String id : ids) {
            assertEquals(1, created.getOrDefault(id, 0), "sessionCreated for " + id + " across A and B");
        }
    }

    @Test
    @Order(6)
    void expiryFiresDestroyedExactlyOnceClusterWide() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            WebClient browser = new WebClient();
            ok(browser.post(lb, "/api/add?sku=date"));
            ids.add(ok(browser.post(lb, "/api/timeout?s=1")).string("id"));
        }
        long deadline = System.currentTimeMillis() + EXPIRY_WAIT_MS;
        Map<String, Integer> destroyed = destroyedCounts();
        while (!destroyed.keySet().containsAll(ids) && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
            destroyed = destroyedCounts();
        }
        assertTrue(destroyed.keySet().containsAll(ids), "not all expired within " + EXPIRY_WAIT_MS + " ms: " + destroyed);
        // Both nodes scan every second: give them three more scans to fire a second time, if they would.
        long settle = System.currentTimeMillis() + 3_000;
        while (System.currentTimeMillis() < settle) {
            Thread.sleep(200);
        }
        destroyed = destroyedCounts();
        for (String id : ids) {
            assertEquals(1, destroyed.get(id), "sessionDestroyed for expired " + id + " across A and B: " + destroyed);
            assertFalse(heap.rootMap(ROOT).containsKey(id), "expired " + id + " must be unlinked from the heap");
        }
        System.out.println("[check] 6 sessions expired, each destroyed once: " + perNode(ids));
    }

    @Test
    @Order(7)
    void anExpiredSessionsObjectsAreFreedOnceNoTomcatHoldsThem() throws Exception {
        WebClient browser = new WebClient();
        ok(browser.post(a, "/api/add?sku=fig"));
        ok(browser.get(b, "/api/cart")); // B has handles to it too
        String id = ok(browser.post(a, "/api/timeout?s=1")).string("id");
        long[] objects = sessionObjects(id);
        assertTrue(exists(cluster, objects[0]) && exists(cluster, objects[1]), "the session's objects exist before expiry");
        long deadline = System.currentTimeMillis() + EXPIRY_WAIT_MS;
        while (!destroyedCounts().containsKey(id) && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
        assertTrue(destroyedCounts().containsKey(id), "session " + id + " not destroyed within " + EXPIRY_WAIT_MS + " ms");
        // The Tomcats dropped their copies at expiry; a GC in each JVM (and this one) lets the
        // client release its holds, and the collector frees what nothing references or holds.
        long freeDeadline = System.currentTimeMillis() + FREE_WAIT_MS;
        while ((exists(cluster, objects[0]) || exists(cluster, objects[1])) && System.currentTimeMillis() < freeDeadline) {
            System.gc();
            tomcatA.gc();
            tomcatB.gc();
            Thread.sleep(1_000);
        }
        System.out.println("[check] expired session " + id + ": objects " + objects[0] + " (session) and " + objects[1]
                + " (attributes) freed: " + !exists(cluster, objects[0]) + ", " + !exists(cluster, objects[1]));
        assertFalse(exists(cluster, objects[0]), "the expired session's object " + objects[0] + " must be collected");
        assertFalse(exists(cluster, objects[1]), "the expired session's attribute map " + objects[1] + " must be collected");
    }

    @Test
    @Order(8)
    void aValueThatCannotBeStoredIsRefusedAtSetAttribute() throws Exception {
        WebClient.Answer refused = new WebClient().post(lb, "/api/bad");
        System.out.println("[check] setAttribute(Thread): " + refused.status() + " " + refused.body());
        assertEquals(400, refused.status());
        assertTrue(refused.body().contains("java.lang.Thread") && refused.body().contains("Serializable"),
                refused.body());
    }

    @Test
    @Order(9)
    void readLockedPollsRunBesideEachOtherAcrossTomcats() throws Exception {
        WebClient browser = new WebClient();
        ok(browser.post(a, "/api/incr"));
        CompletableFuture<WebClient.Answer> slowPoll = CompletableFuture.supplyAsync(() -> {
            try {
                return browser.get(a, "/api/poll?ms=" + SLOW_POLL_MS);
            } catch (IOException | InterruptedException e) {
                return new WebClient.Answer(-1, e.toString());
            }
        });
        awaitSlowRequest(a);
        // The slow poll holds the session's read lock on A; a poll on B takes it too, at once.
        WebClient.Answer quickPoll = ok(browser.get(b, "/api/poll"));
        boolean slowStillRunning = ok(new WebClient().get(a, "/api/stats")).body().contains("\"slow\":1");
        System.out.println("[check] poll on B answered while A's slow poll still ran: " + slowStillRunning + " ("
                + quickPoll.body() + ")");
        assertTrue(slowStillRunning, "a read-locked poll must not wait for another read-locked poll");
        assertEquals(1, quickPoll.number("count"));
        assertEquals(200, slowPoll.get(60, TimeUnit.SECONDS).status());
    }

    @Test
    @Order(10)
    void concurrentIncrementsThroughBothTomcatsLoseNothing() throws Exception {
        WebClient first = new WebClient();
        String id = ok(first.get(lb, "/api/cart")).string("id");
        WebClient second = new WebClient();
        second.useSession(id);
        long startMs = System.currentTimeMillis();
        Map<String, AtomicInteger> byNode = new ConcurrentHashMap<>();
        List<Integer> failures = increments(List.of(first, second), INCREMENTS_PER_CLIENT, byNode);
        long tookMs = System.currentTimeMillis() - startMs;
        WebClient.Answer onA = ok(first.get(a, "/api/cart"));
        WebClient.Answer onB = ok(first.get(b, "/api/cart"));
        System.out.println("[check] 2 clients x " + INCREMENTS_PER_CLIENT + " increments in " + tookMs + " ms, served "
                + byNode + "; count on A " + onA.number("count") + ", on B " + onB.number("count"));
        assertEquals(List.of(), failures);
        assertEquals(2L * INCREMENTS_PER_CLIENT, onA.number("count"));
        assertEquals(2L * INCREMENTS_PER_CLIENT, onB.number("count"));
        assertEquals(2, byNode.size(), "both Tomcats must have served increments: " + byNode);
    }

    @Test
    @Order(11)
    void aTomcatStalledPastItsHeapLeaseConnectsAgainAndServes() throws Exception {
        WebClient browser = new WebClient();
        ok(browser.post(b, "/api/add?sku=plum"));
        tomcatB.signal("STOP");
        try {
            WebClient.Answer meanwhile = ok(browser.post(a, "/api/add?sku=plum"));
            System.out.println("[check] Tomcat B stopped; A served the session at once: " + meanwhile.body());
            Thread.sleep(TomcatNode.HEAP_SESSION_TTL_MS + STALL_PAST_LEASE_MS);
        } finally {
            tomcatB.signal("CONT");
        }
        WebClient.Answer after = ok(browser.post(b, "/api/add?sku=plum"));
        System.out.println("[check] Tomcat B resumed past its heap lease and served: " + after.body());
        assertEquals("B", after.string("node"));
        assertTrue(after.body().contains("\"items\":{\"plum\":3}"), after.body());
        assertTrue(tomcatB.log().contains("connecting a new one"), "B must say it connected a new heap session");
    }

    @Test
    @Order(12)
    void heapLeaderKilledUnderLoadLosesNothingAndFailsNothing() throws Exception {
        WebClient first = new WebClient();
        String id = ok(first.get(lb, "/api/cart")).string("id");
        WebClient second = new WebClient();
        second.useSession(id);
        int perClient = 60;
        Map<String, AtomicInteger> byNode = new ConcurrentHashMap<>();
        AtomicLong slowestMs = new AtomicLong();
        CompletableFuture<List<Integer>> load = CompletableFuture.supplyAsync(() -> {
            try {
                return increments(List.of(first, second), perClient, byNode, slowestMs);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = System.currentTimeMillis() + 60_000;
        while (byNode.values().stream().mapToInt(AtomicInteger::get).sum() < perClient / 2
                && System.currentTimeMillis() < deadline && !load.isDone()) {
            Thread.sleep(20);
        }
        int leader = cluster.leader();
        cluster.kill(leader);
        System.out.println("[fault] heap leader " + leader + " killed (SIGKILL) after "
                + byNode.values().stream().mapToInt(AtomicInteger::get).sum() + " increments");
        List<Integer> failures = load.get(180, TimeUnit.SECONDS);
        WebClient.Answer read = ok(first.get(lb, "/api/cart"));
        System.out.println("[check] after the leader's death: " + read.body() + ", failed statuses " + failures
                + ", slowest increment " + slowestMs.get() + " ms");
        assertEquals(List.of(), failures, "no request may fail while the heap fails over");
        assertEquals(2L * perClient, read.number("count"));
    }

    @Test
    @Order(13)
    void tomcatKilledMidRequestLeavesTheSessionWhollyBefore() throws Exception {
        WebClient browser = new WebClient();
        ok(browser.post(a, "/api/add?sku=apple"));
        String before = ok(browser.get(a, "/api/cart")).body();
        CompletableFuture<WebClient.Answer> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return browser.post(a, "/api/slow?ms=60000&sku=pear");
            } catch (IOException | InterruptedException e) {
                return new WebClient.Answer(-1, e.toString());
            }
        });
        awaitSlowRequest(a);
        tomcatA.kill();
        WebClient.Answer lost = slow.get(60, TimeUnit.SECONDS);
        System.out.println("[fault] Tomcat A killed in the middle of /api/slow; that request got: " + lost.status());
        long retryStartMs = System.currentTimeMillis();
        WebClient.Answer retried = ok(browser.get(lb, "/api/cart"));
        System.out.println("[check] retry through HAProxy after " + (System.currentTimeMillis() - retryStartMs)
                + " ms: " + retried.body() + " (before: " + before + ")");
        assertEquals("B", retried.string("node"));
        String items = itemsOf(retried.body());
        assertTrue(items.equals(itemsOf(before)) || items.equals("{\"apple\":1,\"pear\":1}"),
                "the session must be wholly before or wholly after the killed request: " + retried.body());
        assertEquals(itemsOf(before), items, "the killed request never returned, so nothing of it may be kept");
    }

    @Test
    @Order(14)
    void aTomcatKilledInsideSessionDestroyedLeavesItFiredOnceNotAgainElsewhere() throws Exception {
        try (TomcatNode tomcatC = TomcatNode.start("C", cluster, true)) {
            String c = "http://" + tomcatC.address();
            WebClient browser = new WebClient();
            ok(browser.post(c, "/api/slowdestroy?ms=" + KILLED_LISTENER_MS));
            String id = ok(browser.post(c, "/api/timeout?s=1")).string("id");
            tomcatB.signal("STOP"); // only C scans: C claims the session
            try {
                awaitSlowRequest(c); // C's sessionDestroyed for it is running
                tomcatC.kill();
            } finally {
                tomcatB.signal("CONT");
            }
            System.out.println("[fault] Tomcat C killed inside sessionDestroyed of " + id);
            // Were the claim not committed before the listener, C's lock would free at its lease end
            // and B's next scan (every second) would destroy the session a second time.
            Thread.sleep(TomcatNode.HEAP_SESSION_TTL_MS + EXPIRY_SCANS_AFTER_LEASE_MS);
            String statsOnB = ok(new WebClient().get(b, "/api/stats")).body();
            System.out.println("[check] B after C's death: " + statsOnB);
            assertFalse(statsOnB.contains(id), "B must not fire sessionDestroyed again for " + id);
            assertFalse(heap.rootMap(ROOT).containsKey(id), "the claim unlinked " + id + " before the listener ran");
        }
    }

    // ---- helpers ----

    /** The ids of session {@code id}'s heap object and its attribute map; this JVM keeps no handle. */
    private static long[] sessionObjects(String id) {
        HeapObject session = (HeapObject) heap.rootMap(ROOT).get(id);
        assertNotNull(session, "session " + id + " is on the heap");
        return new long[] {session.id(), session.getMap("attributes").id()};
    }

    /** {@code perClient} increments from each client, {@link #IN_FLIGHT_PER_CLIENT} at a time; the failed statuses. */
    private static List<Integer> increments(List<WebClient> clients, int perClient, Map<String, AtomicInteger> byNode)
            throws Exception {
        return increments(clients, perClient, byNode, new AtomicLong());
    }

    /** As above; {@code slowestMs} ends as the longest single call. */
    private static List<Integer> increments(List<WebClient> clients, int perClient, Map<String, AtomicInteger> byNode,
            AtomicLong slowestMs) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients.size() * IN_FLIGHT_PER_CLIENT);
        try {
            List<Future<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < perClient; i++) {
                for (WebClient client : clients) {
                    calls.add(pool.submit(() -> {
                        long startMs = System.currentTimeMillis();
                        WebClient.Answer answer = client.post(lb, "/api/incr");
                        slowestMs.accumulateAndGet(System.currentTimeMillis() - startMs, Math::max);
                        if (answer.status() == 200) {
                            byNode.computeIfAbsent(answer.string("node"), node -> new AtomicInteger()).incrementAndGet();
                        }
                        return answer.status();
                    }));
                }
            }
            List<Integer> failures = new ArrayList<>();
            for (Future<Integer> call : calls) {
                int status = call.get(120, TimeUnit.SECONDS);
                if (status != 200) {
                    failures.add(status);
                }
            }
            return failures;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Map<String, Integer> destroyedCounts() throws Exception {
        return countsOf("destroyed");
    }

    /** How many times each session id appears in the listener record {@code list} of A and B together. */
    private static Map<String, Integer> countsOf(String list) throws Exception {
        Map<String, Integer> counts = new TreeMap<>();
        for (String node : List.of(a, b)) {
            for (String id : idsIn(ok(new WebClient().get(node, "/api/stats")).body(), list)) {
                counts.merge(id, 1, Integer::sum);
            }
        }
        return counts;
    }

    private static String perNode(List<String> ids) throws Exception {
        StringBuilder out = new StringBuilder();
        for (String node : List.of(a, b)) {
            List<String> here = idsIn(ok(new WebClient().get(node, "/api/stats")).body(), "destroyed");
            long count = ids.stream().filter(here::contains).count();
            out.append(node.equals(a) ? "A " : ", B ").append(count);
        }
        return out.toString();
    }

    private static List<String> idsIn(String body, String list) {
        Matcher matcher = Pattern.compile("\"" + list + "\":\\[([^\\]]*)\\]").matcher(body);
        List<String> ids = new ArrayList<>();
        if (matcher.find()) {
            Matcher id = Pattern.compile("\"([^\"]+)\"").matcher(matcher.group(1));
            while (id.find()) {
                ids.add(id.group(1));
            }
        }
        return ids;
    }
}
