package org.sovereign.heap;

/**
 * Thrown when a value or object is not of the type asked for: a root bound to another kind, a value type the heap cannot hold, a field read with the getter of another type.
 */
public class HeapTypeException extends HeapException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that says what to do. */
    public HeapTypeException(String message) {
        super(message);
    }
}
