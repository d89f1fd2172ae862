package demo;

import java.util.ArrayList;
import java.util.List;

/** An item of {@link Catalog}: a shared object held in maps, lists and arrays, with a list of its own. */
public class Item {
    String name;
    long priceCents;
    List<String> notes = new ArrayList<>();

    Item(String name, long priceCents) {
        this.name = name;
        this.priceCents = priceCents;
    }

    /** Read under the catalog's lock by the catalog; an item's own fields need its own lock to change. */
    synchronized String describe() {
        return name + "@" + priceCents + notes;
    }

    synchronized void note(String note) {
        notes.add(note);
    }
}
