package org.sovereign.agent.runtime;

/**
 * The entries of a shared container's holder (a fields object of class {@link #CLASS} = the Java
 * class, e.g. {@code java.util.ArrayList} or {@code [I}) and the one entry the agent adds to the
 * heap object of a lock's owner. The contents live in a separate heap list or map ({@link #DATA}),
 * changed by logical operations (push, insert, put, remove); the holder carries what another JVM
 * needs to catch up with those operations without reading everything again. Every name starts with
 * '$', which shared field names may not (see {@link ClassMeta}).
 */
final class ContainerKeys {
    /** The Java class of the container (shared with instrumented objects' holders). */
    static final String CLASS = ClassMeta.CLASS_KEY;
    /** The heap object of the lock owner (an instrumented object); absent: the container is its own owner (a root). */
    static final String OWNER = "$owner";
    /** Bumped by every commit that changes the container: a JVM whose copy has this version needs nothing. */
    static final String VERSION = "$version";
    /** The heap list (lists, deques, Object[]) or map (maps, sets) holding the contents. */
    static final String DATA = "$data";
    /** Linked maps and sets: a map from each key to its insertion sequence number, which orders them. */
    static final String ORDER = "$order";
    /** Linked maps and sets: the next insertion sequence number. */
    static final String NEXT_SEQUENCE = "$nextSequence";
    /** Arrays: the length. */
    static final String LENGTH = "$length";
    /** Primitive arrays: the elements as bytes (big-endian), rewritten whole by a commit that changes any. */
    static final String BYTES = "$bytes";
    /** Sequences: how many elements were ever appended at the tail. */
    static final String APPENDED = "$appended";
    /** Sequences: how many elements were ever removed at the head. */
    static final String REMOVED_HEAD = "$removedHead";
    /** Sequences: the version of the last change that was not a tail append or head removal. */
    static final String BASE = "$base";
    /** Maps, sets, Object[]: the keys (indices) the last commits changed, with their versions ({@link Journal}). */
    static final String JOURNAL = "$journal";
    /** Maps, sets, Object[]: the journal lists every change after this version. */
    static final String JOURNAL_FROM = "$journalFrom";
    /**
     * On the lock owner's heap object: bumped by every commit that changes any container the lock
     * guards, so taking the lock costs one read when none changed.
     */
    static final String GROUP = "$group";
    /**
     * On the owner's heap object of an external group ({@link LockedGraphs}): 1 when the group's lock
     * is one another component takes (a Tomcat session's), so no JVM takes it as an object's lock.
     */
    static final String EXTERNAL = "$external";

    private ContainerKeys() {}

    /** Whether a Java field name collides with an entry the agent writes. */
    static boolean isReserved(String name) {
        return name.equals(CLASS) || name.equals(GROUP);
    }
}
