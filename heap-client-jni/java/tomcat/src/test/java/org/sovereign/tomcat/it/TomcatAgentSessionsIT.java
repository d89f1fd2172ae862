package org.sovereign.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sovereign.tomcat.it.ItChecks.awaitSlowRequest;
import static org.sovereign.tomcat.it.ItChecks.exists;
import static org.sovereign.tomcat.it.ItChecks.itemsOf;
import static org.sovereign.tomcat.it.ItChecks.ok;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapMap;
import org.sovereign.heap.HeapObject;
import org.sovereign.testkit.HeapNodes;

/**
 * Session attributes as shared graphs: two real Tomcat 10.1 processes started with the Sovereign
 * agent ({@code -javaagent}, instrumenting the demo shop's {@code demo.cart.**}) and the session
 * manager, on a secured three-node heap cluster. The demo's {@code Cart} (an instrumented object
 * holding a map) is then stored as a graph, not as bytes, and changed in place with no
 * {@code setAttribute} and no {@code synchronized}; the {@code count} attribute (an Integer) is
 * still stored as bytes. The Tomcat kill runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TomcatAgentSessionsIT {
    static final String ROOT = TomcatSessionsIT.ROOT;
    /** Requests per client in the concurrency test, and how many each keeps in flight. */
    static final int ADDS_PER_CLIENT = 60;
    static final int IN_FLIGHT_PER_CLIENT = 4;
    /** How long an expired session may take to be unlinked and its objects collected (scans every second, GCs). */
    static final long FREE_WAIT_MS = 60_000;

    static HeapNodes cluster;
    static TomcatNode tomcatA;
    static TomcatNode tomcatB;
    static HeapClient heap;
    static String a;
    static String b;

    @BeforeAll
    static void deploy() throws Exception {
        cluster = HeapNodes.startSecured();
        tomcatA = TomcatNode.start("A", cluster, false, TomcatNode.Sessions.SOVEREIGN_AGENT, 0, 0);
        tomcatB = TomcatNode.start("B", cluster, false, TomcatNode.Sessions.SOVEREIGN_AGENT, 0, 0);
        heap = cluster.client();
        a = "http://" + tomcatA.address();
        b = "http://" + tomcatB.address();
        assertTrue(tomcatA.log().contains("stored as shared graphs"), "A must have found the agent:\n" + tomcatA.log());
    }

    @AfterAll
    static void undeploy() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] {heap, tomcatA, tomcatB, cluster}) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    /** Proves the cart is a graph on the heap and its changes in place on either node reach the other. */
    @Test
    @Order(1)
    void theCartIsASharedGraphChangedInPlaceOnEitherNode() throws Exception {
        WebClient browser = new WebClient();
        String id = ok(browser.post(a, "/api/add?sku=apple")).string("id"); // setAttribute, then cart.add
        ok(browser.post(b, "/api/add?sku=pear")); // cart.add only, on B's instance of the graph
        ok(browser.post(a, "/api/add?sku=apple")); // cart.add only, A's instance refreshed first
        ok(browser.post(b, "/api/incr"));
        WebClient.Answer read = ok(browser.get(b, "/api/cart"));
        System.out.println("[check] after in-place changes on A, B, A: " + read.body());
        assertTrue(read.body().contains("\"items\":{\"apple\":2,\"pear\":1}"), read.body());
        assertEquals(1, read.number("count"));

        HeapMap attributes = sessionObject(id).getMap("attributes");
        Object cart = attributes.get("cart");
        HeapObject graph = assertInstanceOf(HeapObject.class, cart, "the cart must be a heap object, not bytes");
        assertEquals("demo.cart.Cart", graph.getString("$class"));
        assertInstanceOf(byte[].class, attributes.get("count"), "an Integer attribute is stored as bytes");
        System.out.println("[check] cart stored as heap object " + graph.id() + " (class " + graph.getString("$class")
                + "); count as " + ((byte[]) attributes.get("count")).length + " bytes");
    }

    /** Proves requests on both nodes changing one graph in place are serialized: no add is lost. */
    @Test
    @Order(2)
    void concurrentAddsThroughBothNodesLoseNothing() throws Exception {
        WebClient first = new WebClient();
        String id = ok(first.post(a, "/api/add?sku=seed")).string("id");
        WebClient second = new WebClient();
        second.useSession(id);
        ExecutorService pool = Executors.newFixedThreadPool(2 * IN_FLIGHT_PER_CLIENT);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 2 * ADDS_PER_CLIENT; i++) {
                WebClient client = i % 2 == 0 ? first : second;
                String node = (i / 2) % 2 == 0 ? a : b;
                results.add(pool.submit(() -> client.post(node, "/api/add?sku=plum").status()));
            }
            for (Future<Integer> result : results) {
                assertEquals(200, result.get(120, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        WebClient.Answer read = ok(first.get(b, "/api/cart"));
        System.out.println("[check] " + 2 * ADDS_PER_CLIENT + " concurrent adds through A and B: " + read.body());
        assertTrue(read.body().contains("\"plum\":" + 2 * ADDS_PER_CLIENT), read.body());
    }

    /** Proves a value that is neither shareable nor serializable is refused at setAttribute, with the reason. */
    @Test
    @Order(3)
    void aValueNeitherShareableNorSerializableIsRefused() throws Exception {
        WebClient.Answer refused = new WebClient().post(a, "/api/bad");
        System.out.println("[check] a Thread as attribute: " + refused.status() + " " + refused.body());
        assertEquals(400, refused.status(), refused.body());
        assertTrue(refused.body().contains("java.lang.Thread"), refused.body());
    }

    /**
     * Proves an expired session's graph is deleted with it: once the session is unlinked and each
     * JVM has collected its garbage, a collection cycle leaves neither the session's objects nor
     * the cart's on the heap. A cycle, not the reference counts: the graph's objects name their
     * owner, the session object, which references them through its attribute map.
     */
    @Test
    @Order(4)
    void anExpiredSessionsGraphIsFreed() throws Exception {
        WebClient browser = new WebClient();
        ok(browser.post(a, "/api/add?sku=fig"));
        ok(browser.get(b, "/api/cart")); // B loads the graph too
        String id = ok(browser.post(a, "/api/timeout?s=1")).string("id");
        long[] objects = graphObjects(id);
        long deadline = System.currentTimeMillis() + FREE_WAIT_MS;
        while (heap.rootMap(ROOT).containsKey(id) && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
        assertFalse(heap.rootMap(ROOT).containsKey(id), "session " + id + " must expire");
        while (anyExists(objects) && System.currentTimeMillis() < deadline) {
            System.gc();
            tomcatA.gc();
            tomcatB.gc();
            Thread.sleep(500); // the clients send their hold releases in batches
            HeapNodes.HeapctlRun cycle = cluster.heapctl("gc", "run");
            assertEquals(0, cycle.exitCode(), cycle.output());
        }
        System.out.println("[check] expired session " + id + ": session, attribute map and cart objects "
                + java.util.Arrays.toString(objects) + " freed: " + !anyExists(objects));
        assertFalse(anyExists(objects), "the expired session's objects and graph must be collected");
    }

    /**
     * Proves a graph's change in place commits with its request: Tomcat A SIGKILLed inside a
     * request that already added to the cart leaves the cart on B as it was before that request.
     */
    @Test
    @Order(5)
    void aTomcatKilledMidRequestLeavesTheGraphWhollyBefore() throws Exception {
        WebClient browser = new WebClient();
        ok(browser.post(a, "/api/add?sku=apple"));
        String before = itemsOf(ok(browser.get(a, "/api/cart")).body());
        CompletableFuture<WebClient.Answer> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return browser.post(a, "/api/slow?ms=60000&sku=pear"); // cart.add, then sleeps
            } catch (IOException | InterruptedException e) {
                return new WebClient.Answer(-1, e.toString());
            }
        });
        awaitSlowRequest(a);
        tomcatA.kill();
        slow.get(60, TimeUnit.SECONDS);
        long retryStartMs = System.currentTimeMillis();
        WebClient.Answer retried = ok(browser.get(b, "/api/cart"));
        System.out.println("[check] on B " + (System.currentTimeMillis() - retryStartMs) + " ms after A's SIGKILL: "
                + retried.body() + " (before: " + before + ")");
        assertEquals(before, itemsOf(retried.body()), "the killed request's cart.add must not be kept");
    }

    private static HeapObject sessionObject(String id) {
        Object session = heap.rootMap(ROOT).get(id);
        return assertInstanceOf(HeapObject.class, session, "session " + id + " must be on the heap");
    }

    /** The heap ids of session {@code id}'s object, its attribute map and its cart (no handle kept). */
    private static long[] graphObjects(String id) {
        HeapObject session = sessionObject(id);
        HeapMap attributes = session.getMap("attributes");
        return new long[] {session.id(), attributes.id(), ((HeapObject) attributes.get("cart")).id()};
    }

    private static boolean anyExists(long[] objectIds) throws Exception {
        for (long objectId : objectIds) {
            if (exists(cluster, objectId)) {
                return true;
            }
        }
        return false;
    }

}
