package org.sovereign.agent.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.MethodInsnNode;
import org.sovereign.agent.runtime.Hooks;

/** Every call the transformer emits names a public static method of {@link Hooks} with that exact descriptor. */
class HookCallsTest {
    private static void assertHookExists(MethodInsnNode call) {
        assertEquals(Type.getInternalName(Hooks.class), call.owner);
        for (Method method : Hooks.class.getMethods()) {
            if (method.getName().equals(call.name) && Type.getMethodDescriptor(method).equals(call.desc)) {
                assertTrue(Modifier.isStatic(method.getModifiers()), call.name + " is static");
                return;
            }
        }
        throw new AssertionError("Hooks has no public method " + call.name + call.desc);
    }

    @Test
    void everyEmittedCallExists() {
        List<MethodInsnNode> calls = List.of(HookCalls.monitorEnter(false), HookCalls.monitorEnter(true),
                HookCalls.monitorExit(), HookCalls.call(HookCalls.BEFORE_WRITE, HookCalls.BEFORE_WRITE_DESCRIPTOR),
                HookCalls.call(HookCalls.READ_ROOT, HookCalls.ROOT_DESCRIPTOR),
                HookCalls.call(HookCalls.ASSIGN_ROOT, HookCalls.ROOT_DESCRIPTOR),
                HookCalls.objectMonitorCall("wait", "()V"), HookCalls.objectMonitorCall("wait", "(J)V"),
                HookCalls.objectMonitorCall("wait", "(JI)V"), HookCalls.objectMonitorCall("notify", "()V"),
                HookCalls.objectMonitorCall("notifyAll", "()V"));
        for (MethodInsnNode call : calls) {
            assertHookExists(call);
        }
    }

    @Test
    void onlyObjectsMonitorMethodsAreReplaced() {
        assertNull(HookCalls.objectMonitorCall("wait", "(I)V"), "a user's wait(int) is not Object's");
        assertNull(HookCalls.objectMonitorCall("notify", "(J)V"));
        assertNull(HookCalls.objectMonitorCall("hashCode", "()I"));
    }
}
