package demo;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * The shared counter of issue 10, plain Java with no Sovereign import: with the agent and
 * {@code roots = ["demo.Counter.ROOT"]}, {@code ROOT} is one object for every JVM, its {@code log}
 * one shared list written under the counter's lock, {@code synchronized} takes the cluster lock and
 * {@code wait/notifyAll} work across JVMs. {@code inc} and {@code awaitAtLeast} are the issue's, plus
 * one test hook ({@link CrashPoint}) between the two writes of {@code inc}, idle unless a test asks.
 */
public class Counter {
    static Counter ROOT = new Counter();

    long count;
    List<String> log = new ArrayList<>();
    /** Set only by the non-portable test: a Thread cannot be shared. */
    Thread worker;
    /** Local to each JVM: a JVM that loads the counter from the cluster sees null here. */
    transient String origin = "constructed in pid " + ProcessHandle.current().pid();

    synchronized void inc(String who) {
        count++;
        CrashPoint.reached(count);
        log.add(who);
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

    /** "count C log L distinct D": the count, the log's length and how many different entries it has, read under the lock. */
    synchronized String summary() {
        return "count " + count + " log " + log.size() + " distinct " + new HashSet<>(log).size();
    }

    /** Whether the log has {@code entry}, read under the lock. */
    synchronized boolean logged(String entry) {
        return log.contains(entry);
    }
}
