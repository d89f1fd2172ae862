package board;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sovereign.annotations.AutolockRead;
import org.sovereign.annotations.Root;

/**
 * Sample: a job board shared by several JVMs through the Sovereign agent, in plain Java (its only
 * Sovereign imports are two annotations, which a JVM without the agent ignores). Producers submit tasks to a queue; consumers, in any JVM, wait for a task
 * ({@code wait()}), post its result to a topic and record it as done ({@code notifyAll()}). The
 * board's collections are the board's: they are changed inside its synchronized methods, so its
 * cluster lock guards them. {@code ROOT} is a root by {@code @Root} (the same as
 * {@code roots = ["board.Board.ROOT"]} in app.toml), so every JVM has the same board.
 */
public class Board {
    @Root
    static Board ROOT = new Board();

    /** Topics by name: a map of shared objects, each with a list of its own (guarded by the topic's lock). */
    Map<String, Topic> topics = new HashMap<>();
    /** The queue between producers and consumers. */
    ArrayDeque<Task> pending = new ArrayDeque<>();
    /** "task-id by worker", in the order tasks were finished. */
    List<String> done = new ArrayList<>();
    /** Finished tasks per worker. */
    Map<String, Long> perWorker = new TreeMap<>();
    long submitted;
    long taken;

    /** The topic {@code name}, created the first time it is asked for. */
    synchronized Topic topic(String name) {
        return topics.computeIfAbsent(name, Topic::new);
    }

    synchronized void submit(Task task) {
        pending.addLast(task);
        submitted++;
        notifyAll();
    }

    /** The next task, waiting for one; null once {@code total} tasks were taken (by any JVM). */
    synchronized Task take(long total) throws InterruptedException {
        while (pending.isEmpty() && taken < total) {
            wait();
        }
        if (taken >= total) {
            return null;
        }
        taken++;
        if (taken == total) {
            notifyAll(); // the other consumers stop waiting
        }
        return pending.pollFirst();
    }

    synchronized void finish(Task task, String worker) {
        done.add(task.id + " by " + worker);
        perWorker.merge(worker, 1L, Long::sum);
    }

    /** Waits until {@code total} tasks are done. */
    synchronized void awaitDone(long total) throws InterruptedException {
        while (done.size() < total) {
            wait(1_000); // finish() does not notify: a poll a second is enough for a report
        }
    }

    /**
     * The counts, and whether they agree: every task taken once and done once, every result posted
     * once. It only reads, so it takes the board's cluster read lock ({@code @AutolockRead}).
     */
    @AutolockRead
    synchronized String report() {
        long posts = 0;
        for (Topic topic : topics.values()) {
            posts += topic.size();
        }
        long distinct = done.stream().map(entry -> entry.substring(0, entry.indexOf(' '))).distinct().count();
        boolean consistent = submitted == taken && taken == done.size() && distinct == done.size() && posts == done.size()
                && pending.isEmpty();
        return "submitted " + submitted + ", taken " + taken + ", done " + done.size() + " (" + distinct + " distinct), "
                + "posts " + posts + " in " + new TreeMap<>(sizes()) + ", per worker " + perWorker + ": "
                + (consistent ? "consistent" : "INCONSISTENT");
    }

    private Map<String, Integer> sizes() {
        Map<String, Integer> sizes = new HashMap<>();
        topics.forEach((name, topic) -> sizes.put(name, topic.size()));
        return sizes;
    }
}
