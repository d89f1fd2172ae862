package org.sovereign.agent.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.FieldNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TryCatchBlockNode;
import org.objectweb.asm.util.CheckClassAdapter;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.agent.runtime.Shareable;

/**
 * The transformer on real class files (the {@code fixture} classes, compiled by javac): each kind of
 * instruction it rewrites, synchronized methods (including one that throws), constructors, inherited
 * fields, an inner class and a lambda; that the result passes ASM's verifier; that it behaves as the
 * original while nothing is shared (no agent runtime, no cluster); and what it leaves alone.
 */
class ClassRewriterTest implements Opcodes {
    static final String[] FIXTURES = {"fixture.Account", "fixture.Account$Status", "fixture.Savings", "fixture.Outer",
        "fixture.Outer$Inner", "fixture.Scenario"};

    private final RewritingLoader loader = new RewritingLoader(RewritingLoader.fixtureConfig());

    private ClassNode rewrittenNode(String name) throws ClassNotFoundException {
        ClassNode node = new ClassNode();
        new ClassReader(loader.rewritten(name)).accept(node, 0);
        return node;
    }

    private static MethodNode method(ClassNode node, String name) {
        return node.methods.stream().filter(m -> m.name.equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(node.name + " has no method " + name));
    }

    private static boolean isHook(AbstractInsnNode node, String name) {
        return node instanceof MethodInsnNode call && call.getOpcode() == INVOKESTATIC
                && call.owner.equals(HookCalls.HOOKS) && call.name.equals(name);
    }

    private static List<AbstractInsnNode> withOpcode(MethodNode method, int opcode) {
        List<AbstractInsnNode> found = new ArrayList<>();
        for (AbstractInsnNode node : method.instructions) {
            if (node.getOpcode() == opcode) {
                found.add(node);
            }
        }
        return found;
    }

    /** The closest real instruction before {@code node}. */
    private static AbstractInsnNode previous(AbstractInsnNode node) {
        AbstractInsnNode previous = node.getPrevious();
        while (previous != null && previous.getOpcode() < 0) {
            previous = previous.getPrevious();
        }
        return previous;
    }

    private static int hookCalls(MethodNode method, String hook) {
        int count = 0;
        for (AbstractInsnNode node : method.instructions) {
            count += isHook(node, hook) ? 1 : 0;
        }
        return count;
    }

    @Test
    void monitorInstructionsGetTheirHookRightBefore() throws Exception {
        MethodNode block = method(rewrittenNode("fixture.Account"), "depositInBlock");
        List<AbstractInsnNode> enters = withOpcode(block, MONITORENTER);
        List<AbstractInsnNode> exits = withOpcode(block, MONITOREXIT);
        assertEquals(1, enters.size());
        assertEquals(2, exits.size(), "javac's normal exit and its exception handler");
        assertTrue(isHook(previous(enters.get(0)), HookCalls.MONITOR_ENTER), "the cluster lock comes first");
        for (AbstractInsnNode exit : exits) {
            assertTrue(isHook(previous(exit), HookCalls.MONITOR_EXIT), "released before the JVM monitor");
        }
    }

    @Test
    void synchronizedMethodsBecomeBlocksReleasedOnEveryExit() throws Exception {
        MethodNode withdraw = method(rewrittenNode("fixture.Account"), "withdraw");
        assertEquals(0, withdraw.access & ACC_SYNCHRONIZED, "the JVM must not take the monitor before the hook");
        assertEquals(1, withOpcode(withdraw, MONITORENTER).size());
        // One exit per return, one in the catch-all handler.
        assertEquals(withOpcode(withdraw, LRETURN).size() + 1, withOpcode(withdraw, MONITOREXIT).size());
        TryCatchBlockNode last = withdraw.tryCatchBlocks.get(withdraw.tryCatchBlocks.size() - 1);
        assertNull(last.type, "a catch-all, last so the method's own handlers come first");
        AbstractInsnNode handlerCode = last.handler.getNext();
        while (handlerCode.getOpcode() < 0) {
            handlerCode = handlerCode.getNext();
        }
        List<Integer> handler = new ArrayList<>();
        for (AbstractInsnNode node = handlerCode; node != null; node = node.getNext()) {
            if (node.getOpcode() >= 0) {
                handler.add(node.getOpcode());
            }
        }
        assertEquals(List.of(ALOAD, DUP, INVOKESTATIC, MONITOREXIT, ATHROW), handler, "release, then rethrow");
    }

    @Test
    void readLevelAutolockMethodsTakeTheReadLock() throws Exception {
        ClassNode account = rewrittenNode("fixture.Account");
        assertEquals(1, hookCalls(method(account, "peekBalance"), HookCalls.MONITOR_ENTER_READ));
        assertEquals(0, hookCalls(method(account, "peekBalance"), HookCalls.MONITOR_ENTER));
        assertEquals(1, hookCalls(method(account, "deposit"), HookCalls.MONITOR_ENTER));
    }

