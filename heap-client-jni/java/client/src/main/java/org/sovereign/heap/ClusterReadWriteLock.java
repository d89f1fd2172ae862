package org.sovereign.heap;

import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;

/**
 * A named cluster lock as a {@link ReadWriteLock}: the read lock is shared, the write lock
 * exclusive, both over the same cluster lock name (see {@link HeapClient#readWriteLock}).
 */
final class ClusterReadWriteLock implements ReadWriteLock {
    private final ClusterLock read;
    private final ClusterLock write;

    ClusterReadWriteLock(HeapClient client, String name) {
        this.read = new ClusterLock(client, name, true);
        this.write = new ClusterLock(client, name, false);
    }

    @Override
    public Lock readLock() {
        return read;
    }

    @Override
    public Lock writeLock() {
        return write;
    }
}
