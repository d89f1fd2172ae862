package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link HeapClient#connect(String, Security, long)}: a lease within the bounds connects and works;
 * one outside them is refused before any connection with a message naming the bounds, which also
 * shows the Java constants match the native library's.
 */
@Timeout(120)
class SessionTtlTest extends ClusterTest {
    /** The lease the RAP library asks for: a dead server's session locks come free after 2 s. */
    private static final long SHORT_TTL_MS = 2_000;

    @Test
    void aLeaseWithinTheBoundsConnectsAndWorks() {
        try (HeapClient client = HeapClient.connect(cluster.endpoints(), cluster.security(), SHORT_TTL_MS)) {
            client.root("short-lease").set("n", 7L);
            assertEquals(7L, client.root("short-lease").getLong("n"));
        }
    }

    @Test
    void aLeaseOutsideTheBoundsIsRefusedNamingThem() {
        long[] refused = {HeapClient.SESSION_TTL_MS_MIN - 1, HeapClient.SESSION_TTL_MS_MAX + 1, 0, -5};
        for (long ttlMs : refused) {
            HeapRejectedException e = assertThrows(HeapRejectedException.class,
                    () -> HeapClient.connect(cluster.endpoints(), cluster.security(), ttlMs), "ttl " + ttlMs);
            String message = e.getMessage();
            System.out.println("[session-ttl] " + ttlMs + " ms: " + message);
            assertTrue(message.contains(Long.toString(ttlMs)), message);
            assertTrue(message.contains(HeapClient.SESSION_TTL_MS_MIN + "..=" + HeapClient.SESSION_TTL_MS_MAX), message);
        }
    }
}
