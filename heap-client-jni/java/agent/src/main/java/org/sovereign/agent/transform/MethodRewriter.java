package org.sovereign.agent.transform;

import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TypeInsnNode;
import org.objectweb.asm.tree.VarInsnNode;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.agent.runtime.Shareable;

/**
 * Rewrites one method of an instrumented class, instruction by instruction:
 * <ul>
 *   <li>MONITORENTER / MONITOREXIT: a hook call first (the cluster lock before the JVM monitor,
 *       released before it), the monitor instruction unchanged, so monitors stay balanced for the JIT;
 *   <li>PUTFIELD of an instrumented class's field: if the object's state is not null, a hook checks
 *       and records the write and returns the value to store (for a reference field: the value, or
 *       the shared copy of a plain java.util collection; a primitive write drops it), then the plain
 *       PUTFIELD (an unshared object costs one null check); PUTFIELDs before the constructor's
 *       super() call stay plain (the object is not even initialized, let alone shared);
 *   <li>GETSTATIC / PUTSTATIC of a root (config or {@code @Root}, see {@link RootFields}): through the root hooks;
 *   <li>{@code wait/notify/notifyAll}: a hook with the receiver as first argument;
 *   <li>a synchronized instance method: made a synchronized block over its body
 *       ({@link SynchronizedMethods}), so its lock follows the same order.
 * </ul>
 * Its lock hooks take the read lock when an {@code [[autolock]]} entry makes the method read-level
 * or it carries {@code @AutolockRead}.
 */
final class MethodRewriter implements Opcodes {
    /** Which static fields are roots, asked per GETSTATIC/PUTSTATIC of a reference type. */
    interface RootFields {
        /** Whether static field {@code field} of class {@code owner} (internal name) is a root. */
        boolean isRoot(String owner, String field);
    }

    private final AgentConfig config;
    private final String className;
    private final MethodNode method;
    private final RootFields roots;
    /** Two local slots where a PUTFIELD's value waits while the state is checked; allocated on first use. */
    private int scratch = -1;

    MethodRewriter(AgentConfig config, String className, MethodNode method, RootFields roots) {
        this.config = config;
        this.className = className;
        this.method = method;
        this.roots = roots;
    }

    void rewrite() {
        if ((method.access & (ACC_ABSTRACT | ACC_NATIVE)) != 0) {
            return;
        }
        boolean read = config.lockLevel(className.replace('/', '.'), method.name) == AgentConfig.LockLevel.READ
                || ClassAnnotations.isAutolockRead(method);
        AbstractInsnNode superCall = method.name.equals("<init>") ? superConstructorCall(method) : null;
        boolean beforeSuper = superCall != null;
        for (AbstractInsnNode instruction : method.instructions.toArray()) {
            switch (instruction.getOpcode()) {
                case MONITORENTER:
                    method.instructions.insertBefore(instruction, withReceiver(HookCalls.monitorEnter(read)));
                    break;
                case MONITOREXIT:
                    method.instructions.insertBefore(instruction, withReceiver(HookCalls.monitorExit()));
                    break;
                case PUTFIELD:
                    if (!beforeSuper) {
                        putField((FieldInsnNode) instruction);
                    }
                    break;
                case GETSTATIC:
                case PUTSTATIC:
                    rootAccess((FieldInsnNode) instruction);
                    break;
                case INVOKEVIRTUAL:
                case INVOKEINTERFACE: {
                    MethodInsnNode call = (MethodInsnNode) instruction;
                    MethodInsnNode hook = HookCalls.objectMonitorCall(call.name, call.desc);
                    if (hook != null) {
                        method.instructions.set(call, hook);
                    }
                    break;
                }
                default:
                    break;
            }
            if (instruction == superCall) {
                beforeSuper = false;
            }
        }
        if ((method.access & ACC_SYNCHRONIZED) != 0 && (method.access & ACC_STATIC) == 0) {
            SynchronizedMethods.convert(method, read);
        }
    }

