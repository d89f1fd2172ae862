package org.sovereign.heap;

/**
 * Thrown by the Sovereign agent when a value that cannot live in the shared heap (a {@code Thread}, a
 * socket, a stream, a class loader, a {@code ThreadLocal}, an instance of a class that is not
 * instrumented, ...) would become reachable from a root. The message names the path from the root
 * ({@code demo.Counter.ROOT.t}) and says what to do: mark the field {@code transient} (or list it
 * under {@code transient} in the agent config), or instrument the value's class. Nothing of the
 * value is shared and the field keeps its old value.
 */
public class NonPortableObjectException extends HeapException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that names the path from the root and says what to do. */
    public NonPortableObjectException(String message) {
        super(message);
    }
}
