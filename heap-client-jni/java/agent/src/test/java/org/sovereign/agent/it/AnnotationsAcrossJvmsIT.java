package org.sovereign.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.sovereign.testkit.HeapNodes;

/**
 * Annotations and on-load methods seen from application JVMs ({@code demo.Library}: {@code @Root},
 * {@code @Transient}, {@code @OnLoad}, {@code @AutolockRead}, with no config entry for any of them;
 * {@code demo.Brittle}: an on-load method from the config that throws): the root's state is the
 * same in every JVM; in a JVM that loads it the transient fields start at their defaults and the
 * on-load method rebuilds the local index before the application sees the object; a write in a
 * read-level method is refused; an on-load failure reaches the read that loaded the object, once;
 * an on-load entry naming a missing method, or one with parameters, stops the JVM naming it.
 */
@Timeout(600)
class AnnotationsAcrossJvmsIT {
    private static HeapNodes cluster;
    private static Path config;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = HeapNodes.start();
        config = writeConfig("annotations-", "[\"demo.Brittle.check\"]");
    }

    @AfterAll
    static void stopCluster() throws Exception {
        cluster.close();
    }

    /** The config of these tests: no root, transient field or on-load method of demo.Library in it. */
    private static Path writeConfig(String prefix, String onLoad) throws Exception {
        Path file = Files.createTempDirectory(HeapNodes.workDir(), prefix).resolve("app.toml");
        Files.writeString(file, String.join("\n",
                "endpoints  = \"127.0.0.1:1\"          # replaced by SOVEREIGN_ENDPOINTS",
                "instrument = [\"demo.**\"]",
                "roots      = [\"demo.Brittle.ROOT\"]",
                "on-load    = " + onLoad,
                ""), StandardCharsets.UTF_8);
        return file;
    }

    private static String[] run(String name, int lines, String... args) throws Exception {
        return AgentJvm.run(cluster, config, name, "demo.LibraryMain", lines, args);
    }

    @Test
    void anAnnotatedRootIsSharedAndLoadingJvmsRebuildTheirTransientIndex() throws Exception {
        System.out.println("[annotations] act: A creates the library (its root by @Root) and adds three titles");
        String[] a = run("library-a", 2, "add", "a", "3");
        assertEquals("before titles [] last nobody; index {}; origin constructed; defaults before on-load false; "
                + "on-load runs 0", a[0], "A constructed the root's object: no load, no on-load");
        assertEquals("after titles [a-1, a-2, a-3] last a; index {a-1=0, a-2=1, a-3=2}; origin constructed; defaults "
                + "before on-load false; on-load runs 0", a[1]);

        System.out.println("[annotations] act: B loads it (on-load rebuilds the @Transient index) and adds two");
        String[] b = run("library-b", 2, "add", "b", "2");
        assertEquals("before titles [a-1, a-2, a-3] last a; index {a-1=0, a-2=1, a-3=2}; origin loaded; defaults before "
                + "on-load true; on-load runs 1", b[0], "the transient fields were at their defaults (the constructor's "
                + "values stayed in A), then @OnLoad rebuilt the index from the shared titles, once");
        assertEquals("after titles [a-1, a-2, a-3, b-1, b-2] last b; index {a-1=0, a-2=1, a-3=2, b-1=3, b-2=4}; origin "
                + "loaded; defaults before on-load true; on-load runs 1", b[1]);

        System.out.println("[annotations] check: C loads what A and B left");
        assertEquals("show titles [a-1, a-2, a-3, b-1, b-2] last b; index {a-1=0, a-2=1, a-3=2, b-1=3, b-2=4}; origin "
                + "loaded; defaults before on-load true; on-load runs 1", run("library-c", 1, "show")[0]);

        System.out.println("[annotations] check: a shared write in an @AutolockRead method is refused");
        String[] readLock = run("library-read-lock", 2, "read-lock");
        assertTrue(readLock[0].startsWith("error UnlockedSharedObjectException: field lastAddedBy of shared object "
                + "demo.Library.ROOT (a demo.Library, heap object "), readLock[0]);
        assertTrue(readLock[0].contains("it holds only the read lock of a read-level [[autolock]]"), readLock[0]);
        assertTrue(readLock[1].startsWith("show titles [a-1, a-2, a-3, b-1, b-2] last b;"),
                "the field kept its value: " + readLock[1]);
    }

    @Test
    void anOnLoadFailureReachesTheReadThatLoadedTheObjectOnce() throws Exception {
        System.out.println("[on-load] act: D makes the brittle root, E loads it (its on-load method throws)");
        assertEquals("made state fragile, checks 0", run("brittle-make", 1, "brittle-make")[0],
                "the JVM that constructs the object does not run on-load");
        String[] read = run("brittle-read", 2, "brittle-read");
        assertTrue(read[0].startsWith("error OnLoadException: the on-load method demo.Brittle.check() of demo.Brittle.ROOT "
                + "(a demo.Brittle, heap object "), read[0]);
        assertTrue(read[0].contains("threw java.lang.IllegalStateException: the on-load check refuses a fragile object "
                + "after the object was loaded into this JVM"), read[0]);
        assertEquals("second read state fragile, checks 1", read[1],
                "the object stayed loaded and its on-load method ran once");
    }

    @Test
    void anOnLoadEntryNamingAMissingMethodOrOneWithParametersStopsTheJvm() throws Exception {
        assertRefused(writeConfig("missing-", "[\"demo.Library.reindex\"]"),
                ":4: on-load \"demo.Library.reindex\": demo.Library has no method reindex(); add it");
        assertRefused(writeConfig("parameters-", "[\"demo.Library.add\"]"),
                ":4: on-load \"demo.Library.add\": demo.Library.add(java.lang.String, java.lang.String) takes parameters; "
                        + "an on-load method takes none");
    }

    private static void assertRefused(Path badConfig, String expected) throws Exception {
        try (AgentJvm jvm = AgentJvm.start("refused", cluster, badConfig, "demo.LibraryMain", "show")) {
            assertNotEquals(0, jvm.awaitExit(), "the JVM must not run the application without its on-load method");
            String stderr = jvm.stderr();
            assertTrue(stderr.contains(badConfig + expected), "the error names the file, line and method: " + stderr);
        }
    }
}
