package org.sovereign.heap;

/**
 * Thrown by the Sovereign agent when a thread writes a field of a shared object (one reachable from a
 * root) without holding that object's cluster lock: the write would never commit atomically nor reach
 * other JVMs. The message names the object, the field and the thread; the fix is to write inside
 * {@code synchronized (object) { ... }} or a synchronized method of the object. The field keeps its
 * old value.
 */
public class UnlockedSharedObjectException extends HeapException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that names the object and field and says what to do. */
    public UnlockedSharedObjectException(String message) {
        super(message);
    }
}
