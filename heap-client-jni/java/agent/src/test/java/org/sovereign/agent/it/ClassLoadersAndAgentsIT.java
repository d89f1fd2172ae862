package org.sovereign.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.sovereign.testkit.HeapNodes;

/**
 * The contract's "works for classes loaded by child class loaders (a servlet container's web-app
 * loader), and beside another -javaagent": three JVMs run {@code webapp.GuestbookMain} through
 * {@code launcher.WebAppLauncher}, whose child-first loader defines every {@code webapp} class (its
 * root by {@code @Root}, read through that loader); A has a second agent (built here, a transformer
 * that copies the bytes it sees) before the Sovereign agent, B after it. C waits on the shared
 * guestbook until A's and B's entries are in, and every JVM sees the same entries.
 */
@Timeout(600)
class ClassLoadersAndAgentsIT {
    private static HeapNodes cluster;
    private static Path config;
    private static Path otherAgent;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = HeapNodes.start();
        Path dir = Files.createTempDirectory(HeapNodes.workDir(), "webapp-");
        config = dir.resolve("app.toml");
        Files.writeString(config, String.join("\n",
                "endpoints  = \"127.0.0.1:1\"          # replaced by SOVEREIGN_ENDPOINTS",
                "instrument = [\"webapp.**\"]         # the root is @Root webapp.Guestbook.ROOT",
                ""), StandardCharsets.UTF_8);
        otherAgent = buildOtherAgent(dir.resolve("other-agent.jar"));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        cluster.close();
    }

    /** A jar of otheragent.CountingAgent (from the test classes) with it as Premain-Class. */
    private static Path buildOtherAgent(Path jar) throws IOException {
        Path classes = HeapNodes.requiredFile("sovereign.test.classes", "run the tests with Maven").resolve("otheragent");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(new Attributes.Name("Premain-Class"), "otheragent.CountingAgent");
        List<Path> files;
        try (Stream<Path> listing = Files.list(classes)) {
            files = listing.filter(file -> file.toString().endsWith(".class")).sorted().toList();
        }
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            for (Path classFile : files) {
                out.putNextEntry(new JarEntry("otheragent/" + classFile.getFileName()));
                out.write(Files.readAllBytes(classFile));
                out.closeEntry();
            }
        }
        return jar;
    }

    private static String[] runToEnd(String name, List<String> before, List<String> after, int lines, String... args)
            throws Exception {
        try (AgentJvm jvm = AgentJvm.start(name, cluster, config, before, after, "launcher.WebAppLauncher", args)) {
            String[] out = new String[lines];
            for (int i = 0; i < lines; i++) {
                out[i] = jvm.readLine();
            }
            assertEquals(0, jvm.awaitExit(), "jvm " + name + " failed; stderr: " + jvm.stderr());
            return out;
        }
    }

    private static List<String> signed(String who, int count) {
        List<String> entries = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            entries.add(who + "-" + i);
        }
        return entries;
    }

    @Test
    void webAppClassesAreSharedWithAnotherAgentBeforeOrAfterOurs() throws Exception {
        System.out.println("[webapp] start: C waits in the guestbook for 10 entries (web-app loader, Sovereign agent only)");
        try (AgentJvm waiter = AgentJvm.start("webapp-c", cluster, config, List.of(), List.of(), "launcher.WebAppLauncher",
                "await", "10")) {
            assertEquals("loader webapp", waiter.readLine(), "the web-app loader defined the class, not the app loader");

            System.out.println("[webapp] act: A signs 5, with another agent before the Sovereign agent");
            String[] a = runToEnd("webapp-a", List.of("-javaagent:" + otherAgent), List.of(), 3, "sign", "a", "5");
            assertEquals("loader webapp", a[0]);
            assertEquals("entries 5 " + signed("a", 5), a[1]);
            assertEquals("other agent started, saw webapp classes Guestbook,GuestbookMain", a[2]);

            System.out.println("[webapp] act: B signs 5, with another agent after the Sovereign agent");
            String[] b = runToEnd("webapp-b", List.of(), List.of("-javaagent:" + otherAgent), 3, "sign", "b", "5");
            List<String> all = new ArrayList<>(signed("a", 5));
            all.addAll(signed("b", 5));
            assertEquals("loader webapp", b[0]);
            assertEquals("entries 10 " + all, b[1], "B loaded A's entries and added its own");
            assertEquals("other agent started, saw webapp classes Guestbook,GuestbookMain", b[2]);

            System.out.println("[webapp] check: C was notified across JVMs and sees the same entries");
            assertEquals("entries 10 " + all, waiter.readLine(AgentJvm.LINE_TIMEOUT_MS));
            assertTrue(waiter.readLine().startsWith("other agent absent"));
            assertEquals(0, waiter.awaitExit(), "C failed; stderr: " + waiter.stderr());
        }
    }
}
