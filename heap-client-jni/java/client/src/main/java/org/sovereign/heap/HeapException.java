package org.sovereign.heap;

/**
 * The base of every exception the heap client throws. It is unchecked, like the exceptions of
 * {@code java.util.concurrent}; its subclasses say what went wrong and their messages say what to do:
 * {@link HeapClosedException}, {@link HeapUnavailableException} (of which
 * {@link HeapSessionEndedException} is one), {@link HeapConflictException},
 * {@link HeapRejectedException} and {@link HeapTypeException}; the Sovereign agent adds
 * {@link UnlockedSharedObjectException} and {@link NonPortableObjectException}. A {@code HeapException} itself means
 * an internal error (a bug in the client; the message asks to report it). Releasing, waiting on or
 * signalling a cluster lock the thread does not hold throws {@link IllegalMonitorStateException}
 * instead, as {@code java.util.concurrent.locks} does.
 */
public class HeapException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that says what to do. */
    public HeapException(String message) {
        super(message);
    }

    /** Creates the exception with a message and the failure that caused it. */
    public HeapException(String message, Throwable cause) {
        super(message, cause);
    }
}
