package org.sovereign.rap;

import org.eclipse.rap.json.JsonObject;
import org.eclipse.rap.json.JsonValue;
import org.eclipse.rap.json.ParseException;

/**
 * The head of a RAP UI request, as far as recording needs it: the request counter (0 for the
 * request that creates a UI session), and whether it is the page-unload message that ends the UI
 * session (which has no counter).
 */
record UiMessage(int requestCounter, boolean shutdown) {
    /** No counter in the head (RAP answers such a request with "invalid request counter"). */
    static final int NO_COUNTER = -1;
    /** The longest cid accepted: RAP's are 32 hex digits; the cid names a heap lock and map key. */
    static final int CID_LENGTH_MAX = 64;

    /** Whether {@code cid} can be a RAP connection id (letters and digits, at most {@link #CID_LENGTH_MAX}). */
    static boolean isValidCid(String cid) {
        if (cid.isEmpty() || cid.length() > CID_LENGTH_MAX) {
            return false;
        }
        for (int i = 0; i < cid.length(); i++) {
            char c = cid.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
                return false;
            }
        }
        return true;
    }

    /** Parses a UI request body; a body that is not a RAP message is refused with a message. */
    static UiMessage parse(String body) {
        JsonObject head;
        try {
            JsonValue message = JsonValue.readFrom(body);
            if (!message.isObject() || message.asObject().get("head") == null
                    || !message.asObject().get("head").isObject()) {
                throw new RapException("a UI request must be a RAP message: a JSON object with a \"head\" object");
            }
            head = message.asObject().get("head").asObject();
        } catch (ParseException | UnsupportedOperationException e) {
            throw new RapException("a UI request must be a RAP message (JSON): " + e.getMessage(), e);
        }
        JsonValue counter = head.get("requestCounter");
        JsonValue shutdown = head.get("shutdown");
        int requestCounter = counter != null && counter.isNumber() ? counter.asInt() : NO_COUNTER;
        return new UiMessage(requestCounter, shutdown != null && shutdown.isTrue());
    }
}
