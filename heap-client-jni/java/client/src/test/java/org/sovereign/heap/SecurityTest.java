package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Against a secured three-node cluster (TLS with certificates from the cluster's CA, tokens with
 * roles; {@link TestCluster#startSecured()}): the right CA and token work, and every wrong one fails
 * with an exception whose message says what to do, within the connect deadline, never a hang.
 */
class SecurityTest {
    /** The client's connect deadline is 10 s; allow start-up and slack on a loaded machine. */
    private static final Duration CONNECT_BOUND = Duration.ofSeconds(40);
    /** A token in heapctl's format (64 hex digits) that the cluster's token file does not list. */
    private static final String UNKNOWN_TOKEN = "0123456789abcdef".repeat(4);

    static TestCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.startSecured();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Security withCa() {
        return Security.plaintext().withCaFile(cluster.securityDir().resolve(Security.CA_FILE));
    }

    /** Proves the happy path: TLS verified against the cluster CA plus a write token gives full use. */
    @Test
    @Timeout(120)
    void aClientWithTheCaAndAWriteTokenWritesAndReads() {
        Security security = withCa().withToken(cluster.token(TestCluster.WRITE_TOKEN));
        System.out.println("[security] connect with " + security);
        try (HeapClient writer = HeapClient.connect(cluster.endpoints(), security)) {
            HeapObject root = writer.root("security-write");
            root.set("answer", 42L);
            root.set("who", "writer");
            assertEquals(42L, root.getLong("answer"));
        }
        // A second client (its own session and cache) sees the write through the cluster.
        try (HeapClient reader = HeapClient.connect(cluster.endpoints(), security)) {
            HeapObject root = reader.root("security-write");
            assertEquals(42L, root.getLong("answer"));
            assertEquals("writer", root.get("who"));
        }
    }

    /**
     * Proves that the cluster authenticates: a token it does not list is refused at connect with the
     * cluster's own message (which says to use a token from the nodes' token file), and the refused
     * token does not appear in the exception.
     */
    @Test
    @Timeout(120)
    void anUnknownTokenIsRefusedWithTheClustersAdvice() {
        Security security = withCa().withToken(UNKNOWN_TOKEN);
        HeapRejectedException e = assertThrows(HeapRejectedException.class,
                () -> HeapClient.connect(cluster.endpoints(), security).close());
        System.out.println("[security] unknown token: " + e.getMessage());
        assertTrue(e.getMessage().contains("does not know the token"), e.getMessage());
        assertFalse(e.getMessage().contains(UNKNOWN_TOKEN), "the exception shows the token: " + e.getMessage());
    }

    /** Proves that TLS alone is not enough: a client with the CA but no token is refused and told to give one. */
    @Test
    @Timeout(120)
    void aClientWithoutATokenIsToldToGiveOne() {
        HeapRejectedException e = assertThrows(HeapRejectedException.class,
                () -> HeapClient.connect(cluster.endpoints(), withCa()).close());
        System.out.println("[security] no token: " + e.getMessage());
        assertTrue(e.getMessage().contains("token"), e.getMessage());
    }

    /**
     * Proves that a secured cluster does not talk plaintext, even with a valid token: the client fails
     * within its connect deadline (no hang) with a {@link HeapException} (today a
     * {@link HeapRejectedException}: the node's TLS alert is an HTTP/2 protocol error to it; retrying
     * does not help), and the message says it spoke plaintext and how to give the CA.
     */
    @Test
    @Timeout(60)
    void aPlaintextClientFailsWithinItsDeadlineAndIsToldToUseTheCa() {
        Security security = Security.plaintext().withToken(cluster.token(TestCluster.WRITE_TOKEN));
        long start = System.nanoTime();
        HeapException e = assertThrows(HeapException.class,
                () -> HeapClient.connect(cluster.endpoints(), security).close());
        Duration waited = Duration.ofNanos(System.nanoTime() - start);
        System.out.println("[security] plaintext client failed after " + waited.toMillis() + " ms: " + e.getMessage());
        assertTrue(waited.compareTo(CONNECT_BOUND) < 0, "waited " + waited);
        assertTrue(e.getMessage().contains("plaintext"), e.getMessage());
        assertTrue(e.getMessage().contains("Security.fromDirectory"), e.getMessage());
    }

    /**
     * Proves that the client checks the nodes' certificates: trusting another CA (one that did not
     * issue them), it refuses the nodes and fails at once, saying why, even with a valid token.
     */
    @Test
    @Timeout(120)
    void aClientTrustingAnotherCaRefusesTheNodes() throws Exception {
        Path otherCa = Files.createTempDirectory(TestCluster.workDir(), "other-ca-");
        TestCluster.heapctl("cert", "ca", "--dir", otherCa.toString());
        Security security = Security.plaintext().withCaFile(otherCa.resolve(Security.CA_FILE))
                .withToken(cluster.token(TestCluster.WRITE_TOKEN));
        long start = System.nanoTime();
        // A refused certificate is a configuration error, reported at once (no retry can fix it).
        HeapRejectedException e = assertThrows(HeapRejectedException.class,
                () -> HeapClient.connect(cluster.endpoints(), security).close());
        Duration waited = Duration.ofNanos(System.nanoTime() - start);
        System.out.println("[security] other CA failed after " + waited.toMillis() + " ms: " + e.getMessage());
        assertTrue(waited.compareTo(CONNECT_BOUND) < 0, "waited " + waited);
        assertTrue(e.getMessage().contains("certificate"), e.getMessage());
        assertTrue(e.getMessage().contains("CA you gave"), e.getMessage());
    }

    /**
     * Proves that roles are enforced: a read-role token reads what a writer wrote, and its own write
     * is refused with the cluster's permission message (which names the role needed).
     */
    @Test
    @Timeout(120)
    void aReadTokenReadsButItsWriteIsRefused() {
        Security writerSecurity = withCa().withToken(cluster.token(TestCluster.WRITE_TOKEN));
        try (HeapClient writer = HeapClient.connect(cluster.endpoints(), writerSecurity)) {
            writer.root("security-read").set("count", 7L);
        }
        Security readerSecurity = withCa().withToken(cluster.token(TestCluster.READ_TOKEN));
        try (HeapClient reader = HeapClient.connect(cluster.endpoints(), readerSecurity)) {
            HeapObject root = reader.root("security-read");
            assertEquals(7L, root.getLong("count"));
            HeapRejectedException e = assertThrows(HeapRejectedException.class, () -> root.set("count", 8L));
            System.out.println("[security] read token writing: " + e.getMessage());
            assertTrue(e.getMessage().contains("role"), e.getMessage());
            assertTrue(e.getMessage().contains("write"), e.getMessage());
            assertEquals(7L, root.getLong("count"));
        }
    }
}
