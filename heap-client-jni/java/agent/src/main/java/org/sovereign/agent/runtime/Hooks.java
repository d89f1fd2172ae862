package org.sovereign.agent.runtime;

import org.sovereign.heap.HeapException;

/**
 * The static methods rewritten application code calls (the transformer's only entry points into the
 * runtime; their names and descriptors are its contract). Each one first checks whether the object
 * is shared; an unshared object behaves exactly as without the agent, and so does everything when no
 * runtime is installed (transformer tests, or classes rewritten before {@link #install}).
 */
public final class Hooks {
    /** The longest {@code wait(ms)} the cluster accepts (heap-machine's LOCK_TIMEOUT_MS_MAX); longer waits have none. */
    static final long WAIT_TIMEOUT_MS_MAX = 24L * 60 * 60 * 1000;

    private static volatile AgentRuntime runtime;

    private Hooks() {}

    /** Makes {@code installed} the runtime of this JVM (once, from the agent's premain). */
    public static void install(AgentRuntime installed) {
        if (runtime != null) {
            throw new HeapException("the Sovereign agent was started twice in this JVM; pass -javaagent once");
        }
        runtime = installed;
    }

    /** For tests: no runtime, so nothing is shared. */
    static void uninstall() {
        runtime = null;
    }

    /** The installed runtime, or null (for {@link AgentCounters}). */
    static AgentRuntime installed() {
        return runtime;
    }

    private static AgentRuntime runtime() {
        AgentRuntime installed = runtime;
        if (installed == null) {
            throw new HeapException("a shared object exists but no agent runtime is installed; please report it");
        }
        return installed;
    }

    /** Before MONITORENTER (and at the start of a synchronized method): the cluster write lock if shared. */
    public static void monitorEnter(Object object) {
        SharedState state = Shareable.stateOf(object);
        if (state != null) {
            runtime().enter(object, state, false);
        }
    }

    /** As {@link #monitorEnter}, in methods a read-level [[autolock]] names: the cluster read lock. */
    public static void monitorEnterRead(Object object) {
        SharedState state = Shareable.stateOf(object);
        if (state != null) {
            runtime().enter(object, state, true);
        }
    }

    /** Before MONITOREXIT: releases the cluster lock the matching enter took (idempotent per exit). */
    public static void monitorExit(Object object) {
        SharedState state = Shareable.stateOf(object);
        if (state != null) {
            runtime().exit(state);
        }
    }

    /**
     * Before a PUTFIELD on a shared object (the rewritten code checked the state for null): checks and
     * records it, and returns what the field must hold: {@code value}, or (for a plain java.util
     * collection) its shared copy. The rewritten code drops the result of a primitive write.
     */
    public static Object beforeWrite(Object object, Object value, String fieldKey) {
        SharedState state = Shareable.stateOf(object);
        if (state != null) {
            return runtime().beforeWrite(object, state, value, fieldKey);
        }
        return value;
    }

    /** After GETSTATIC of a root: what the read returns. */
    public static Object readRoot(Object current, Class<?> owner, String field) {
        AgentRuntime installed = runtime;
        if (installed == null || Shareable.stateOf(current) != null) {
            return current;
        }
        return installed.roots.read(current, owner, field);
    }

    /** Before PUTSTATIC of a root: what the assignment stores. */
    public static Object assignRoot(Object value, Class<?> owner, String field) {
        AgentRuntime installed = runtime;
        if (installed == null) {
            return value;
        }
        return installed.roots.assign(value, owner, field);
    }

    /** {@code object.wait()}. */
    public static void objectWait(Object object) throws InterruptedException {
        SharedState state = Shareable.stateOf(object);
        if (state == null) {
            object.wait();
        } else {
            runtime().await(object, state, -1);
        }
    }

    /** {@code object.wait(timeoutMs)}. */
    public static void objectWait(Object object, long timeoutMs) throws InterruptedException {
        SharedState state = Shareable.stateOf(object);
        if (state == null) {
            object.wait(timeoutMs);
        } else {
            if (timeoutMs < 0) {
                throw new IllegalArgumentException("timeout value is negative");
            }
            runtime().await(object, state, timeoutMs == 0 || timeoutMs > WAIT_TIMEOUT_MS_MAX ? -1 : timeoutMs);
        }
    }

    /** {@code object.wait(timeoutMs, nanos)}: the nanoseconds round up to a millisecond, as the JDK does. */
    public static void objectWait(Object object, long timeoutMs, int nanos) throws InterruptedException {
        SharedState state = Shareable.stateOf(object);
        if (state == null) {
            object.wait(timeoutMs, nanos);
        } else {
            if (nanos < 0 || nanos > 999_999) {
                throw new IllegalArgumentException("nanosecond timeout value out of range");
            }
            objectWait(object, timeoutMs + (nanos > 0 && timeoutMs < Long.MAX_VALUE ? 1 : 0));
        }
    }

    /** {@code object.notify()}. */
    public static void objectNotify(Object object) {
        SharedState state = Shareable.stateOf(object);
        if (state == null) {
            object.notify();
        } else {
            runtime().signal(state, false);
        }
    }

    /** {@code object.notifyAll()}. */
    public static void objectNotifyAll(Object object) {
        SharedState state = Shareable.stateOf(object);
        if (state == null) {
            object.notifyAll();
        } else {
            runtime().signal(state, true);
        }
    }
}
