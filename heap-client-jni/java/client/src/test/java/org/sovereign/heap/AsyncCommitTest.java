package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The asynchronous commit level from Java: a lock set to it returns from {@code unlock()} before its
 * changes are committed, yet this client's next critical section reads them, and another client
 * that takes the lock next sees every one of them, in order.
 */
@Timeout(120)
class AsyncCommitTest extends TwoClientTest {
    private static final int SECTIONS = 1_000;

    @Test
    void queuedSectionsAreSeenLocallyAndByTheNextHolder() {
        writer.setAsyncCommit("async-counter-lock", true);
        HeapObject counter = writer.root("async-counter");
        Lock lock = writer.lock("async-counter-lock");
        for (int i = 0; i < SECTIONS; i++) {
            lock.lock();
            try {
                counter.set("n", counter.getLong("n") + 1);
            } finally {
                lock.unlock();
            }
        }
        Lock theirs = reader.lock("async-counter-lock");
        theirs.lock();
        try {
            assertEquals(SECTIONS, reader.root("async-counter").getLong("n"), "the next holder sees every section");
        } finally {
            theirs.unlock();
        }
        writer.setAsyncCommit("async-counter-lock", false);
    }
}
