package org.sovereign.heap;

/**
 * Thrown when the cluster refused the request (an index out of range, a dangling reference, a limit such as an object's size or a name's length); fix the request, retrying does not help.
 * Also thrown for the client's own security settings ({@link Security}: a missing or invalid CA or
 * token file, an unusable token) and when a secured cluster refuses the caller (a token it does not
 * know, a role that does not allow the operation): the message says what to fix.
 */
public class HeapRejectedException extends HeapException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that says what to do. */
    public HeapRejectedException(String message) {
        super(message);
    }
}
