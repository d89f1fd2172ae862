package org.sovereign.heap;

/**
 * Thrown when the cluster could not be reached or did not answer in time (after the client's bounded retries); the message names the endpoints it tried. Retry later or check that the nodes run.
 */
public class HeapUnavailableException extends HeapException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that says what to do. */
    public HeapUnavailableException(String message) {
        super(message);
    }
}
