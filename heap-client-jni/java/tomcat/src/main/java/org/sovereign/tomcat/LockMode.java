package org.sovereign.tomcat;

/**
 * How {@link SessionLockValve} guards one request's session: the session's cluster lock for writing
 * (the default: one request at a time per session, cluster-wide, changes saved at the end), for
 * reading (requests that only read run side by side and never queue behind each other), or none.
 */
public enum LockMode {
    /** The session's cluster write lock for the whole request; its changes commit at the end, atomically. */
    WRITE,
    /** The session's cluster read lock: many such requests at once; attribute changes are not saved. */
    READ,
    /** No lock and nothing saved: static resources that never touch the session. */
    NONE
}
