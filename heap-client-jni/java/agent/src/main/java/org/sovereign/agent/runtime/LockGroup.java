package org.sovereign.agent.runtime;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.sovereign.heap.HeapObject;

/**
 * Everything one cluster lock guards in this JVM: its owner (an instrumented object, or a root
 * collection that is its own owner) and the shared containers reachable from the owner only
 * through containers. A collection in a field of a shared object is written under that object's
 * lock, as DSO's users wrote {@code log.add(who)} inside the owner's synchronized method; so
 * taking the lock refreshes the owner and its containers together, and its release commits them
 * together. The monitor of this object serializes refreshes and commits of the group's containers
 * among the threads of this JVM (readers of a read lock refresh concurrently).
 */
final class LockGroup {
    private static final WeakReference<Object> NO_OWNER = new WeakReference<>(null);

    final String lockName;
    /** The owner's heap object: where {@link ContainerKeys#GROUP} lives. */
    final HeapObject ownerHeap;
    /**
     * Whether another component takes the lock ({@link LockedGraphs}): the owner is a heap object
     * with no Java instance (a Tomcat session), every object of the graph is a member, and a thread
     * may touch them only while that component says it holds the lock.
     */
    final boolean external;
    private volatile WeakReference<Object> owner = NO_OWNER;
    /** Instrumented objects of an external group loaded or shared in this JVM (guarded by this). */
    private final List<WeakReference<Object>> members = new ArrayList<>();
    /** The group's containers loaded or shared in this JVM (guarded by this). */
    private final List<WeakReference<ContainerState>> containers = new ArrayList<>();
    /** {@link ContainerKeys#GROUP} as the containers here were last synced with; -1: unknown (guarded by this). */
    private long version;

    LockGroup(String lockName, HeapObject ownerHeap, long version) {
        this(lockName, ownerHeap, version, false);
    }

    LockGroup(String lockName, HeapObject ownerHeap, long version, boolean external) {
        this.lockName = lockName;
        this.ownerHeap = ownerHeap;
        this.version = version;
        this.external = external;
    }

    /** Records the owner's Java instance in this JVM. */
    void owner(Object instance) {
        owner = new WeakReference<>(instance);
    }

    /** The owner's Java instance in this JVM, or null when it is not loaded here. */
    Object owner() {
        return owner.get();
    }

    /** Adds an instrumented object of an external group (refreshed with the group). */
    synchronized void member(Object instance) {
        members.add(new WeakReference<>(instance));
    }

    /** The group's live member objects here (dropping the collected ones). */
    synchronized List<Object> members() {
        return live(members);
    }

    /** Adds a container; one loaded outside the lock ({@code synced} false) is checked at the next refresh. */
    synchronized void add(ContainerState container, boolean synced) {
        containers.add(new WeakReference<>(container));
        if (!synced) {
            version = -1;
        }
    }

    /** The group's live containers here (dropping the collected ones). */
    synchronized List<ContainerState> containers() {
        return live(containers);
    }

    /** The referents of {@code references} still alive, in order; the collected ones are removed. */
    private static <T> List<T> live(List<WeakReference<T>> references) {
        List<T> live = new ArrayList<>(references.size());
        for (Iterator<WeakReference<T>> i = references.iterator(); i.hasNext(); ) {
            T referent = i.next().get();
            if (referent == null) {
                i.remove();
            } else {
                live.add(referent);
            }
        }
        return live;
    }

    synchronized long version() {
        return version;
    }

    synchronized void version(long synced) {
        version = synced;
    }

    /**
     * After a commit that changed containers of the group: the next {@link ContainerKeys#GROUP},
     * written by the caller's transaction. Counted from the heap's value (read under the lock the
     * caller holds), never from this JVM's, which may be behind for a group it skipped refreshing.
     */
    synchronized void bump() {
        version = ownerHeap.getLong(ContainerKeys.GROUP) + 1;
        ownerHeap.set(ContainerKeys.GROUP, version);
    }

    /** Whether this JVM has any container of the group (else a refresh has none to check). */
    synchronized boolean hasContainers() {
        return !containers().isEmpty();
    }

    /** "demo.Counter.ROOT (a demo.Counter, heap object 12)", or the heap id when the owner is not loaded here. */
    String describeOwner() {
        Object instance = owner();
        SharedState state = Shareable.stateOf(instance);
        return state != null ? state.describe() : "heap object " + (ownerHeap == null ? -1 : ownerHeap.id());
    }
}
