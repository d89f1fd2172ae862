package org.sovereign.tomcat.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sovereign.testkit.HeapNodes;

/** The checks both deployment tests make: an answer's status, a slow request begun, an object on the heap. */
final class ItChecks {
    /** How long a test waits for its slow request to have begun on a Tomcat. */
    static final long SLOW_REQUEST_WAIT_MS = 30_000;

    private ItChecks() {
    }

    /** {@code answer}, asserted to be a 200 with a body. */
    static WebClient.Answer ok(WebClient.Answer answer) {
        assertEquals(200, answer.status(), answer.body());
        assertNotNull(answer.body());
        return answer;
    }

    /** Waits until the Tomcat at {@code node} runs a slow request (its /api/stats says so). */
    static void awaitSlowRequest(String node) throws Exception {
        long deadline = System.currentTimeMillis() + SLOW_REQUEST_WAIT_MS;
        while (!ok(new WebClient().get(node, "/api/stats")).body().contains("\"slow\":1")) {
            assertTrue(System.currentTimeMillis() < deadline, "no slow request began on " + node + " within "
                    + SLOW_REQUEST_WAIT_MS + " ms");
            Thread.sleep(50);
        }
    }

    /** The cart's items in a demo answer, {@code {...}}. */
    static String itemsOf(String body) {
        Matcher matcher = Pattern.compile("\"items\":(\\{[^}]*\\})").matcher(body);
        return matcher.find() ? matcher.group(1) : "(none)";
    }

    /** Whether object {@code objectId} is on {@code cluster}'s heap, as {@code heapctl object get} says. */
    static boolean exists(HeapNodes cluster, long objectId) throws Exception {
        HeapNodes.HeapctlRun run = cluster.heapctl("object", "get", Long.toString(objectId));
        if (run.exitCode() == 0) {
            return true;
        }
        if (run.output().contains("unknown object id " + objectId)) {
            return false;
        }
        throw new AssertionError("heapctl object get " + objectId + " failed: " + run.output());
    }
}
