package org.sovereign.agent.transform;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AnnotationNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldNode;
import org.objectweb.asm.tree.MethodNode;
import org.sovereign.annotations.AutolockRead;
import org.sovereign.annotations.OnLoad;
import org.sovereign.annotations.Root;
import org.sovereign.annotations.Transient;

/**
 * The Sovereign annotations ({@code org.sovereign.annotations}) one class file carries. Their
 * retention is CLASS, so reflection never sees them: the transformer reads them here, from the
 * bytes, and records what they mean ({@link org.sovereign.agent.config.AnnotatedEntries}). A
 * misplaced one ({@code @Root} on an instance field, {@code @OnLoad} on a method with parameters)
 * is not recorded; it becomes a problem, a sentence saying what to change, which the agent prints.
 */
final class ClassAnnotations implements Opcodes {
    static final String ROOT = Type.getDescriptor(Root.class);
    static final String TRANSIENT = Type.getDescriptor(Transient.class);
    static final String AUTOLOCK_READ = Type.getDescriptor(AutolockRead.class);
    static final String ON_LOAD = Type.getDescriptor(OnLoad.class);
    /** What every one of their descriptors starts with: a class file without it has none of them. */
    static final String PACKAGE_DESCRIPTOR = "Lorg/sovereign/annotations/";
    private static final byte[] PACKAGE_BYTES = PACKAGE_DESCRIPTOR.getBytes(StandardCharsets.US_ASCII);

    /** The class's dotted name. */
    final String className;
    /** Static fields with {@code @Root}. */
    final List<String> roots = new ArrayList<>();
    /** Instance fields with {@code @Transient}. */
    final List<String> transientFields = new ArrayList<>();
    /** Methods with {@code @AutolockRead}, for reports (the method rewriter reads the annotation itself). */
    final List<String> autolockRead = new ArrayList<>();
    /** The {@code @OnLoad} method's name, or null. */
    String onLoad;
    /** Misplaced annotations: what is wrong and what to change. */
    final List<String> problems = new ArrayList<>();

    private ClassAnnotations(String className) {
        this.className = className;
    }

    /** Whether {@code classFile} mentions the annotations' package at all (a byte search, no parsing). */
    static boolean mentioned(byte[] classFile) {
        int last = classFile.length - PACKAGE_BYTES.length;
        outer:
        for (int i = 0; i <= last; i++) {
            for (int j = 0; j < PACKAGE_BYTES.length; j++) {
                if (classFile[i + j] != PACKAGE_BYTES[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** The annotations of {@code node} (read with or without code). */
    static ClassAnnotations of(ClassNode node) {
        ClassAnnotations found = new ClassAnnotations(node.name.replace('/', '.'));
        for (FieldNode field : node.fields) {
            found.field(field);
        }
        for (MethodNode method : node.methods) {
            found.method(method);
        }
        return found;
    }

    /** Whether {@code method} carries {@code @AutolockRead}. */
    static boolean isAutolockRead(MethodNode method) {
        return has(method.visibleAnnotations, method.invisibleAnnotations, AUTOLOCK_READ);
    }

    private void field(FieldNode field) {
        boolean isStatic = (field.access & ACC_STATIC) != 0;
        if (has(field.visibleAnnotations, field.invisibleAnnotations, ROOT)) {
            int sort = Type.getType(field.desc).getSort();
            if (!isStatic) {
                problems.add("@Root on instance field " + className + "." + field.name + " does nothing: a root is a "
                        + "static field; make it static or remove @Root");
            } else if (sort != Type.OBJECT && sort != Type.ARRAY) {
                problems.add("@Root on " + className + "." + field.name + " does nothing: a root holds an object, not "
                        + "a primitive (" + Type.getType(field.desc).getClassName() + "); wrap the value in an object");
            } else {
                roots.add(field.name);
            }
        }
        if (has(field.visibleAnnotations, field.invisibleAnnotations, TRANSIENT)) {
            if (isStatic) {
                problems.add("@Transient on static field " + className + "." + field.name + " does nothing: static "
                        + "fields are never shared (a shared static is a @Root); remove @Transient");
            } else {
                transientFields.add(field.name);
            }
        }
    }

    private void method(MethodNode method) {
        if (isAutolockRead(method)) {
            autolockRead.add(method.name);
        }
        if (!has(method.visibleAnnotations, method.invisibleAnnotations, ON_LOAD)) {
            return;
        }
        if (onLoad != null && !onLoad.equals(method.name)) {
            problems.add("@OnLoad is on two methods of " + className + " (" + onLoad + " and " + method.name + "); a class "
                    + "has one on-load method: keep one and call the other from it");
            return;
        }
        // Recorded even when wrong: loading or sharing an object of the class then fails, naming the method.
        onLoad = method.name;
        String problem = OnLoadMethods.shapeProblem(className, method);
        if (problem != null) {
            problems.add("@OnLoad: " + problem);
        }
    }

    private static boolean has(List<AnnotationNode> visible, List<AnnotationNode> invisible, String descriptor) {
        return contains(visible, descriptor) || contains(invisible, descriptor);
    }

    private static boolean contains(List<AnnotationNode> annotations, String descriptor) {
        if (annotations == null) {
            return false;
        }
        for (AnnotationNode annotation : annotations) {
            if (annotation.desc.equals(descriptor)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the class has none of the annotations (misplaced ones count). */
    boolean isEmpty() {
        return roots.isEmpty() && transientFields.isEmpty() && autolockRead.isEmpty() && onLoad == null
                && problems.isEmpty();
    }

    /** "@Root on ROOT, @Transient on cache, @OnLoad on afterLoad()": for reports. */
    String summary() {
        List<String> parts = new ArrayList<>();
        roots.forEach(field -> parts.add("@Root on " + field));
        transientFields.forEach(field -> parts.add("@Transient on " + field));
        autolockRead.forEach(method -> parts.add("@AutolockRead on " + method + "()"));
        if (onLoad != null) {
            parts.add("@OnLoad on " + onLoad + "()");
        }
        if (parts.isEmpty()) {
            parts.add("misplaced Sovereign annotations");
        }
        return String.join(", ", parts);
    }
}
