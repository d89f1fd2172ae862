package org.sovereign.heap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The base of the test classes that compare what one client writes with what a second one reads:
 * a {@link ClusterTest} with a writer and a reader connected for the class (after the cluster has
 * started, closed before it stops).
 */
abstract class TwoClientTest extends ClusterTest {
    static HeapClient writer;
    static HeapClient reader;

    @BeforeAll
    static void connectClients() {
        writer = HeapClient.connect(cluster.endpoints());
        reader = HeapClient.connect(cluster.endpoints());
    }

    @AfterAll
    static void closeClients() {
        writer.close();
        reader.close();
    }
}
