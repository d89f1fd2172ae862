package org.sovereign.agent.runtime;

import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.heap.HeapException;

/**
 * The on-load method of an instrumented class, found by reflection: the method the config's
 * {@code on-load} or {@code @OnLoad} names for the class, or else for its nearest instrumented
 * superclass that has one (one method per object, called virtually, so an override runs; an
 * on-load method may call its superclass's). The named method may be declared by the class or
 * inherited. It must be an instance method without parameters; a class whose on-load method is
 * missing or wrong cannot be shared or loaded (its {@link ClassMeta#problem} says why).
 */
final class OnLoadMethod {
    /** The method, or the problem that stops the class from being shared; both null when the class has none. */
    record Found(OnLoadMethod method, String problem) {
        static final Found NONE = new Found(null, null);
    }

    final Method method;

    private OnLoadMethod(Method method) {
        this.method = method;
    }

    /** The on-load method of {@code type} (an instrumented class): see the class comment. */
    static Found find(Class<?> type, AgentConfig config) {
        for (Class<?> k = type; k != null && Shareable.class.isAssignableFrom(k) && config.isInstrumented(k.getName());
                k = k.getSuperclass()) {
            String name = config.onLoadMethod(k.getName());
            if (name != null) {
                return resolve(k, name);
            }
        }
        return Found.NONE;
    }

    private static Found resolve(Class<?> named, String name) {
        String fix = ": fix it, or the on-load entry in the agent config (or the @OnLoad annotation) that names it";
        for (Class<?> k = named; k != null && k != Object.class; k = k.getSuperclass()) {
            Method unfit = null;
            for (Method candidate : k.getDeclaredMethods()) {
                if (!candidate.getName().equals(name) || candidate.isBridge()) {
                    continue;
                }
                if (candidate.getParameterCount() == 0 && !Modifier.isStatic(candidate.getModifiers())) {
                    try {
                        candidate.setAccessible(true);
                    } catch (InaccessibleObjectException e) {
                        return new Found(null, "its on-load method " + describe(candidate) + " cannot be called by the "
                                + "agent (" + e.getMessage() + "); open its package to the agent");
                    }
                    return new Found(new OnLoadMethod(candidate), null);
                }
                unfit = unfit == null ? candidate : unfit;
            }
            if (unfit != null) {
                return new Found(null, "its on-load method " + describe(unfit) + (Modifier.isStatic(unfit.getModifiers())
                        ? " is static, and an on-load method is an instance method" : " takes parameters, and an on-load "
                        + "method takes none") + fix);
            }
        }
        return new Found(null, "its on-load method " + named.getName() + "." + name + "() does not exist" + fix);
    }

    /** "demo.Topic.rebuild(int)": for messages. */
    static String describe(Method method) {
        return method.getDeclaringClass().getName() + "." + method.getName() + "(" + Arrays.stream(method.getParameterTypes())
                .map(Class::getName).collect(Collectors.joining(", ")) + ")";
    }

    /**
     * Runs the method on {@code instance}, loaded as {@code state}. What it throws becomes an
     * {@link OnLoadException} naming both, except a {@link VirtualMachineError} (out of memory, stack
     * overflow), which is thrown as it is.
     */
    void run(Object instance, SharedState state) {
        try {
            method.invoke(instance);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof VirtualMachineError error) {
                throw error;
            }
            throw new OnLoadException("the on-load method " + describe(method) + " of " + state.describe() + " threw "
                    + cause + " after the object was loaded into this JVM. The object stays loaded, with its transient "
                    + "fields as the method left them, and the method does not run again for it here: fix the method "
                    + "(it should only rebuild this JVM's transient state from the object's fields)", cause);
        } catch (IllegalAccessException e) {
            throw new HeapException("cannot call the on-load method " + describe(method) + " (" + e + "); please report it",
                    e);
        }
    }
}
