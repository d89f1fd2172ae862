package org.sovereign.heap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The base of the test classes that need a cluster: a fresh three-node {@link TestCluster} started
 * before the class's tests and killed after them (JUnit runs a superclass's {@code @BeforeAll}
 * first and its {@code @AfterAll} last, so subclasses may connect clients in their own).
 */
abstract class ClusterTest {
    static TestCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.start();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        cluster.close();
    }
}
