package demo;

import java.util.List;

/**
 * One JVM of the collections test, driving {@link Catalog} (plain Java). Usage:
 * <pre>
 * CatalogMain fill          fills the catalog, prints it and the totals
 * CatalogMain change        prints the catalog as loaded, changes it, prints it again
 * CatalogMain show          prints the catalog and the totals
 * CatalogMain errors        tries what must fail and prints each error: an unlocked change, a key that
 *                           hashes by identity, a value that cannot be shared, an unlocked root
 *                           collection; prints the sizes before and after; then adds to a list
 *                           inside synchronized on the list (its owner's lock), prints them again,
 *                           and removes it again
 * </pre>
 */
public final class CatalogMain {
    private CatalogMain() {}

    public static void main(String[] args) {
        Catalog catalog = Catalog.ROOT;
        switch (args[0]) {
            case "fill" -> {
                catalog.fill();
                Catalog.addTotal("fills", 1);
                System.out.println(catalog.describe());
            }
            case "change" -> {
                System.out.println(catalog.describe());
                catalog.change();
                Catalog.addTotal("changes", 1);
                System.out.println(catalog.describe());
            }
            case "show" -> {
                System.out.println(catalog.describe());
                System.out.println(Catalog.totals());
            }
            case "errors" -> errors(catalog);
            default -> throw new IllegalArgumentException("unknown role " + args[0]);
        }
    }

    private static void errors(Catalog catalog) {
        List<Runnable> attempts = List.of(
                () -> catalog.names.add("without the lock"),
                () -> {
                    synchronized (catalog) {
                        catalog.loose.put(new StringBuilder("identity"), "x");
                    }
                },
                () -> {
                    synchronized (catalog) {
                        catalog.misc.add(Thread.currentThread());
                    }
                },
                () -> Catalog.TOTALS.put("unlocked", 1L));
        System.out.println(sizes(catalog));
        for (Runnable attempt : attempts) {
            try {
                attempt.run();
                System.out.println("no error");
            } catch (RuntimeException e) {
                System.out.println("error " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        System.out.println(sizes(catalog));
        String entry = "added under the list's own synchronized";
        synchronized (catalog.names) { // the collection's lock is its owner's: this is allowed
            catalog.names.add(entry);
        }
        System.out.println(sizes(catalog));
        synchronized (catalog.names) {
            catalog.names.remove(entry);
        }
    }

    private static String sizes(Catalog catalog) {
        synchronized (catalog) {
            return "names " + catalog.names.size() + " misc " + catalog.misc.size();
        }
    }
}
