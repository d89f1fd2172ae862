package org.sovereign.rap;

/**
 * What the browser gets for one UI request: an HTTP status and a body, a RAP JSON message or, for a
 * UI session that cannot go on, plain text: RAP's client then shows its "Server Error" box with a
 * "Details" link that shows the text (a JSON error would show only RAP's generic words).
 */
record UiOutcome(int status, String body, String contentType) {
    static final String JSON = "application/json; charset=UTF-8";
    static final String TEXT = "text/plain; charset=UTF-8";

    UiOutcome(int status, String body) {
        this(status, body, JSON);
    }

    static UiOutcome ok(String body) {
        return new UiOutcome(200, body);
    }

    /** The end of a UI session, explained: the browser shows {@code message} under "Details". */
    static UiOutcome ended(String message) {
        return new UiOutcome(500, message, TEXT);
    }
}
