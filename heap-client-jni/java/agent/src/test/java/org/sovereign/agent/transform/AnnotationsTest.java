package org.sovereign.agent.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.util.CheckClassAdapter;
import org.sovereign.agent.config.AgentConfig;

/**
 * The Sovereign annotations as the transformer reads them from class files (the {@code fixture}
 * and {@code plain} classes, compiled by javac against sovereign-annotations): each one acts as its
 * config entry, with no entry in the config; a root by {@code @Root} is rewritten in a class
 * rewritten before the root's own class; misplaced annotations and annotations outside
 * {@code instrument} are reported, one line each, naming the class and the fix.
 */
class AnnotationsTest implements Opcodes {
    private final AgentConfig config = RewritingLoader.fixtureConfig();
    private final List<String> reports = new ArrayList<>();
    private final ClassRewriter rewriter = new ClassRewriter(config, reports::add);

    private ClassNode rewrite(String name) {
        byte[] rewritten = rewriter.rewrite(getClass().getClassLoader(), RewritingLoader.original(name));
        ClassNode node = new ClassNode();
        new ClassReader(rewritten).accept(node, 0);
        return node;
    }

    private static MethodNode method(ClassNode node, String name) {
        return node.methods.stream().filter(m -> m.name.equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(node.name + " has no method " + name));
    }

    private static int hookCalls(MethodNode method, String hook) {
        int count = 0;
        for (AbstractInsnNode node : method.instructions) {
            if (node instanceof MethodInsnNode call && call.owner.equals(HookCalls.HOOKS) && call.name.equals(hook)) {
                count++;
            }
        }
        return count;
    }

    @Test
    void theFixtureConfigHasNoEntryForTheAnnotatedClass() {
        assertFalse(config.isRoot("fixture.Annotated", "SHARED"));
        assertFalse(config.isTransient("fixture.Annotated", "upperTitle"));
        assertNull(config.onLoadMethod("fixture.Annotated"));
    }

    @Test
    void annotationsAreRecordedAsConfigEntriesWhenTheirClassIsRewritten() {
        rewrite("fixture.Annotated");
        assertTrue(config.isRoot("fixture.Annotated", "SHARED"), "@Root");
        assertTrue(config.isTransient("fixture.Annotated", "upperTitle"), "@Transient");
        assertTrue(config.isTransient("fixture.Annotated", "onLoadRuns"), "@Transient");
        assertFalse(config.isTransient("fixture.Annotated", "title"), "not annotated");
        assertEquals("rebuild", config.onLoadMethod("fixture.Annotated"), "@OnLoad");
        assertTrue(config.isTransient("fixture.Account", "cache"), "the config's own entries still count (union)");
        assertEquals(List.of(), reports, "nothing is misplaced");
    }

    @Test
    void anAnnotatedRootIsRewrittenAndLosesFinal() {
        ClassNode annotated = rewrite("fixture.Annotated");
        assertEquals(0, annotated.fields.stream().filter(f -> f.name.equals("SHARED")).findFirst().orElseThrow().access
                & ACC_FINAL, "the runtime stores the shared instance into it");
        assertEquals(1, hookCalls(method(annotated, "<clinit>"), HookCalls.ASSIGN_ROOT));
    }

    @Test
    void aRootReadIsRewrittenInAClassRewrittenBeforeTheRootsClass() {
        ClassNode reader = rewrite("fixture.AnnotatedReader");
        assertFalse(config.isRoot("fixture.Annotated", "SHARED"), "fixture.Annotated was not rewritten yet");
        MethodNode read = method(reader, "read");
        int rootReads = 0;
        for (AbstractInsnNode node : read.instructions) {
            if (node instanceof FieldInsnNode get && get.getOpcode() == GETSTATIC && get.name.equals("SHARED")) {
                rootReads++;
            }
        }
        assertEquals(1, rootReads);
        assertEquals(1, hookCalls(read, HookCalls.READ_ROOT), "@Root read from Annotated's class file");
    }

    @Test
    void autolockReadMethodsTakeTheReadLock() {
        ClassNode annotated = rewrite("fixture.Annotated");
        assertEquals(1, hookCalls(method(annotated, "peek"), HookCalls.MONITOR_ENTER_READ), "a synchronized method");
        assertEquals(0, hookCalls(method(annotated, "peek"), HookCalls.MONITOR_ENTER));
        assertEquals(1, hookCalls(method(annotated, "peekInBlock"), HookCalls.MONITOR_ENTER_READ), "a synchronized block");
        assertEquals(1, hookCalls(method(annotated, "rename"), HookCalls.MONITOR_ENTER), "not annotated: the write lock");
    }

