package org.sovereign.agent.runtime;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import org.sovereign.heap.HeapObject;
import org.sovereign.heap.HeapTypeException;

/**
 * Which keys (map keys as heap text, array indices) the last commits of a container changed, so a
 * JVM whose copy is a few versions old reads only those entries again instead of the whole map.
 * Kept in the holder as one string of {@code version,length,key} records, oldest first, plus the
 * version it reaches back to ({@link ContainerKeys#JOURNAL_FROM}: it lists every change made after
 * that version). Bounded: the oldest versions are dropped whole, and a JVM older than what is left
 * reads everything.
 */
final class Journal {
    /** Most keys kept (each costs a read in a catching-up JVM; beyond this a full read is as cheap). */
    static final int KEYS_MAX = 256;
    /** Most characters kept, so the holder stays small next to the heap's 1 MiB object limit. */
    static final int CHARS_MAX = 16 * 1024;

    /** One changed key at one version. */
    record Entry(long version, String key) {}

    /** The journal after one commit: its text and the version it reaches back to. */
    record Appended(String text, long from) {}

    private Journal() {}

    /** Adds {@code keys}, changed at {@code version}, to {@code holder}'s journal (as changes of the caller's transaction). */
    static void record(HeapObject holder, long version, Collection<String> keys) {
        long from = holder.getLong(ContainerKeys.JOURNAL_FROM);
        Appended appended = append(holder.getString(ContainerKeys.JOURNAL), from, version, keys);
        holder.set(ContainerKeys.JOURNAL, appended.text());
        if (appended.from() != from) {
            holder.set(ContainerKeys.JOURNAL_FROM, appended.from());
        }
    }

    /** The keys {@code holder}'s journal says changed after version {@code since}; null when it does not reach back that far. */
    static List<String> changedSince(HeapObject holder, long since) {
        return since(holder.getString(ContainerKeys.JOURNAL), holder.getLong(ContainerKeys.JOURNAL_FROM), since);
    }

    /** The journal {@code text} (reaching back to {@code from}) with {@code keys} changed at {@code version} added. */
    static Appended append(String text, long from, long version, Collection<String> keys) {
        List<Entry> entries = parse(text);
        for (String key : keys) {
            entries.add(new Entry(version, key));
        }
        int chars = 0;
        for (Entry entry : entries) {
            chars += length(entry);
        }
        int first = 0;
        long reaches = from;
        // Drop whole versions, oldest first, until both bounds hold.
        while (first < entries.size() && (entries.size() - first > KEYS_MAX || chars > CHARS_MAX)) {
            long dropped = entries.get(first).version();
            while (first < entries.size() && entries.get(first).version() == dropped) {
                chars -= length(entries.get(first));
                first++;
            }
            reaches = dropped;
        }
        return new Appended(format(entries.subList(first, entries.size())), reaches);
    }

    /**
     * The keys changed after version {@code since}, each once, in the order of their last change;
     * null when the journal does not reach back that far (read everything instead).
     */
    static List<String> since(String text, long from, long since) {
        if (since < from) {
            return null;
        }
        LinkedHashSet<String> keys = new LinkedHashSet<>();
        for (Entry entry : parse(text)) {
            if (entry.version() > since) {
                keys.remove(entry.key());
                keys.add(entry.key());
            }
        }
        return new ArrayList<>(keys);
    }

    static List<Entry> parse(String text) {
        List<Entry> entries = new ArrayList<>();
        if (text == null) {
            return entries;
        }
        int at = 0;
        while (at < text.length()) {
            int comma = text.indexOf(',', at);
            int second = comma < 0 ? -1 : text.indexOf(',', comma + 1);
            if (second < 0) {
                throw corrupt(text);
            }
            long version;
            int length;
            try {
                version = Long.parseLong(text.substring(at, comma));
                length = Integer.parseInt(text.substring(comma + 1, second));
            } catch (NumberFormatException e) {
                throw corrupt(text);
            }
            int end = second + 1 + length;
            if (length < 0 || end > text.length()) {
                throw corrupt(text);
            }
            entries.add(new Entry(version, text.substring(second + 1, end)));
            at = end;
        }
        return entries;
    }

    static String format(List<Entry> entries) {
        StringBuilder text = new StringBuilder();
        for (Entry entry : entries) {
            text.append(entry.version()).append(',').append(entry.key().length()).append(',').append(entry.key());
        }
        return text.toString();
    }

    private static int length(Entry entry) {
        return Long.toString(entry.version()).length() + Integer.toString(entry.key().length()).length() + 2
                + entry.key().length();
    }

    private static HeapTypeException corrupt(String text) {
        return new HeapTypeException("a shared container's change journal is not in the agent's format (\""
                + (text.length() > 80 ? text.substring(0, 80) + "..." : text) + "\"); another JVM runs a different "
                + "version of the agent: run the same version everywhere");
    }
}
