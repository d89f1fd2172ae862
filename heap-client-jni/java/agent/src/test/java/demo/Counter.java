package demo;

/**
 * The shared counter of the agent's multi-JVM tests, plain Java with no Sovereign import: with the
 * agent and {@code roots = ["demo.Counter.ROOT"]}, {@code ROOT} is one object for every JVM,
 * {@code synchronized} takes its cluster lock and {@code wait/notifyAll} work across JVMs.
 */
public class Counter {
    static Counter ROOT = new Counter();

    long count;
    /** Set only by the non-portable test: a Thread cannot be shared. */
    Thread worker;
    /** Local to each JVM: a JVM that loads the counter from the cluster sees null here. */
    transient String origin = "constructed in pid " + ProcessHandle.current().pid();

    synchronized void inc() {
        count++;
        notifyAll();
    }

    synchronized long awaitAtLeast(long n) throws InterruptedException {
        while (count < n) {
            wait();
        }
        return count;
    }

    synchronized void setWorker(Thread worker) {
        this.worker = worker;
    }

    synchronized long read() {
        return count;
    }
}