    /**
     * The constructor's call of super(...) or this(...): the first INVOKESPECIAL of {@code <init>}
     * not paired with a NEW before it (javac evaluates the arguments, which may construct other
     * objects, first). Null when there is none.
     */
    static AbstractInsnNode superConstructorCall(MethodNode constructor) {
        int pendingNews = 0;
        for (AbstractInsnNode instruction : constructor.instructions) {
            if (instruction.getOpcode() == NEW) {
                pendingNews++;
            } else if (instruction.getOpcode() == INVOKESPECIAL && ((MethodInsnNode) instruction).name.equals("<init>")) {
                if (pendingNews == 0) {
                    return instruction;
                }
                pendingNews--;
            }
        }
        return null;
    }

    /** DUP and the hook: the hook consumes the copy, the monitor instruction the original. */
    private static InsnList withReceiver(MethodInsnNode hook) {
        InsnList list = new InsnList();
        list.add(new InsnNode(DUP));
        list.add(hook);
        return list;
    }

    private void putField(FieldInsnNode put) {
        if (!config.isInstrumented(put.owner.replace('/', '.')) || put.name.equals(Shareable.STATE_FIELD)) {
            return;
        }
        Type type = Type.getType(put.desc);
        int slot = scratch();
        LabelNode plain = new LabelNode();
        InsnList check = new InsnList();
        // stack: owner, value -> owner (value parked in the scratch slot)
        check.add(new VarInsnNode(type.getOpcode(ISTORE), slot));
        check.add(new InsnNode(DUP));
        check.add(new FieldInsnNode(GETFIELD, put.owner, Shareable.STATE_FIELD, Shareable.STATE_DESCRIPTOR));
        check.add(new JumpInsnNode(IFNULL, plain));
        check.add(new InsnNode(DUP));
        check.add(new VarInsnNode(type.getOpcode(ILOAD), slot));
        box(check, type);
        check.add(new LdcInsnNode(put.owner.replace('/', '.') + "." + put.name));
        check.add(HookCalls.call(HookCalls.BEFORE_WRITE, HookCalls.BEFORE_WRITE_DESCRIPTOR));
        if (type.getSort() == Type.OBJECT || type.getSort() == Type.ARRAY) {
            // stack: owner, kept -> owner (the kept value replaces the parked one)
            check.add(new TypeInsnNode(CHECKCAST, type.getInternalName()));
            check.add(new VarInsnNode(ASTORE, slot));
        } else {
            check.add(new InsnNode(POP));
        }
        check.add(plain);
        check.add(new VarInsnNode(type.getOpcode(ILOAD), slot));
        method.instructions.insertBefore(put, check);
    }

    private int scratch() {
        if (scratch < 0) {
            scratch = method.maxLocals;
            method.maxLocals += 2;
        }
        return scratch;
    }

    private static void box(InsnList list, Type type) {
        String box;
        switch (type.getSort()) {
            case Type.BOOLEAN: box = "java/lang/Boolean"; break;
            case Type.BYTE: box = "java/lang/Byte"; break;
            case Type.CHAR: box = "java/lang/Character"; break;
            case Type.SHORT: box = "java/lang/Short"; break;
            case Type.INT: box = "java/lang/Integer"; break;
            case Type.LONG: box = "java/lang/Long"; break;
            case Type.FLOAT: box = "java/lang/Float"; break;
            case Type.DOUBLE: box = "java/lang/Double"; break;
            default: return;
        }
        list.add(new MethodInsnNode(INVOKESTATIC, box, "valueOf", "(" + type.getDescriptor() + ")L" + box + ";", false));
    }

    private void rootAccess(FieldInsnNode access) {
        Type type = Type.getType(access.desc);
        if ((type.getSort() != Type.OBJECT && type.getSort() != Type.ARRAY) || !roots.isRoot(access.owner, access.name)) {
            return;
        }
        InsnList call = new InsnList();
        call.add(new LdcInsnNode(Type.getObjectType(access.owner)));
        call.add(new LdcInsnNode(access.name));
        boolean read = access.getOpcode() == GETSTATIC;
        call.add(HookCalls.call(read ? HookCalls.READ_ROOT : HookCalls.ASSIGN_ROOT, HookCalls.ROOT_DESCRIPTOR));
        call.add(new TypeInsnNode(CHECKCAST, type.getInternalName()));
        if (read) {
            method.instructions.insert(access, call);
        } else {
            method.instructions.insertBefore(access, call);
        }
    }
}
