package org.sovereign.agent.transform;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.tree.ClassNode;

/**
 * The {@code @Root} fields of other classes, for rewriting the root accesses of the class at hand:
 * {@code Main} reads {@code Counter.ROOT} before {@code Counter} is loaded (so before its annotations
 * were recorded), so the owner's class file is read through the defining loader, never by loading
 * it (as {@link ClassHierarchy} does). Answers are cached per loader (weakly), within a bound.
 */
final class AnnotatedRoots {
    /** Most classes remembered per loader; the cache starts over beyond it. */
    static final int CACHED_CLASSES_MAX = 100_000;

    /** The bootstrap loader's key in {@link #cache} (a null key is not allowed in a WeakHashMap). */
    private static final Object BOOT = new Object();
    private final Map<Object, Map<String, List<String>>> cache = new WeakHashMap<>();

    /** Whether static field {@code field} of class {@code internalName}, as {@code loader} sees it, has {@code @Root}. */
    boolean isRoot(ClassLoader loader, String internalName, String field) {
        Object key = loader == null ? BOOT : loader;
        List<String> roots;
        synchronized (cache) {
            roots = cache.computeIfAbsent(key, k -> new HashMap<>()).get(internalName);
        }
        if (roots == null) {
            roots = read(loader, internalName);
            synchronized (cache) {
                Map<String, List<String>> known = cache.computeIfAbsent(key, k -> new HashMap<>());
                if (known.size() >= CACHED_CLASSES_MAX) {
                    known.clear();
                }
                known.put(internalName, roots);
            }
        }
        return roots.contains(field);
    }

    private static List<String> read(ClassLoader loader, String internalName) {
        String resource = internalName + ".class";
        try (InputStream in = loader != null ? loader.getResourceAsStream(resource)
                : ClassLoader.getSystemResourceAsStream(resource)) {
            if (in == null) {
                return List.of(); // not a class file this loader has (generated?): no annotations to read
            }
            byte[] classFile = in.readAllBytes();
            if (!ClassAnnotations.mentioned(classFile)) {
                return List.of();
            }
            ClassNode node = new ClassNode();
            new ClassReader(classFile).accept(node, ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
            return List.copyOf(ClassAnnotations.of(node).roots);
        } catch (IOException | RuntimeException e) {
            return List.of(); // unreadable here; the class's own rewrite reports its annotations
        }
    }
}
