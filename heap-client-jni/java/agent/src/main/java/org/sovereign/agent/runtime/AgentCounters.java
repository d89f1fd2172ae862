package org.sovereign.agent.runtime;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the agent's runtime in this JVM has cost so far, for tests and measurements (the JMH
 * benchmarks and the multi-JVM tests report round trips with it): read requests sent to the
 * cluster, heap objects with a live Java instance here, and the batches buffered field writes
 * crossed into native code in. Without an agent (no runtime installed) every count is 0.
 */
public final class AgentCounters {
    private static final AtomicLong WRITE_BATCHES = new AtomicLong();
    private static final AtomicLong FIELD_WRITES_SENT = new AtomicLong();

    private AgentCounters() {}

    /** A thread's buffered field writes went to the native client: {@code fields} of them, in one call. */
    static void writeBatchSent(int fields) {
        WRITE_BATCHES.incrementAndGet();
        FIELD_WRITES_SENT.addAndGet(fields);
    }

    /** How many times this JVM sent buffered field writes to the native client (about one per commit that wrote fields). */
    public static long writeBatches() {
        return WRITE_BATCHES.get();
    }

    /** How many field writes those batches carried (each field once per batch, however often it was written). */
    public static long fieldWritesSent() {
        return FIELD_WRITES_SENT.get();
    }

    /**
     * Read requests this JVM's heap client has sent to the cluster so far (every round trip of a
     * load, a refresh or a root lookup; reads answered from the client's cache cost none). Connects
     * the client if nothing has yet.
     */
    public static long readRequests() {
        AgentRuntime runtime = Hooks.installed();
        return runtime == null ? 0 : runtime.client().readRequests();
    }

    /** Heap objects (objects, collections, arrays) with a live Java instance in this JVM. */
    public static int loadedObjects() {
        AgentRuntime runtime = Hooks.installed();
        return runtime == null ? 0 : runtime.graph.instances();
    }
}
