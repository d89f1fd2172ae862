package org.sovereign.rap;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.eclipse.rap.json.JsonArray;
import org.eclipse.rap.json.JsonObject;
import org.eclipse.rap.json.JsonValue;

/**
 * RAP's UI responses as recording handles them: the cid RAP names in a head, the digest that
 * compares a replayed response with the recorded one, and the error messages in RAP's own format,
 * which its JavaScript client shows in its error box.
 */
final class RapResponses {
    /** RAP's answer for a cid this server has no UI session for (HTTP 403). */
    static final String SESSION_TIMEOUT = error("session timeout");
    /** RAP's answer for a request counter out of sequence (HTTP 412). */
    static final String INVALID_COUNTER = error("invalid request counter");

    private RapResponses() {
    }

    /** A RAP error message: the client shows {@code text} (with a "Restart" link). */
    static String error(String text) {
        return new JsonObject().add("head", new JsonObject().add("error", text)).add("operations", new JsonArray())
                .toString();
    }

    /** The cid RAP named in this response's head (the first response of a UI session), or null. */
    static String cidOf(String response) {
        JsonObject head = head(response);
        JsonValue cid = head == null ? null : head.get("cid");
        return cid != null && cid.isString() ? cid.asString() : null;
    }

    /** The response with its head's cid replaced by {@code cid} (the browser keeps using its own). */
    static String withCid(String response, String cid) {
        JsonObject message = JsonValue.readFrom(response).asObject();
        JsonObject head = message.get("head").asObject();
        head.set("cid", cid);
        return message.toString();
    }

    /**
     * SHA-256 (hex) of the response without its head's cid (random per UI session): two runs of the
     * same UI code on the same input give the same digest.
     */
    static String digest(String response) {
        String canonical = response;
        JsonValue parsed;
        try {
            parsed = JsonValue.readFrom(response);
        } catch (RuntimeException notJson) {
            parsed = null;
        }
        if (parsed != null && parsed.isObject()) {
            JsonObject message = parsed.asObject();
            JsonValue head = message.get("head");
            if (head != null && head.isObject() && head.asObject().get("cid") != null) {
                head.asObject().remove("cid");
            }
            canonical = message.toString();
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    private static JsonObject head(String response) {
        try {
            JsonValue message = JsonValue.readFrom(response);
            JsonValue head = message.isObject() ? message.asObject().get("head") : null;
            return head != null && head.isObject() ? head.asObject() : null;
        } catch (RuntimeException notJson) {
            return null;
        }
    }
}
