package demo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sovereign.annotations.AutolockRead;
import org.sovereign.annotations.OnLoad;
import org.sovereign.annotations.Root;
import org.sovereign.annotations.Transient;

/**
 * Shared through annotations only (the tests' config names no root, transient field or on-load
 * method of this class): {@code ROOT} is a root by {@code @Root}; {@code index} and the bookkeeping
 * fields are {@code @Transient}, local to each JVM; {@link #rebuild} is the {@code @OnLoad} method
 * that rebuilds the index in a JVM that loads the library, and records what it found.
 */
public class Library {
    @Root
    static Library ROOT = new Library();

    List<String> titles = new ArrayList<>();
    String lastAddedBy = "nobody";
    /** Title to position in {@link #titles}: a local cache, rebuilt on load. */
    @Transient
    Map<String, Integer> index = new HashMap<>();
    /** Where this Java object came from: "constructed" here, or "loaded" by {@link #rebuild}. */
    @Transient
    String origin = "constructed";
    /** Whether the transient fields were at Java's defaults when {@link #rebuild} began. */
    @Transient
    boolean defaultsBeforeOnLoad;
    @Transient
    int onLoadRuns;

    synchronized void add(String title, String who) {
        titles.add(title);
        lastAddedBy = who;
        index.put(title, titles.size() - 1);
    }

    /** A read-level method (@AutolockRead): it may read under the cluster read lock. */
    @AutolockRead
    synchronized String describe() {
        return "titles " + titles + " last " + lastAddedBy + "; index " + new TreeMap<>(index) + "; origin " + origin
                + "; defaults before on-load " + defaultsBeforeOnLoad + "; on-load runs " + onLoadRuns;
    }

    /** A read-level method that writes a shared field: refused, since it holds only the read lock. */
    @AutolockRead
    synchronized void renameUnderReadLock(String who) {
        lastAddedBy = who;
    }

    @OnLoad
    void rebuild() {
        defaultsBeforeOnLoad = index == null && origin == null && onLoadRuns == 0;
        index = new HashMap<>();
        for (int i = 0; i < titles.size(); i++) {
            index.put(titles.get(i), i);
        }
        origin = "loaded";
        onLoadRuns++;
    }
}
