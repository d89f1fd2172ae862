package org.sovereign.rap;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.rap.json.JsonArray;
import org.eclipse.rap.json.JsonObject;
import org.eclipse.rap.json.JsonValue;

/**
 * One recorded UI request: its counter, its JSON body, the digest of the response it got, and the
 * values its UI code recorded ({@link Recorded#once}, {@link Recorded#input}) in call order. Stored
 * on the heap as one compact JSON string.
 */
record JournalEntry(int counter, String request, String digest, List<RecordedValue> values) {
    JournalEntry {
        values = List.copyOf(values);
    }

    /** The entry as stored; refused (with what to do) when larger than {@link RapLimits#ENTRY_BYTES_MAX}. */
    String encode() {
        JsonArray recorded = new JsonArray();
        for (RecordedValue value : values) {
            recorded.add(new JsonArray().add(value.name()).add(value.encoded()));
        }
        String encoded = new JsonObject().add("n", counter).add("q", request).add("d", digest).add("v", recorded)
                .toString();
        int sizeBytes = encoded.getBytes(StandardCharsets.UTF_8).length;
        if (sizeBytes > RapLimits.ENTRY_BYTES_MAX) {
            throw new RapException("UI request " + counter + " and the values its UI code recorded take " + sizeBytes
                    + " bytes, over the journal's limit of " + RapLimits.ENTRY_BYTES_MAX
                    + "; record smaller values with Recorded.once/input (an id instead of a document)");
        }
        return encoded;
    }

    /** Reads an entry back; a string that is not one means the journal is damaged. */
    static JournalEntry decode(String encoded) {
        try {
            JsonObject entry = JsonValue.readFrom(encoded).asObject();
            List<RecordedValue> values = new ArrayList<>();
            for (JsonValue value : entry.get("v").asArray()) {
                JsonArray pair = value.asArray();
                values.add(new RecordedValue(pair.get(0).asString(), pair.get(1).asString()));
            }
            return new JournalEntry(entry.get("n").asInt(), entry.get("q").asString(), entry.get("d").asString(),
                    values);
        } catch (RuntimeException e) {
            throw new RapException("a journal entry on the heap is damaged (" + e.getMessage()
                    + "); the UI session cannot be restored and must be restarted", e);
        }
    }

    /** One value a request's UI code recorded: the name it gave and the value, serialized and Base64-encoded. */
    record RecordedValue(String name, String encoded) {
    }
}
