package org.sovereign.rap;

import org.sovereign.heap.HeapException;

/**
 * What the RAP recording library throws: a UI session it cannot record, replay or restore. The
 * message names the UI session (its cid) and the request, and says what to do. Part of the heap
 * client's one unchecked hierarchy, so a caller that handles {@link HeapException} handles these.
 */
public class RapException extends HeapException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that says what to do. */
    public RapException(String message) {
        super(message);
    }

    /** Creates the exception with a message and the failure that caused it. */
    public RapException(String message, Throwable cause) {
        super(message, cause);
    }
}
