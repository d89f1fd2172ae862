package org.sovereign.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.sovereign.testkit.HeapNodes;

/**
 * java.util collections and arrays as shared values, seen from application JVMs ({@code demo.Catalog},
 * no Sovereign import): one JVM fills one of every kind, a second loads exactly that and changes it
 * (removals, reinsertions, a poll, element writes through an index and System.arraycopy, a removal
 * around the guard, nested lists, objects referenced from a map and an array), a third loads exactly
 * the result; the errors a user gets for an unlocked change, an identity-hashed key and a value
 * that cannot be shared, with nothing changed; and that synchronized on a collection is its owner's lock.
 */
@Timeout(600)
class CollectionsAcrossJvmsIT {
    private static HeapNodes cluster;
    private static Path config;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = HeapNodes.start();
        config = AgentJvm.writeConfig(Files.createTempDirectory(HeapNodes.workDir(), "catalog-"));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        cluster.close();
    }

    private static String[] run(String name, int lines, String... args) throws Exception {
        return AgentJvm.run(cluster, config, name, "demo.CatalogMain", lines, args);
    }

    @Test
    void everyKindIsTheSameInEveryJvmBeforeAndAfterAnotherJvmChangesIt() throws Exception {
        System.out.println("[catalog] act: A fills the catalog");
        String filled = run("fill", 1, "fill")[0];
        assertTrue(filled.startsWith("items[apple=apple@120[crisp], pear=pear@95[]] names[apple, pear, #hash, ] recent[1, 3] "
                + "queue[first, second] stock{pear=4, apple=7, fig=null} prices{apple=1.2, pear=0.95} counts{RED=2, BLUE=5} "
                + "tags[fresh, fruit] letters[z, a] sizes[1, 2, 3] histogram[0, 0, 7, 0, 0, -1] slots[null, middle, null] "
                + "featured=true,true shelves[[top, added before the commit]] "), filled);
        assertTrue(filled.endsWith("loose[42(Integer)=int key, GREEN(Color)=enum key] misc[BLUE,Integer,[1, 2]] "
                + "classes ArrayList/ConcurrentHashMap"), "keys and elements keep their types; the fields hold the "
                + "shared subclasses: " + filled);

        System.out.println("[catalog] act: B loads it and changes every kind");
        String[] changed = run("change", 2, "change");
        assertEquals(filled, changed[0], "B loaded exactly what A filled");
        assertTrue(changed[1].startsWith("items[apple=apple@120[crisp, noted], kiwi=kiwi@50[]] names[pear, inserted, #hash, ] "
                + "recent[3, 9] queue[second, third] stock{apple=8, fig=null, pear=1} prices{kiwi=0.5, pear=0.95} "
                + "counts{RED=12} tags[fruit] letters[a, z] sizes[1, 2] histogram[1, 0, 7, 7, 0, -1] "
                + "slots[null, null, end] featured=true,true shelves[[top, added before the commit, second shelf line], "
                + "[new shelf]] "), changed[1]);

        System.out.println("[catalog] check: C loads what B left");
        String[] shown = run("show", 2, "show");
        assertEquals(changed[1], shown[0], "C sees every change B made, in the same order");
        assertEquals("totals{changes=1, fills=1}", shown[1], "a root collection, locked by synchronized on itself");
    }

    @Test
    void unlockedChangesUnsharableKeysAndValuesThrowAndChangeNothing() throws Exception {
        String[] all = run("errors", 7, "errors");
        String before = all[0];
        String[] out = Arrays.copyOfRange(all, 1, 6);
        assertTrue(out[0].startsWith("error UnlockedSharedObjectException: the shared java.util.ArrayList at "
                + "demo.Catalog.ROOT.names (heap object "), out[0]);
        assertTrue(out[0].contains("without holding the cluster lock of its owner, demo.Catalog.ROOT (a demo.Catalog, "
                + "heap object "), out[0]);
        assertTrue(out[0].contains("synchronized (owner) { ... }"), "the message says what to do: " + out[0]);
        assertTrue(out[1].startsWith("error NonPortableObjectException: cannot use a java.lang.StringBuilder as a key (or "
                + "set element) at demo.Catalog.ROOT.loose[identity]"), out[1]);
        assertTrue(out[2].startsWith("error NonPortableObjectException: cannot share a java.lang.Thread at "
                + "demo.Catalog.ROOT.misc[]: a Thread runs in this JVM only"), out[2]);
        assertTrue(out[3].startsWith("error UnlockedSharedObjectException: the shared java.util.TreeMap at "
                + "demo.Catalog.TOTALS (heap object "), out[3]);
        assertTrue(out[3].contains("of the collection itself (it is a root)"), out[3]);
        assertTrue(before.matches("names \\d+ misc \\d+"), before);
        assertEquals(before, out[4], "every attempt was refused before it changed anything");
        String[] words = before.split(" ");
        assertEquals("names " + (Integer.parseInt(words[1]) + 1) + " misc " + words[3], all[6],
                "synchronized on the list takes its owner's lock, so the list may change inside it");
    }
}
