package demo.batch;

import java.util.ArrayList;
import java.util.List;

/**
 * A 1,000-object graph for the batched-load test (plain Java, no Sovereign import): the root, its
 * list and 998 documents. Another JVM that reads {@code ROOT} loads all of it; the test counts the
 * round trips that costs.
 */
public class Archive {
    /** Objects in the graph: the archive, its list, the documents. */
    public static final int OBJECTS = 1_000;

    static Archive ROOT;

    String name;
    List<Doc> docs = new ArrayList<>();

    /** A new archive of {@link #OBJECTS} objects in all. */
    static Archive of(String name) {
        Archive archive = new Archive();
        archive.name = name;
        for (int i = 0; i < OBJECTS - 2; i++) {
            archive.docs.add(new Doc("doc-" + i, i));
        }
        return archive;
    }

    /** The Java objects reachable from here (the archive, its list, each document once). */
    synchronized int objects() {
        return 2 + docs.size();
    }

    /** The sum of the documents' pages: reads every one of them. */
    synchronized long pages() {
        long sum = 0;
        for (Doc doc : docs) {
            sum += doc.pages;
        }
        return sum;
    }
}
