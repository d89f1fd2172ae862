package org.sovereign.heap;

/**
 * Thrown when someone else changed the data first (a version conflict or a stale fencing token); redo the work under the lock.
 */
public class HeapConflictException extends HeapException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that says what to do. */
    public HeapConflictException(String message) {
        super(message);
    }
}
