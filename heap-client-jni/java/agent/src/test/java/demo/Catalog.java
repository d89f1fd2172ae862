package demo;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A shared object holding one of every collection kind and array the agent shares, plain Java with
 * no Sovereign import; {@code ROOT} is a root, and so is {@code TOTALS}, a collection that is its own
 * lock's owner. Every change is made under the catalog's lock (its synchronized methods), as DSO's
 * users wrote them: the collections are the catalog's. {@link #describe} prints everything in a
 * fixed order, so two JVMs can compare what they see.
 */
public class Catalog {
    static Catalog ROOT = new Catalog();
    static Map<String, Long> TOTALS = new TreeMap<>();

    Map<String, Item> items = new HashMap<>();
    List<String> names = new ArrayList<>();
    LinkedList<Integer> recent = new LinkedList<>();
    ArrayDeque<String> queue = new ArrayDeque<>();
    LinkedHashMap<String, Integer> stock = new LinkedHashMap<>();
    TreeMap<String, Double> prices = new TreeMap<>();
    Map<Color, Long> counts = new ConcurrentHashMap<>();
    Set<String> tags = new HashSet<>();
    LinkedHashSet<Character> letters = new LinkedHashSet<>();
    TreeSet<Integer> sizes = new TreeSet<>();
    int[] histogram = new int[6];
    String[] slots = new String[3];
    Item[] featured = new Item[2];
    List<List<String>> shelves = new ArrayList<>();
    Map<Object, String> loose = new HashMap<>();
    List<Object> misc = new ArrayList<>();

    /** The first state: every kind filled, items shared through the map and referenced from the array. */
    synchronized void fill() {
        Item apple = new Item("apple", 120);
        Item pear = new Item("pear", 95);
        apple.notes.add("crisp");
        items.put("apple", apple);
        items.put("pear", pear);
        names.addAll(List.of("apple", "pear", "#hash", ""));
        recent.add(3);
        recent.addFirst(1);
        queue.add("first");
        queue.add("second");
        stock.put("pear", 4);
        stock.put("apple", 7);
        stock.put("fig", null);
        prices.put("pear", 0.95);
        prices.put("apple", 1.2);
        counts.put(Color.RED, 2L);
        counts.put(Color.BLUE, 5L);
        tags.addAll(List.of("fruit", "fresh"));
        letters.add('z');
        letters.add('a');
        sizes.addAll(List.of(3, 1, 2));
        histogram[2] = 7;
        histogram[5] = -1;
        slots[1] = "middle";
        featured[0] = apple;
        featured[1] = apple;
        List<String> shelf = new ArrayList<>();
        shelf.add("top");
        shelves.add(shelf);
        shelf.add("added before the commit"); // the plain list is copied when the lock is released: this is in
        loose.put(Color.GREEN, "enum key");
        loose.put(42, "int key");
        misc.add(Color.BLUE);
        misc.add(7);
        misc.add(new int[] {1, 2});
    }

    /** The second state, made in another JVM: removals, reorderings, element writes, nested changes. */
    synchronized void change() {
        items.remove("pear");
        items.put("kiwi", new Item("kiwi", 50));
        names.remove(0);
        names.add(1, "inserted");
        recent.removeFirst();
        recent.addLast(9);
        queue.poll();
        queue.offer("third");
        stock.remove("pear");
        stock.put("pear", 1);
        stock.put("apple", 8);
        prices.pollFirstEntry();
        prices.put("kiwi", 0.5);
        counts.merge(Color.RED, 10L, Long::sum);
        counts.keySet().removeIf(color -> color == Color.BLUE); // around the guard: found by the size at the commit
        tags.remove("fresh");
        letters.remove('z');
        letters.add('z');
        sizes.pollLast();
        histogram[0]++;
        System.arraycopy(histogram, 2, histogram, 3, 1); // an element write no instruction rewrite would see
        slots[1] = null;
        slots[2] = "end";
        featured[1] = items.get("kiwi");
        shelves.get(0).add("second shelf line");
        shelves.add(new ArrayList<>(List.of("new shelf")));
        items.get("apple").note("noted"); // the notes are the item's: its synchronized method takes its lock
    }

    /** Everything, in a fixed order (hash-ordered kinds sorted), and whether shared objects keep their identity. */
    synchronized String describe() {
        StringBuilder out = new StringBuilder();
        List<String> itemList = new ArrayList<>();
        items.forEach((name, item) -> itemList.add(name + "=" + item.describe()));
        itemList.sort(null);
        out.append("items").append(itemList);
        out.append(" names").append(names);
        out.append(" recent").append(recent);
        out.append(" queue").append(queue);
        out.append(" stock").append(stock);
        out.append(" prices").append(prices);
        out.append(" counts").append(new TreeMap<>(counts));
        out.append(" tags").append(new TreeSet<>(tags));
        out.append(" letters").append(letters);
        out.append(" sizes").append(sizes);
        out.append(" histogram").append(java.util.Arrays.toString(histogram));
        out.append(" slots").append(java.util.Arrays.toString(slots));
        out.append(" featured=").append(featured[0] == items.get("apple")).append(',')
                .append(featured[1] == items.get(featured[1] == null ? "" : featured[1].name));
        out.append(" shelves").append(shelves);
        List<String> looseList = new ArrayList<>();
        loose.forEach((key, value) -> looseList.add(key + "(" + key.getClass().getSimpleName() + ")=" + value));
        looseList.sort(null);
        out.append(" loose").append(looseList);
        out.append(" misc[").append(misc.get(0)).append(',').append(misc.get(1).getClass().getSimpleName())
                .append(',').append(java.util.Arrays.toString((int[]) misc.get(2))).append(']');
        out.append(" classes ").append(names.getClass().getSuperclass().getSimpleName()).append('/')
                .append(counts.getClass().getSuperclass().getSimpleName());
        return out.toString();
    }

    static String totals() {
        synchronized (TOTALS) {
            return "totals" + TOTALS;
        }
    }

    static void addTotal(String key, long amount) {
        synchronized (TOTALS) {
            TOTALS.merge(key, amount, Long::sum);
        }
    }
}
