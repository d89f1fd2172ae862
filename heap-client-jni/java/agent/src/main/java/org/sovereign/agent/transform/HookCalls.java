package org.sovereign.agent.transform;

import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.MethodInsnNode;
import org.sovereign.agent.runtime.Hooks;

/**
 * The calls rewritten code makes into {@link Hooks}: one place for their names and descriptors
 * (HookCallsTest checks each against the class by reflection).
 */
final class HookCalls {
    static final String HOOKS = Type.getInternalName(Hooks.class);
    static final String OBJECT = "java/lang/Object";

    static final String MONITOR_ENTER = "monitorEnter";
    static final String MONITOR_ENTER_READ = "monitorEnterRead";
    static final String MONITOR_EXIT = "monitorExit";
    static final String MONITOR_DESCRIPTOR = "(Ljava/lang/Object;)V";
    static final String BEFORE_WRITE = "beforeWrite";
    /** Returns what the field must hold (the value, or a plain collection's shared copy). */
    static final String BEFORE_WRITE_DESCRIPTOR = "(Ljava/lang/Object;Ljava/lang/Object;Ljava/lang/String;)Ljava/lang/Object;";
    static final String READ_ROOT = "readRoot";
    static final String ASSIGN_ROOT = "assignRoot";
    static final String ROOT_DESCRIPTOR = "(Ljava/lang/Object;Ljava/lang/Class;Ljava/lang/String;)Ljava/lang/Object;";
    static final String OBJECT_WAIT = "objectWait";
    static final String OBJECT_NOTIFY = "objectNotify";
    static final String OBJECT_NOTIFY_ALL = "objectNotifyAll";

    private HookCalls() {}

    static MethodInsnNode call(String name, String descriptor) {
        return new MethodInsnNode(Opcodes.INVOKESTATIC, HOOKS, name, descriptor, false);
    }

    static MethodInsnNode monitorEnter(boolean read) {
        return call(read ? MONITOR_ENTER_READ : MONITOR_ENTER, MONITOR_DESCRIPTOR);
    }

    static MethodInsnNode monitorExit() {
        return call(MONITOR_EXIT, MONITOR_DESCRIPTOR);
    }

    /**
     * The hook replacing a call of {@code Object.wait/notify/notifyAll} with descriptor
     * {@code descriptor} (the receiver becomes the first argument), or null for any other method.
     */
    static MethodInsnNode objectMonitorCall(String name, String descriptor) {
        boolean wait = name.equals("wait") && (descriptor.equals("()V") || descriptor.equals("(J)V")
                || descriptor.equals("(JI)V"));
        boolean notify = (name.equals("notify") || name.equals("notifyAll")) && descriptor.equals("()V");
        if (!wait && !notify) {
            return null;
        }
        String hook = wait ? OBJECT_WAIT : name.equals("notify") ? OBJECT_NOTIFY : OBJECT_NOTIFY_ALL;
        return call(hook, "(Ljava/lang/Object;" + descriptor.substring(1));
    }
}
