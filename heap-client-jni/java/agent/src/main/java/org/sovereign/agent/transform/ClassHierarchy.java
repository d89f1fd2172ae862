package org.sovereign.agent.transform;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.ClassNode;

/**
 * Superclass facts for ASM's frame computation, read from class files through the class loader that
 * is defining the class being rewritten ({@code getResourceAsStream}), never by loading classes:
 * loading an application class from inside a transformer would load it through the wrong loader or
 * before its time. ASM's default {@code getCommonSuperClass} does {@code Class.forName}, so the
 * writer overrides it. Answers are cached per loader (weakly), within a bound.
 */
final class ClassHierarchy {
    /** Most classes remembered per loader; the cache starts over beyond it. */
    static final int CACHED_CLASSES_MAX = 100_000;
    /** Deepest superclass chain followed (real ones are under 20). */
    static final int DEPTH_MAX = 1_000;

    /** What frame computation needs of a class. */
    record Info(String superName, boolean isInterface) {}

    /** The bootstrap loader's key in {@link #cache} (a null key is not allowed in a WeakHashMap). */
    private static final Object BOOT = new Object();
    private final Map<Object, Map<String, Info>> cache = new WeakHashMap<>();

    /** A writer computing frames with this hierarchy; {@code node} (the class being written) may not be readable yet. */
    ClassWriter writer(ClassLoader loader, ClassNode node) {
        Info own = new Info(node.superName, (node.access & Opcodes.ACC_INTERFACE) != 0);
        return new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
            @Override
            protected String getCommonSuperClass(String first, String second) {
                return commonSuperClass(loader, node.name, own, first, second);
            }
        };
    }

    String commonSuperClass(ClassLoader loader, String ownName, Info own, String first, String second) {
        if (first.equals(second)) {
            return first;
        }
        Info firstInfo = first.equals(ownName) ? own : info(loader, first);
        Info secondInfo = second.equals(ownName) ? own : info(loader, second);
        if (firstInfo.isInterface() || secondInfo.isInterface()) {
            return HookCalls.OBJECT;
        }
        Set<String> firstChain = new HashSet<>();
        String type = first;
        for (int depth = 0; type != null; depth++) {
            checkDepth(depth, first);
            firstChain.add(type);
            type = type.equals(ownName) ? own.superName() : info(loader, type).superName();
        }
        type = second;
        for (int depth = 0; type != null; depth++) {
            checkDepth(depth, second);
            if (firstChain.contains(type)) {
                return type;
            }
            type = type.equals(ownName) ? own.superName() : info(loader, type).superName();
        }
        return HookCalls.OBJECT;
    }

    private static void checkDepth(int depth, String type) {
        if (depth > DEPTH_MAX) {
            throw new IllegalStateException("the superclass chain of " + type + " is deeper than " + DEPTH_MAX
                    + " classes (a cycle?)");
        }
    }

    /** The facts of class {@code internalName} as {@code loader} sees it. */
    Info info(ClassLoader loader, String internalName) {
        Object key = loader == null ? BOOT : loader;
        synchronized (cache) {
            Map<String, Info> known = cache.computeIfAbsent(key, k -> new HashMap<>());
            Info info = known.get(internalName);
            if (info != null) {
                return info;
            }
        }
        Info info = read(loader, internalName);
        synchronized (cache) {
            Map<String, Info> known = cache.computeIfAbsent(key, k -> new HashMap<>());
            if (known.size() >= CACHED_CLASSES_MAX) {
                known.clear();
            }
            known.put(internalName, info);
        }
        return info;
    }

    private static Info read(ClassLoader loader, String internalName) {
        String resource = internalName + ".class";
        try (InputStream in = loader != null ? loader.getResourceAsStream(resource)
                : ClassLoader.getSystemResourceAsStream(resource)) {
            if (in == null) {
                throw new TypeNotPresentException(internalName.replace('/', '.'), null);
            }
            ClassReader reader = new ClassReader(in);
            return new Info(reader.getSuperName(), (reader.getAccess() & Opcodes.ACC_INTERFACE) != 0);
        } catch (IOException e) {
            throw new TypeNotPresentException(internalName.replace('/', '.'), e);
        }
    }
}
