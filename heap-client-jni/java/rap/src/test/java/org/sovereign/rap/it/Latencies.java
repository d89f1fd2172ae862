package org.sovereign.rap.it;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Latency samples of one benchmark measurement and their nearest-rank percentiles, in ms. With 20
 * samples p99 is the largest one: the tables say how many samples each row has so a reader can tell.
 * Thread-safe, so parallel UI sessions can add to one.
 */
final class Latencies {
    private final List<Long> samplesNs = new ArrayList<>();

    synchronized void add(long ns) {
        if (ns < 0) {
            throw new IllegalArgumentException("a latency cannot be negative: " + ns + " ns");
        }
        samplesNs.add(ns);
    }

    synchronized void addAll(Latencies other) {
        samplesNs.addAll(other.samplesNs);
    }

    synchronized int count() {
        return samplesNs.size();
    }

    /** The nearest-rank {@code percent}th percentile in ms (p50: 50). */
    synchronized double percentileMs(double percent) {
        if (samplesNs.isEmpty()) {
            throw new IllegalStateException("no samples: the measurement did not run");
        }
        List<Long> sorted = new ArrayList<>(samplesNs);
        Collections.sort(sorted);
        int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1)) / 1e6;
    }

    double maxMs() {
        return percentileMs(100);
    }

    /** "p50 / p99 / max" in ms, for a table cell. */
    String summary() {
        return String.format("%s / %s / %s", ms(percentileMs(50)), ms(percentileMs(99)), ms(maxMs()));
    }

    /** A duration in ms with a precision that suits its size. */
    static String ms(double ms) {
        return ms >= 100 ? String.format("%.0f ms", ms) : String.format("%.1f ms", ms);
    }
}
