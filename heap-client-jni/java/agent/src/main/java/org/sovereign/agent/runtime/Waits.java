package org.sovereign.agent.runtime;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapRejectedException;

/**
 * {@code Object.wait()} on a shared object. The waiting thread holds the object's cluster lock and
 * its JVM monitor; both must be released while it waits, or a notifier in this JVM could never enter
 * {@code synchronized}. Only {@code Object.wait()} releases a JVM monitor, so the waiting thread sits
 * in it while a helper thread makes the cluster wait on its behalf
 * ({@link HeapClient#awaitFor}: commit, release, wait, re-grant). When that returns (the lock is the
 * waiter's again), the helper wakes the waiter through the JVM monitor. Locks are always taken
 * cluster first, JVM monitor second, here too, so this cannot deadlock with a local notifier.
 */
final class Waits {
    /** Most threads of one JVM waiting on shared objects at once (each occupies a helper thread). */
    static final int WAITING_THREADS_MAX = 1024;
    /** How long an idle helper thread stays for the next wait. */
    static final long HELPER_IDLE_SECONDS = 30;

    /** How a wait ended: notified (false: timed out), and whether the waiter was interrupted meanwhile. */
    record Outcome(boolean signalled, boolean interrupted) {}

    /** The helper's result, guarded by the waited-on object's JVM monitor. */
    private static final class Ticket {
        boolean done;
        boolean signalled;
        Throwable failure;
    }

    private final ThreadPoolExecutor helpers;

    Waits() {
        AtomicLong count = new AtomicLong();
        helpers = new ThreadPoolExecutor(0, WAITING_THREADS_MAX, HELPER_IDLE_SECONDS, TimeUnit.SECONDS,
                new SynchronousQueue<>(), task -> {
                    Thread thread = new Thread(task, "sovereign-wait-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
    }

    /**
     * Waits on the condition of cluster lock {@code lockName}, called by a thread holding it and the
     * JVM monitor of {@code monitor}; returns holding both again. {@code timeoutMs} -1 waits without
     * timeout. An interrupt does not end the wait early (the cluster wait cannot be withdrawn); it is
     * reported in the outcome, for the caller to throw once the locks are back.
     */
    Outcome await(Object monitor, HeapClient client, String lockName, long timeoutMs) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Ticket ticket = new Ticket();
        long waiter = Thread.currentThread().getId();
        try {
            helpers.execute(() -> help(monitor, ticket, client, waiter, lockName, timeoutMs));
        } catch (RejectedExecutionException e) {
            throw new HeapRejectedException("more than " + WAITING_THREADS_MAX + " threads of this JVM wait on shared "
                    + "objects at once; wake some, or have fewer threads wait");
        }
        boolean interrupted = false;
        // The monitor is held here, and the helper needs it to set `done`: no wake-up is lost.
        while (!ticket.done) {
            try {
                monitor.wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (ticket.failure instanceof RuntimeException) {
            throw (RuntimeException) ticket.failure;
        }
        if (ticket.failure instanceof Error) {
            throw (Error) ticket.failure;
        }
        return new Outcome(ticket.signalled, interrupted);
    }

    private static void help(Object monitor, Ticket ticket, HeapClient client, long waiter, String lockName,
            long timeoutMs) {
        boolean signalled = false;
        Throwable failure = null;
        try {
            signalled = client.awaitFor(waiter, lockName, timeoutMs);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        synchronized (monitor) {
            ticket.signalled = signalled;
            ticket.failure = failure;
            ticket.done = true;
            monitor.notifyAll();
        }
    }

    void close() {
        helpers.shutdownNow();
    }
}
