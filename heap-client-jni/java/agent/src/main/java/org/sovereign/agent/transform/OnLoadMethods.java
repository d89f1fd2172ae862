package org.sovereign.agent.transform;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodNode;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.agent.config.AgentConfigException;

/**
 * Checks on-load methods on class files, before their classes load: at start, every {@code on-load}
 * entry of the config whose class file the application class path has (a missing method, or one with
 * parameters, stops the JVM naming it); when an instrumented class is rewritten, its on-load method
 * from the config or {@code @OnLoad} (an error line if it is wrong). The runtime checks again by
 * reflection ({@code ClassMeta}) and refuses to share or load objects of a class whose on-load
 * method is wrong, so a class found only later (a web-app's) cannot slip through.
 */
final class OnLoadMethods implements Opcodes {
    private OnLoadMethods() {}

    /**
     * Checks every config entry whose class file {@code loader} finds (without loading any class);
     * returns the entries it could not check. Throws {@link AgentConfigException} naming the file, line
     * and method for a method that is missing, static, or takes parameters.
     */
    static List<AgentConfig.OnLoadEntry> checkAtStart(AgentConfig config, ClassLoader loader) {
        List<AgentConfig.OnLoadEntry> unchecked = new ArrayList<>();
        for (AgentConfig.OnLoadEntry entry : config.onLoadEntries()) {
            ClassNode node = read(loader, entry.className().replace('.', '/'));
            if (node == null) {
                unchecked.add(entry);
                continue;
            }
            String problem = problem(node, entry.method(), loader);
            if (problem != null) {
                throw new AgentConfigException(config.source() + ":" + entry.line() + ": on-load \"" + entry.fullName()
                        + "\": " + problem);
            }
        }
        return unchecked;
    }

    /**
     * What is wrong with {@code method} as the on-load method of class {@code node} (declared by it
     * or inherited from a superclass, whose class files are read through {@code loader}), or null.
     */
    static String problem(ClassNode node, String method, ClassLoader loader) {
        String className = node.name.replace('/', '.');
        ClassNode current = node;
        for (int depth = 0; current != null; depth++) {
            if (depth > ClassHierarchy.DEPTH_MAX) {
                return "the superclass chain of " + className + " is deeper than " + ClassHierarchy.DEPTH_MAX + " classes";
            }
            MethodNode unfit = null;
            for (MethodNode candidate : current.methods) {
                if (!candidate.name.equals(method)) {
                    continue;
                }
                String shape = shapeProblem(current.name.replace('/', '.'), candidate);
                if (shape == null) {
                    return null;
                }
                if (unfit == null) {
                    unfit = candidate;
                }
            }
            if (unfit != null) {
                return shapeProblem(current.name.replace('/', '.'), unfit);
            }
            current = current.superName == null || current.superName.startsWith("java/") ? null
                    : read(loader, current.superName);
        }
        return className + " has no method " + method + "(); add it (an instance method without parameters) or fix "
                + "the on-load entry";
    }

    /** What makes {@code method} unfit to be an on-load method (static, or with parameters), or null. */
    static String shapeProblem(String className, MethodNode method) {
        String name = className + "." + method.name;
        if ((method.access & ACC_STATIC) != 0) {
            return name + "() is static; an on-load method is an instance method (it runs on each loaded object)";
        }
        Type[] parameters = Type.getArgumentTypes(method.desc);
        if (parameters.length > 0) {
            List<String> types = new ArrayList<>();
            for (Type parameter : parameters) {
                types.add(parameter.getClassName());
            }
            return name + "(" + String.join(", ", types) + ") takes parameters; an on-load method takes none";
        }
        return null;
    }

    /** The class file of {@code internalName} as {@code loader} has it (methods, no code), or null. */
    private static ClassNode read(ClassLoader loader, String internalName) {
        String resource = internalName + ".class";
        try (InputStream in = loader != null ? loader.getResourceAsStream(resource)
                : ClassLoader.getSystemResourceAsStream(resource)) {
            if (in == null) {
                return null;
            }
            ClassNode node = new ClassNode();
            new ClassReader(in).accept(node, ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
            return node;
        } catch (IOException | RuntimeException e) {
            return null; // unreadable: the runtime's reflective check still applies
        }
    }
}
