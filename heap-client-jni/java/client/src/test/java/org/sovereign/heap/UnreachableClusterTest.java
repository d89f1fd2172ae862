package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Without a cluster: connecting to endpoints where nothing listens fails after a bounded wait with a
 * {@link HeapUnavailableException} that names the endpoints; the native library loads from the jar's
 * copy and reports its version.
 */
class UnreachableClusterTest {
    /** The client's connect deadline is 10 s; allow start-up and slack on a loaded machine. */
    private static final Duration CONNECT_BOUND = Duration.ofSeconds(40);

    @Test
    @Timeout(60)
    void anUnreachableClusterFailsAfterABoundedWaitNamingTheEndpoints() throws Exception {
        String endpoints;
        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
            endpoints = "127.0.0.1:" + a.getLocalPort() + ",127.0.0.1:" + b.getLocalPort();
        }
        long start = System.nanoTime();
        HeapUnavailableException e = assertThrows(HeapUnavailableException.class, () -> HeapClient.connect(endpoints));
        Duration waited = Duration.ofNanos(System.nanoTime() - start);
        System.out.println("[unreachable] failed after " + waited.toMillis() + " ms: " + e.getMessage());
        assertTrue(waited.compareTo(CONNECT_BOUND) < 0, "waited " + waited);
        for (String endpoint : endpoints.split(",")) {
            assertTrue(e.getMessage().contains(endpoint), e.getMessage());
        }
    }

    @Test
    void malformedEndpointsAreRefused() {
        HeapException e = assertThrows(HeapException.class, () -> HeapClient.connect(""));
        System.out.println("[unreachable] empty endpoints: " + e);
    }

    @Test
    void theNativeLibraryLoadsFromTheJarsCopy() {
        assertEquals(null, System.getProperty(NativeLoader.PATH_PROPERTY));
        assertEquals("0.1.0", HeapClient.nativeVersion());
    }
}
