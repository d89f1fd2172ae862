package org.sovereign.agent.transform;

import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.FieldNode;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.VarInsnNode;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.agent.runtime.Shareable;

/**
 * Rewrites the class file of one instrumented class: the topmost instrumented class of a hierarchy
 * gets the {@link Shareable} state field and accessors (its instrumented subclasses inherit them),
 * root fields lose {@code final} (the runtime stores the shared instance into them), and every
 * method goes through {@link MethodRewriter}. Frames are recomputed with {@link ClassHierarchy}.
 */
public final class ClassRewriter implements Opcodes {
    /** Classes older than Java 6 may use JSR/RET and have no frames; they are left alone (with a warning). */
    static final int VERSION_MIN = V1_6;

    private final AgentConfig config;
    private final ClassHierarchy hierarchy = new ClassHierarchy();

    public ClassRewriter(AgentConfig config) {
        this.config = config;
    }

    /**
     * The rewritten class file, or null when the class is not instrumented (or was rewritten
     * already). {@code loader} is the defining loader, used to read superclass facts.
     */
    public byte[] rewrite(ClassLoader loader, byte[] classFile) {
        ClassReader reader = new ClassReader(classFile);
        String dotted = reader.getClassName().replace('/', '.');
        if (!config.isInstrumented(dotted) || dotted.endsWith("module-info") || dotted.endsWith("package-info")) {
            return null;
        }
        ClassNode node = new ClassNode();
        reader.accept(node, ClassReader.SKIP_FRAMES);
        if ((node.version & 0xFFFF) < VERSION_MIN) {
            throw new IllegalStateException("its class file version " + (node.version & 0xFFFF)
                    + " is older than Java 6; recompile it for Java 6 or newer");
        }
        if (node.interfaces.contains(Type.getInternalName(Shareable.class))) {
            return null;
        }
        boolean isInterface = (node.access & ACC_INTERFACE) != 0;
        boolean addsState = !isInterface && (node.access & ACC_MODULE) == 0
                && (node.superName == null || !config.isInstrumented(node.superName.replace('/', '.')));
        unfinalRoots(node, dotted);
        for (MethodNode method : node.methods) {
            new MethodRewriter(config, node.name, method).rewrite();
        }
        if (addsState) {
            addState(node);
        }
        ClassWriter writer = hierarchy.writer(loader, node);
        node.accept(writer);
        return writer.toByteArray();
    }

    private void unfinalRoots(ClassNode node, String dotted) {
        for (FieldNode field : node.fields) {
            if ((field.access & ACC_STATIC) != 0 && config.isRoot(dotted, field.name)) {
                field.access &= ~ACC_FINAL;
            }
        }
    }

    /** The state field and the two {@link Shareable} accessors. */
    private static void addState(ClassNode node) {
        List<String> interfaces = new ArrayList<>(node.interfaces);
        interfaces.add(Type.getInternalName(Shareable.class));
        node.interfaces = interfaces;
        node.fields.add(new FieldNode(ACC_PUBLIC | ACC_TRANSIENT | ACC_SYNTHETIC, Shareable.STATE_FIELD,
                Shareable.STATE_DESCRIPTOR, null, null));

        MethodNode getter = new MethodNode(ACC_PUBLIC | ACC_FINAL | ACC_SYNTHETIC, Shareable.STATE_FIELD,
                "()" + Shareable.STATE_DESCRIPTOR, null, null);
        getter.instructions.add(new VarInsnNode(ALOAD, 0));
        getter.instructions.add(new FieldInsnNode(GETFIELD, node.name, Shareable.STATE_FIELD, Shareable.STATE_DESCRIPTOR));
        getter.instructions.add(new InsnNode(ARETURN));
        node.methods.add(getter);

        MethodNode setter = new MethodNode(ACC_PUBLIC | ACC_FINAL | ACC_SYNTHETIC, Shareable.STATE_FIELD,
                "(" + Shareable.STATE_DESCRIPTOR + ")V", null, null);
        setter.instructions.add(new VarInsnNode(ALOAD, 0));
        setter.instructions.add(new VarInsnNode(ALOAD, 1));
        setter.instructions.add(new FieldInsnNode(PUTFIELD, node.name, Shareable.STATE_FIELD, Shareable.STATE_DESCRIPTOR));
        setter.instructions.add(new InsnNode(RETURN));
        node.methods.add(setter);
    }
}
