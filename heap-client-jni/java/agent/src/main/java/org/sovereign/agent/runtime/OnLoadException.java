package org.sovereign.agent.runtime;

import org.sovereign.heap.HeapException;

/**
 * An object's on-load method threw after the object was loaded from the heap into this JVM. Thrown
 * by the access that loaded it (a root read, the {@code synchronized} entry or the {@code wait} whose
 * refresh brought it in), with the method's exception as the cause; the message names the object,
 * the method, and what to do.
 */
public final class OnLoadException extends HeapException {
    private static final long serialVersionUID = 1L;

    OnLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
