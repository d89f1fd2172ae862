package org.sovereign.agent.transform;

import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TryCatchBlockNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * Turns a synchronized instance method into a plain method whose body is a synchronized block on
 * {@code this}, as javac compiles {@code synchronized (this) { body }}: the JVM would take the
 * monitor before any code of ours runs, while a shared object's cluster lock must come first. Every
 * exit releases: each return runs the exit hook and MONITOREXIT, and a catch-all handler, last in
 * the exception table so the method's own handlers still come first, does the same and rethrows.
 * The returns themselves stay outside the handler's ranges (as javac's do), so the JIT still sees
 * balanced monitors.
 */
final class SynchronizedMethods implements Opcodes {
    private SynchronizedMethods() {}

    static void convert(MethodNode method, boolean read) {
        method.access &= ~ACC_SYNCHRONIZED;
        int lock = method.maxLocals;
        method.maxLocals += 1;
        InsnList code = method.instructions;
        AbstractInsnNode[] body = code.toArray();

        LabelNode start = new LabelNode();
        InsnList prologue = new InsnList();
        // The lock object in its own slot: the body may reuse slot 0.
        prologue.add(new VarInsnNode(ALOAD, 0));
        prologue.add(new VarInsnNode(ASTORE, lock));
        prologue.add(new VarInsnNode(ALOAD, lock));
        prologue.add(new InsnNode(DUP));
        prologue.add(HookCalls.monitorEnter(read));
        prologue.add(new InsnNode(MONITORENTER));
        prologue.add(start);
        code.insert(prologue);

        List<LabelNode[]> ranges = new ArrayList<>();
        LabelNode rangeStart = start;
        for (AbstractInsnNode instruction : body) {
            int opcode = instruction.getOpcode();
            if (opcode >= IRETURN && opcode <= RETURN) {
                LabelNode rangeEnd = new LabelNode();
                InsnList exit = release(lock);
                exit.add(rangeEnd);
                code.insertBefore(instruction, exit);
                LabelNode next = new LabelNode();
                code.insert(instruction, next);
                ranges.add(new LabelNode[] {rangeStart, rangeEnd});
                rangeStart = next;
            }
        }
        LabelNode handler = new LabelNode();
        ranges.add(new LabelNode[] {rangeStart, handler});
        code.add(handler);
        code.add(release(lock));
        code.add(new InsnNode(ATHROW));
        for (LabelNode[] range : ranges) {
            if (hasInstruction(range[0], range[1])) {
                method.tryCatchBlocks.add(new TryCatchBlockNode(range[0], range[1], handler, null));
            }
        }
    }

    private static InsnList release(int lock) {
        InsnList list = new InsnList();
        list.add(new VarInsnNode(ALOAD, lock));
        list.add(new InsnNode(DUP));
        list.add(HookCalls.monitorExit());
        list.add(new InsnNode(MONITOREXIT));
        return list;
    }

    /** Whether real code lies between two labels (an empty exception range is invalid in a class file). */
    private static boolean hasInstruction(LabelNode from, LabelNode to) {
        for (AbstractInsnNode node = from.getNext(); node != null && node != to; node = node.getNext()) {
            if (node.getOpcode() >= 0) {
                return true;
            }
        }
        return false;
    }
}
