package demo.batch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The buffered-writes test's root (plain Java): each {@link #record} writes fields (one of them
 * twice), a list, an array and a map under one lock; {@link #check} verifies, under the lock, that
 * what it sees is one whole commit, with the later of two writes to a field and the list in order.
 */
public class Ledger {
    /** Slots of the array: entry i goes to slot i % SLOTS. */
    static final int SLOTS = 8;

    static Ledger ROOT = new Ledger();

    long count;
    long last;
    String note;
    List<Long> entries = new ArrayList<>();
    long[] slots = new long[SLOTS];
    Map<String, Long> totals = new HashMap<>();

    /** Records entry {@code i} (the next one: count + 1) in every part of the ledger, in one commit. */
    synchronized void record(long i) {
        count = -1; // overwritten below: visible nowhere if the commit keeps the last write
        entries.add(i);
        slots[(int) (i % SLOTS)] = i;
        note = "entry " + i;
        totals.merge("sum", i, Long::sum);
        count = i;
        last = i;
    }

    /** "ok COUNT" when the ledger is one whole commit, else what is wrong. */
    synchronized String check() {
        if (count != entries.size() || last != count) {
            return "torn: count " + count + ", last " + last + ", " + entries.size() + " entries";
        }
        for (int k = 0; k < entries.size(); k++) {
            if (entries.get(k) != k + 1) {
                return "out of order: entry " + k + " is " + entries.get(k);
            }
        }
        for (int slot = 0; slot < SLOTS; slot++) {
            long expected = 0;
            for (long i = count; i > 0 && i > count - SLOTS; i--) {
                if (i % SLOTS == slot) {
                    expected = i;
                }
            }
            if (slots[slot] != expected) {
                return "slot " + slot + " is " + slots[slot] + ", not " + expected + " at count " + count;
            }
        }
        long sum = count * (count + 1) / 2;
        if (count > 0 && (!("entry " + count).equals(note) || !Long.valueOf(sum).equals(totals.get("sum")))) {
            return "note " + note + " or sum " + totals.get("sum") + " does not match count " + count;
        }
        return "ok " + count;
    }
}
