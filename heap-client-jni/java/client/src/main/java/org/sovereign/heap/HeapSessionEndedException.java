package org.sovereign.heap;

/**
 * Thrown when the cluster has ended this client's session: its lease ran out (the process stalled or
 * was cut off longer than its session lease), so its cluster locks went to others, its uncommitted
 * changes were refused and what only it held may be collected. Every later call of this client fails
 * the same way: close it and connect a new {@link HeapClient}. A kind of
 * {@link HeapUnavailableException}, so code that retries later on that still handles it.
 */
public class HeapSessionEndedException extends HeapUnavailableException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with the cluster's message. */
    public HeapSessionEndedException(String message) {
        super(message);
    }
}
