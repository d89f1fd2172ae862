package org.sovereign.agent.runtime;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps the shared containers of this JVM and the heap in step at the two moments that matter:
 * when a thread takes a lock ({@link #refresh}: the owner's fields and, if any of the group's
 * containers changed since this JVM last synced them, those containers) and just before a commit
 * ({@link #flush}: the thread's buffered field writes, then every container the thread changed,
 * every array of the groups whose write locks it holds, and any container of those groups whose
 * size changed around its guard, compared with the heap and their differences recorded as the
 * transaction's logical operations).
 */
final class ContainerSync {
    private final Graph graph;

    ContainerSync(Graph graph) {
        this.graph = graph;
    }

    /** After the lock of {@code group} is granted (or a wait on it returned). */
    void refresh(LockGroup group) {
        Object owner = group.owner();
        SharedState ownerState = Shareable.stateOf(owner);
        if (ownerState != null && ownerState.meta != null) {
            graph.refresh(owner, ownerState);
        }
        if (group.external) {
            for (Object member : group.members()) {
                graph.refresh(member, Shareable.stateOf(member));
            }
        }
        if (!group.hasContainers()) {
            return; // one loaded later is read whole then
        }
        long heapVersion = group.ownerHeap.getLong(ContainerKeys.GROUP);
        if (heapVersion == group.version()) {
            return;
        }
        List<ContainerState> containers = group.containers();
        // Outside the group's monitor: a thread loading one of them may need the monitor to finish.
        for (ContainerState container : containers) {
            container.shared.awaitFilled();
        }
        synchronized (group) {
            LoadBatch batch = graph.refreshBatch();
            for (ContainerState container : containers) {
                container.refresh(new ContainerIo(graph, null, group, container.loader, null, batch));
            }
            group.version(heapVersion);
        }
    }

    /**
     * Before the thread's commit (an outermost release, or a wait): its buffered field writes, then
     * its containers' changes, as heap operations of the commit.
     */
    void flush(ThreadTransaction transaction) {
        graph.sendWrites(transaction);
        Set<ContainerState> candidates = new LinkedHashSet<>(transaction.changed());
        for (LockGroup group : transaction.writeGroups()) {
            for (ContainerState container : group.containers()) {
                if (container.isArray() || container.sizeChanged()) {
                    candidates.add(container);
                }
            }
        }
        Set<LockGroup> changed = new LinkedHashSet<>();
        try {
            for (ContainerState container : candidates) {
                LockGroup group = container.shared.group;
                synchronized (group) {
                    if (container.flush(new ContainerIo(graph, transaction, group, container.loader, null, null))) {
                        changed.add(group);
                        transaction.flushed(container);
                    }
                }
            }
        } finally {
            // Also when a later container failed: what was recorded commits, and other JVMs must look.
            for (LockGroup group : changed) {
                group.bump();
            }
        }
        transaction.clearChanged();
    }

    /** After a commit that did not reach the heap (or may not have): the containers take the heap's contents back. */
    void reloadAfterFailure(Iterable<ContainerState> containers, List<RuntimeException> failures) {
        for (ContainerState container : containers) {
            LockGroup group = container.shared.group;
            try {
                synchronized (group) {
                    container.reloadAfterFailure(new ContainerIo(graph, null, group, container.loader, null,
                            graph.refreshBatch()));
                    group.version(-1);
                }
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
    }
}