    @Test
    void annotatedClassesPassTheVerifier() throws Exception {
        RewritingLoader loader = new RewritingLoader(RewritingLoader.fixtureConfig());
        for (String name : new String[] {"fixture.Annotated", "fixture.AnnotatedReader", "fixture.Misplaced"}) {
            StringWriter problems = new StringWriter();
            CheckClassAdapter.verify(new ClassReader(loader.rewritten(name)), loader, false, new PrintWriter(problems));
            assertEquals("", problems.toString(), name + " does not verify");
        }
    }

    @Test
    void misplacedAnnotationsAreReportedAndNotRecorded() {
        rewrite("fixture.Misplaced");
        assertEquals(4, reports.size(), String.join("\n", reports));
        assertTrue(reports.contains("ERROR: @Root on instance field fixture.Misplaced.instanceRoot does nothing: a root is a "
                + "static field; make it static or remove @Root"), String.join("\n", reports));
        assertTrue(reports.contains("ERROR: @Root on fixture.Misplaced.COUNT does nothing: a root holds an object, not a "
                + "primitive (int); wrap the value in an object"), String.join("\n", reports));
        assertTrue(reports.contains("ERROR: @Transient on static field fixture.Misplaced.STATIC_NOTE does nothing: static "
                + "fields are never shared (a shared static is a @Root); remove @Transient"), String.join("\n", reports));
        assertTrue(reports.contains("ERROR: @OnLoad: fixture.Misplaced.reload(int) takes parameters; an on-load method "
                + "takes none"), String.join("\n", reports));
        assertFalse(config.isRoot("fixture.Misplaced", "instanceRoot"));
        assertFalse(config.isRoot("fixture.Misplaced", "COUNT"));
        assertEquals("reload", config.onLoadMethod("fixture.Misplaced"),
                "recorded, so the runtime refuses the class instead of skipping its on-load method");
    }

    @Test
    void annotationsOutsideInstrumentAreReportedOncePerClass() {
        rewriter.reportIfAnnotated(RewritingLoader.original("plain.AnnotatedOutside"));
        rewriter.reportIfAnnotated(RewritingLoader.original("plain.AnnotatedOutside"));
        rewriter.reportIfAnnotated(RewritingLoader.original("plain.NotAnnotated"));
        rewriter.reportIfAnnotated(RewritingLoader.original("java.lang.String"));
        assertEquals(List.of("WARNING: class plain.AnnotatedOutside has @Root on CURRENT, @OnLoad on reload(), but "
                + "`instrument` in fixture.toml does not match it, so they do nothing; add \"plain.AnnotatedOutside\" (or "
                + "\"plain.**\") to instrument"), reports);
        assertFalse(config.isRoot("plain.AnnotatedOutside", "CURRENT"), "nothing recorded");
    }

    @Test
    void theByteSearchFindsTheAnnotationsPackageOnly() {
        assertTrue(ClassAnnotations.mentioned(RewritingLoader.original("fixture.Annotated")));
        assertTrue(ClassAnnotations.mentioned(RewritingLoader.original("plain.AnnotatedOutside")));
        assertFalse(ClassAnnotations.mentioned(RewritingLoader.original("fixture.Account")));
        assertFalse(ClassAnnotations.mentioned(RewritingLoader.original("plain.NotAnnotated")));
        assertFalse(ClassAnnotations.mentioned(new byte[0]));
    }

    @Test
    void anOnLoadInTheConfigThatDisagreesWithOnLoadIsReported() {
        AgentConfig both = AgentConfig.parse("both.toml", "endpoints = \"x:1\"\ninstrument = [\"fixture.**\"]\n"
                + "on-load = [\"fixture.Annotated.peek\"]\n", Map.of());
        List<String> lines = new ArrayList<>();
        new ClassRewriter(both, lines::add).rewrite(getClass().getClassLoader(), RewritingLoader.original("fixture.Annotated"));
        assertEquals(List.of("WARNING: fixture.Annotated has @OnLoad on rebuild(), but both.toml:3 names peek() as its "
                + "on-load method; peek() runs (a class has one on-load method): remove one of the two"), lines);
        assertEquals("peek", both.onLoadMethod("fixture.Annotated"), "the config's entry wins");
    }

    @Test
    void aWrongConfigOnLoadMethodIsReportedWhenItsClassIsRewritten() {
        AgentConfig wrong = AgentConfig.parse("wrong.toml", "endpoints = \"x:1\"\ninstrument = [\"fixture.**\"]\n"
                + "on-load = [\"fixture.Account.deposit\"]\n", Map.of());
        List<String> lines = new ArrayList<>();
        new ClassRewriter(wrong, lines::add).rewrite(getClass().getClassLoader(), RewritingLoader.original("fixture.Account"));
        assertEquals(List.of("ERROR: on-load \"fixture.Account.deposit\" (wrong.toml:3): fixture.Account.deposit(long) "
                + "takes parameters; an on-load method takes none; objects of fixture.Account cannot be shared or loaded "
                + "until it is fixed"), lines);
    }
}