    @Test
    void everyFieldWriteOfAnInstrumentedClassIsChecked() throws Exception {
        MethodNode setAll = method(rewrittenNode("fixture.Account"), "setAll");
        List<AbstractInsnNode> puts = withOpcode(setAll, PUTFIELD);
        assertEquals(11, puts.size(), "setAll writes eleven fields");
        assertEquals(puts.size(), hookCalls(setAll, HookCalls.BEFORE_WRITE), "one check per write, every kind");
        for (AbstractInsnNode put : puts) {
            // ... IFNULL plain; DUP; load; box; LDC key; beforeWrite; plain: load; PUTFIELD
            assertTrue(previous(put).getOpcode() >= ILOAD && previous(put).getOpcode() <= ALOAD,
                    "the parked value is loaded back for the plain write");
        }
    }

    @Test
    void aReferenceWriteStoresWhatTheHookReturnsAndAPrimitiveWriteDropsIt() throws Exception {
        MethodNode setAll = method(rewrittenNode("fixture.Account"), "setAll");
        int references = 0;
        int primitives = 0;
        for (AbstractInsnNode node : setAll.instructions) {
            if (!isHook(node, HookCalls.BEFORE_WRITE)) {
                continue;
            }
            AbstractInsnNode next = node.getNext();
            if (next.getOpcode() == CHECKCAST) {
                // The hook may return a shared copy (a plain collection's): it replaces the parked value.
                assertEquals(ASTORE, next.getNext().getOpcode(), "the kept value goes back to the scratch slot");
                references++;
            } else {
                assertEquals(POP, next.getOpcode(), "a primitive write has nothing to replace");
                primitives++;
            }
        }
        assertEquals(5, references, "boxed, status, loose, partner, cache");
        assertEquals(6, primitives, "branch, flags, grade, ratio, rate, open");
    }

    @Test
    void inheritedFieldsAreCheckedUnderTheirWritingClassName() throws Exception {
        MethodNode addInterest = method(rewrittenNode("fixture.Savings"), "addInterest");
        assertEquals(2, hookCalls(addInterest, HookCalls.BEFORE_WRITE), "balance (inherited) and interest");
        ClassNode savings = rewrittenNode("fixture.Savings");
        assertFalse(savings.interfaces.contains("org/sovereign/agent/runtime/Shareable"), "inherited from Account");
        assertTrue(savings.fields.stream().noneMatch(f -> f.name.equals(Shareable.STATE_FIELD)),
                "the state field is inherited from Account, not declared again");
    }

    @Test
    void constructorWritesBeforeSuperStayPlain() throws Exception {
        ClassNode inner = rewrittenNode("fixture.Outer$Inner");
        MethodNode constructor = method(inner, "<init>");
        AbstractInsnNode superCall = MethodRewriter.superConstructorCall(constructor);
        assertNotNull(superCall);
        int before = 0;
        int after = 0;
        boolean seenSuper = false;
        for (AbstractInsnNode node : constructor.instructions) {
            seenSuper |= node == superCall;
            if (isHook(node, HookCalls.BEFORE_WRITE)) {
                after += seenSuper ? 1 : 0;
                before += seenSuper ? 0 : 1;
            }
        }
        assertEquals(0, before, "this$0 is stored before super(): the object is not even initialized");
        assertEquals(1, after, "the field initializer (depth = 1) runs after super() and is checked");
    }

    @Test
    void lambdaBodiesAndInnerClassesAreRewritten() throws Exception {
        ClassNode outer = rewrittenNode("fixture.Outer");
        MethodNode lambda = outer.methods.stream().filter(m -> m.name.startsWith("lambda$")).findFirst()
                .orElseThrow(() -> new AssertionError("javac made no lambda method"));
        assertEquals(1, hookCalls(lambda, HookCalls.BEFORE_WRITE), "the lambda writes Outer.total");
        assertEquals(1, hookCalls(method(rewrittenNode("fixture.Outer$Inner"), "addToOuter"), HookCalls.BEFORE_WRITE),
                "the inner class writes Outer.total through this$0");
    }

    @Test
    void waitAndNotifyGoThroughHooks() throws Exception {
        ClassNode account = rewrittenNode("fixture.Account");
        assertEquals(1, hookCalls(method(account, "awaitBalance"), HookCalls.OBJECT_WAIT));
        assertEquals(1, hookCalls(method(account, "depositAndNotify"), HookCalls.OBJECT_NOTIFY));
        assertEquals(1, hookCalls(method(account, "depositAndNotify"), HookCalls.OBJECT_NOTIFY_ALL));
        for (MethodNode method : account.methods) {
            for (AbstractInsnNode node : method.instructions) {
                if (node instanceof MethodInsnNode call && call.getOpcode() == INVOKEVIRTUAL) {
                    assertNull(HookCalls.objectMonitorCall(call.name, call.desc), "left in place: " + call.name);
                }
            }
        }
    }

