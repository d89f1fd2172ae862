package org.sovereign.rap;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Lock;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapList;
import org.sovereign.heap.HeapMap;
import org.sovereign.heap.HeapObject;

/**
 * The journals of one web application's UI sessions on the heap: a root map from the browser's cid
 * to a journal object (class {@value #JOURNAL_CLASS}) with the request count, the recorded requests
 * in chunks of {@link RapLimits#ENTRIES_PER_CHUNK}, the last response (for a retried request), the
 * time of the last request and the pending-effect mark. Every change is made under the UI session's
 * cluster lock ({@link #lock}) by the request's heap thread, so it commits with the request, at
 * the lock's release. Unlinking a journal deletes it (the heap's collector frees it).
 */
final class Journal {
    static final String JOURNAL_CLASS = "sovereign.rap.Journal";
    static final String COUNT = "count";
    static final String CHUNKS = "chunks";
    static final String LAST_RESPONSE = "lastResponse";
    static final String LAST_ACCESS_MS = "lastAccessMs";
    static final String PENDING = "pending";
    /** The names of the UI sessions' cluster locks: this prefix and the cid. */
    static final String UI_LOCK_PREFIX = "sovereign.rap.ui:";
    /** Chunk references read ahead (with their chunks) in one round trip when catching up. */
    private static final int CHUNKS_PER_READ = 16;
    /** Journal objects one idle sweep reads in one round trip. */
    private static final int JOURNALS_PER_SWEEP_READ = 10_000;

    private final HeapClient heap;
    private final String rootName;
    private volatile HeapMap journals;

    Journal(HeapClient heap, String contextPath) {
        this.heap = heap;
        this.rootName = "sovereign.rap.journals:" + (contextPath.isEmpty() ? "/" : contextPath);
    }

    /** The cluster lock of UI session {@code cid}: one request of it at a time, cluster-wide. */
    Lock lock(String cid) {
        return heap.lock(UI_LOCK_PREFIX + cid);
    }

    private HeapMap journals() {
        HeapMap map = journals;
        if (map == null) {
            map = heap.rootMap(rootName);
            journals = map;
        }
        return map;
    }

    /** The state of UI session {@code cid}'s journal, or null when it has none (ended, expired, unknown). */
    State read(String cid) {
        HeapObject journal = find(cid);
        if (journal == null) {
            return null;
        }
        return new State((int) journal.getLong(COUNT), journal.getString(LAST_RESPONSE), journal.getString(PENDING));
    }

    /** Entries {@code from} (inclusive) to {@code to} (exclusive) of {@code cid}'s journal. */
    List<JournalEntry> entries(String cid, int from, int to) {
        HeapObject journal = find(cid);
        if (journal == null || from >= to) {
            return List.of();
        }
        HeapList chunks = journal.getList(CHUNKS);
        List<JournalEntry> entries = new ArrayList<>(to - from);
        int chunk = from / RapLimits.ENTRIES_PER_CHUNK;
        int lastChunk = (to - 1) / RapLimits.ENTRIES_PER_CHUNK;
        while (chunk <= lastChunk) {
            int end = Math.min(lastChunk + 1, chunk + CHUNKS_PER_READ);
            Object[] refs = chunks.toArray(chunk, end, 1, CHUNKS_PER_READ * (RapLimits.ENTRIES_PER_CHUNK + 1));
            for (int i = 0; i < refs.length; i++) {
                int first = (chunk + i) * RapLimits.ENTRIES_PER_CHUNK;
                Object[] encoded = ((HeapList) refs[i]).toArray();
                for (int j = 0; j < encoded.length; j++) {
                    int index = first + j;
                    if (index >= from && index < to) {
                        entries.add(JournalEntry.decode((String) encoded[j]));
                    }
                }
            }
            chunk = end;
        }
        if (entries.size() != to - from) {
            throw new RapException("UI session " + cid + "'s journal holds " + entries.size() + " of entries " + from
                    + " to " + to + "; it is damaged and the UI session must be restarted");
        }
        return entries;
    }

    /** Links a new journal for {@code cid} holding its first request. */
    void create(String cid, JournalEntry first, String response, long nowMs) {
        HeapObject journal = heap.newObject(JOURNAL_CLASS);
        journal.set(COUNT, 0L);
        journal.set(CHUNKS, heap.newList());
        journal.set(PENDING, "");
        journals().put(cid, journal);
        append(journal, first, response, nowMs);
    }

    /** Appends request {@code entry} (its counter must be the journal's count) and its response. */
    void append(String cid, JournalEntry entry, String response, long nowMs) {
        HeapObject journal = find(cid);
        if (journal == null) {
            throw new RapException("UI session " + cid + " ended while its request " + entry.counter()
                    + " ran; the browser must restart it");
        }
        append(journal, entry, response, nowMs);
    }

    private void append(HeapObject journal, JournalEntry entry, String response, long nowMs) {
        long count = journal.getLong(COUNT);
        if (entry.counter() != count) {
            throw new IllegalStateException("journal append of request " + entry.counter() + " at count " + count);
        }
        HeapList chunks = journal.getList(CHUNKS);
        if (count % RapLimits.ENTRIES_PER_CHUNK == 0) {
            chunks.add(heap.newList());
        }
        ((HeapList) chunks.get(chunks.size() - 1)).add(entry.encode());
        journal.set(COUNT, count + 1);
        boolean keep = response.getBytes(StandardCharsets.UTF_8).length <= RapLimits.LAST_RESPONSE_BYTES_MAX;
        journal.set(LAST_RESPONSE, keep ? response : "");
        journal.set(LAST_ACCESS_MS, nowMs);
        journal.set(PENDING, "");
    }

    /** Marks an effect of request {@code counter} as possibly committed ahead of its request. */
    void markPending(String cid, int counter, int seq) {
        HeapObject journal = find(cid);
        if (journal != null) {
            journal.set(PENDING, counter + ":" + seq);
        }
    }

    /** Unlinks {@code cid}'s journal (the collector frees it). */
    void delete(String cid) {
        journals().remove(cid);
    }

    /** At most {@code max} UI sessions whose last request is older than {@code idleMs}. */
    List<String> idle(long nowMs, long idleMs, int max) {
        List<String> idle = new ArrayList<>();
        for (Map.Entry<String, Object> entry : journals().toMap(0, JOURNALS_PER_SWEEP_READ).entrySet()) {
            if (idle.size() >= max) {
                break;
            }
            if (entry.getValue() instanceof HeapObject journal && nowMs - journal.getLong(LAST_ACCESS_MS) > idleMs) {
                idle.add(entry.getKey());
            }
        }
        return idle;
    }

    /** Whether {@code cid}'s journal exists and its last request is older than {@code idleMs}. */
    boolean idle(String cid, long nowMs, long idleMs) {
        HeapObject journal = find(cid);
        return journal != null && nowMs - journal.getLong(LAST_ACCESS_MS) > idleMs;
    }

    private HeapObject find(String cid) {
        Object value = journals().get(cid);
        return value instanceof HeapObject journal ? journal : null;
    }

    /** What a request needs to know of its UI session's journal. */
    record State(int count, String lastResponse, String pending) {
    }
}
