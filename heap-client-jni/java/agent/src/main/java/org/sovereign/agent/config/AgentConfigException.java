package org.sovereign.agent.config;

import org.sovereign.heap.HeapException;

/**
 * A bad agent config or agent argument: the message names the file and line (or the argument) and
 * says what to write instead. Thrown from {@code premain}, so the JVM stops before the application
 * starts rather than running it unclustered.
 */
public class AgentConfigException extends HeapException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message that says where the problem is and what to write. */
    public AgentConfigException(String message) {
        super(message);
    }
}
