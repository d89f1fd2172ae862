package org.sovereign.heap;

/**
 * Thrown when the client was closed: call {@link HeapClient#connect} for a new one.
 */
public class HeapClosedException extends HeapException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that says what to do. */
    public HeapClosedException(String message) {
        super(message);
    }
}
