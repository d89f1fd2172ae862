package org.sovereign.rap;

/**
 * A replayed request did not do what it did when it ran live: its response differs from the recorded
 * one, or it called {@link Recorded#once}/{@link Recorded#input} with other names, in another order,
 * or more or fewer times. The UI session cannot be rebuilt faithfully, so it ends: the browser is told
 * and the log names the request. The cause is UI code that is not deterministic (a clock, randomness,
 * I/O, shared state read outside {@link Recorded#input}, background jobs); the README lists what to
 * avoid.
 */
public class ReplayDivergedException extends RapException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; the message names the UI session, the request and what differed. */
    public ReplayDivergedException(String message) {
        super(message);
    }
}
