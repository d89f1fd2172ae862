package benchapp;

import java.util.ArrayList;
import java.util.List;

/**
 * The 1,000-object graph the load benchmark reads (plain Java): the catalog, its list and 998
 * items. {@link Setup} shares it as {@code ROOT}; each benchmark JVM loads it on its first read.
 */
public class Catalog {
    /** Objects in the graph: the catalog, its list, the items. */
    public static final int OBJECTS = 1_000;

    public static Catalog ROOT;

    String name;
    List<Item> items = new ArrayList<>();

    /** The root, read in instrumented code: the first read loads the graph. */
    public static Catalog root() {
        return ROOT;
    }

    static Catalog of(String name) {
        Catalog catalog = new Catalog();
        catalog.name = name;
        for (int i = 0; i < OBJECTS - 2; i++) {
            catalog.items.add(new Item("item-" + i, i));
        }
        return catalog;
    }

    /** Java objects reachable from here, counted by reading every item (so nothing is skipped). */
    public int objects() {
        int count = 2;
        for (Item item : items) {
            count += item.price >= 0 ? 1 : 0;
        }
        return count;
    }
}
