package org.sovereign.rap.it;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Several {@link TomcatProcess}es with the demo, each its own CATALINA_BASE and port, started in
 * parallel (each start is mostly waiting for its JVM and RAP to come up) and closed together. If one
 * fails to start, the others are stopped before the error is thrown, so no Tomcat outlives the test.
 */
final class TomcatGroup implements AutoCloseable {
    /** More Tomcats than a failover test needs is a mistake in the test (and would starve the machine). */
    static final int TOMCATS_MAX = 4;

    private final List<TomcatProcess> tomcats;

    private TomcatGroup(List<TomcatProcess> tomcats) {
        this.tomcats = List.copyOf(tomcats);
    }

    /** Starts one Tomcat per entry of {@code settings} and waits until all serve the demo. */
    static TomcatGroup start(Path workDir, List<TomcatSettings> settings) throws Exception {
        if (settings.isEmpty() || settings.size() > TOMCATS_MAX) {
            throw new IllegalArgumentException("start 1 to " + TOMCATS_MAX + " Tomcats, not " + settings.size());
        }
        ExecutorService starter = Executors.newFixedThreadPool(settings.size());
        List<Future<TomcatProcess>> starts = new ArrayList<>();
        try {
            for (TomcatSettings one : settings) {
                starts.add(starter.submit(() -> TomcatProcess.start(workDir, one)));
            }
            List<TomcatProcess> started = new ArrayList<>();
            Throwable failure = null;
            for (Future<TomcatProcess> start : starts) {
                try {
                    started.add(start.get());
                } catch (ExecutionException e) {
                    failure = failure == null ? e.getCause() : failure;
                }
            }
            if (failure != null) {
                new TomcatGroup(started).close();
                throw new AssertionError("a Tomcat did not start: " + failure.getMessage(), failure);
            }
            return new TomcatGroup(started);
        } finally {
            starter.shutdown();
        }
    }

    /** The {@code index}th Tomcat, in the order of the settings it was started with. */
    TomcatProcess get(int index) {
        return tomcats.get(index);
    }

    int size() {
        return tomcats.size();
    }

    /** SIGKILLs every Tomcat (closing one already killed is harmless). */
    @Override
    public void close() {
        for (TomcatProcess tomcat : tomcats) {
            tomcat.close();
        }
    }
}