    @Test
    void rootAccessesGoThroughHooksAndRootsLoseFinal() throws Exception {
        ClassNode account = rewrittenNode("fixture.Account");
        MethodNode clinit = method(account, "<clinit>");
        AbstractInsnNode put = withOpcode(clinit, PUTSTATIC).stream()
                .filter(node -> ((FieldInsnNode) node).name.equals("ROOT")).findFirst().orElseThrow();
        assertEquals(CHECKCAST, previous(put).getOpcode());
        assertTrue(isHook(previous(previous(put)), HookCalls.ASSIGN_ROOT));
        MethodNode run = method(rewrittenNode("fixture.Scenario"), "run");
        AbstractInsnNode get = withOpcode(run, GETSTATIC).stream()
                .filter(node -> ((FieldInsnNode) node).name.equals("ROOT")).findFirst().orElseThrow();
        AbstractInsnNode afterGet = get.getNext().getNext().getNext();
        assertTrue(isHook(afterGet, HookCalls.READ_ROOT), "GETSTATIC, LDC owner, LDC name, readRoot");
        FieldNode root = account.fields.stream().filter(f -> f.name.equals("ROOT")).findFirst().orElseThrow();
        assertEquals(0, root.access & ACC_FINAL, "the runtime stores the shared instance into it");
    }

    @Test
    void theTopInstrumentedClassGetsTheStateFieldAndAccessors() throws Exception {
        ClassNode account = rewrittenNode("fixture.Account");
        assertTrue(account.interfaces.contains("org/sovereign/agent/runtime/Shareable"));
        FieldNode state = account.fields.stream().filter(f -> f.name.equals(Shareable.STATE_FIELD)).findFirst()
                .orElseThrow();
        assertEquals(ACC_PUBLIC | ACC_TRANSIENT | ACC_SYNTHETIC, state.access);
        assertTrue(Shareable.class.isAssignableFrom(loader.loadClass("fixture.Savings")));
    }

    @Test
    void rewrittenClassesPassTheVerifier() throws Exception {
        for (String name : FIXTURES) {
            StringWriter problems = new StringWriter();
            CheckClassAdapter.verify(new ClassReader(loader.rewritten(name)), loader, false, new PrintWriter(problems));
            assertEquals("", problems.toString(), name + " does not verify");
        }
    }

    @Test
    void rewrittenCodeBehavesAsTheOriginalWhileNothingIsShared() throws Exception {
        String original = fixture.Scenario.run();
        Method rewrittenRun = loader.loadClass("fixture.Scenario").getMethod("run");
        String rewritten = (String) rewrittenRun.invoke(null);
        assertTrue(original.contains("withdraw threw: balance 120 is less than 1000"), original);
        assertTrue(original.contains("another thread entered after the throw: true"), original);
        assertTrue(original.contains("wait woken by a notify: 1000"), original);
        assertEquals(original, rewritten);
    }

    @Test
    void classesOutsideInstrumentAreLeftAlone() {
        ClassRewriter rewriter = new ClassRewriter(RewritingLoader.fixtureConfig());
        assertNull(rewriter.rewrite(null, RewritingLoader.original("java.lang.String")), "a JDK class");
        assertNull(rewriter.rewrite(null, RewritingLoader.original("demo.Counter")), "not matched by instrument");
        AgentConfig everything = AgentConfig.parse("all.toml", "endpoints = \"x:1\"\ninstrument = [\"**\"]\n", Map.of());
        assertNull(new ClassRewriter(everything).rewrite(null,
                RewritingLoader.original("org.sovereign.agent.runtime.Hooks")), "the agent itself, even with **");
    }

    @Test
    void aRewrittenClassIsNotRewrittenTwice() throws Exception {
        assertNull(new ClassRewriter(RewritingLoader.fixtureConfig()).rewrite(loader, loader.rewritten("fixture.Account")));
    }

    @Test
    void superclassFactsAreReadWithoutLoadingAnyClass() {
        ClassLoader resourcesOnly = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) {
                throw new AssertionError("the transformer loaded " + name);
            }
        };
        ClassRewriter rewriter = new ClassRewriter(RewritingLoader.fixtureConfig());
        for (String name : FIXTURES) {
            assertNotNull(rewriter.rewrite(resourcesOnly, RewritingLoader.original(name)), name);
        }
    }
}
