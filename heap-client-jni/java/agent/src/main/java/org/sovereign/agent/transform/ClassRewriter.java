package org.sovereign.agent.transform;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
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
 * Its Sovereign annotations ({@link ClassAnnotations}) are recorded into the config first, and
 * what is wrong with them, or with its on-load method, is reported (one line each); so is a class
 * outside {@code instrument} that carries them ({@link #reportIfAnnotated}).
 */
public final class ClassRewriter implements Opcodes {
    /** Classes older than Java 6 may use JSR/RET and have no frames; they are left alone (with a warning). */
    static final int VERSION_MIN = V1_6;
    /** Most classes outside {@code instrument} reported for their annotations (once each); later ones are not. */
    static final int REPORTED_CLASSES_MAX = 10_000;
    /** What starts every line the agent prints. */
    static final String REPORT_PREFIX = "[sovereign-agent] ";

    private final AgentConfig config;
    private final Consumer<String> report;
    private final ClassHierarchy hierarchy = new ClassHierarchy();
    private final AnnotatedRoots annotatedRoots = new AnnotatedRoots();
    private final Set<String> reportedOutside = ConcurrentHashMap.newKeySet();

    /** A rewriter reporting to standard error. */
    public ClassRewriter(AgentConfig config) {
        this(config, line -> System.err.println(REPORT_PREFIX + line));
    }

    /** A rewriter giving {@code report} each line it has to report (without the prefix). */
    public ClassRewriter(AgentConfig config, Consumer<String> report) {
        this.config = config;
        this.report = report;
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
        ClassAnnotations annotations = ClassAnnotations.of(node);
        record(annotations);
        checkOnLoad(loader, node, annotations);
        unfinalRoots(node, dotted);
        MethodRewriter.RootFields roots = (owner, field) -> isRoot(loader, node, annotations, owner, field);
        for (MethodNode method : node.methods) {
            new MethodRewriter(config, node.name, method, roots).rewrite();
        }
        if (addsState) {
            addState(node);
        }
        ClassWriter writer = hierarchy.writer(loader, node);
        node.accept(writer);
        return writer.toByteArray();
    }

    /**
     * Reports a class outside {@code instrument} whose class file carries Sovereign annotations (they
     * do nothing there), once per class name. Cheap for every other class: a byte search.
     */
    public void reportIfAnnotated(byte[] classFile) {
        if (!ClassAnnotations.mentioned(classFile)) {
            return;
        }
        ClassNode node = new ClassNode();
        new ClassReader(classFile).accept(node, ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        ClassAnnotations annotations = ClassAnnotations.of(node);
        if (annotations.isEmpty() || reportedOutside.size() >= REPORTED_CLASSES_MAX
                || !reportedOutside.add(annotations.className)) {
            return;
        }
        String name = annotations.className;
        int dot = name.lastIndexOf('.');
        String pattern = dot > 0 ? name.substring(0, dot) + ".**" : name;
        report.accept("WARNING: class " + name + " has " + annotations.summary() + ", but `instrument` in "
                + config.source() + " does not match it, so they do nothing; add \"" + name + "\" (or \"" + pattern
                + "\") to instrument");
    }

    /** Records what the annotations mean into the config, and reports misplaced ones. */
    private void record(ClassAnnotations annotations) {
        String name = annotations.className;
        annotations.roots.forEach(field -> config.annotated().root(name, field));
        annotations.transientFields.forEach(field -> config.annotated().transientField(name, field));
        if (annotations.onLoad != null) {
            AgentConfig.OnLoadEntry entry = config.onLoadEntry(name);
            if (entry != null && !entry.method().equals(annotations.onLoad)) {
                report.accept("WARNING: " + name + " has @OnLoad on " + annotations.onLoad + "(), but " + config.source()
                        + ":" + entry.line() + " names " + entry.method() + "() as its on-load method; " + entry.method()
                        + "() runs (a class has one on-load method): remove one of the two");
            }
            String earlier = config.annotated().onLoad(name, annotations.onLoad);
            if (earlier != null) {
                report.accept("WARNING: " + name + " is defined twice (two class loaders) with different @OnLoad methods, "
                        + earlier + "() and " + annotations.onLoad + "(); " + earlier + "() runs for both");
            }
        }
        annotations.problems.forEach(problem -> report.accept("ERROR: " + problem));
    }

    /** Reports a wrong on-load method (the runtime then refuses to share or load the class's objects). */
    private void checkOnLoad(ClassLoader loader, ClassNode node, ClassAnnotations annotations) {
        String dotted = annotations.className;
        AgentConfig.OnLoadEntry entry = config.onLoadEntry(dotted);
        if (entry == null) {
            return; // none, or @OnLoad, whose shape ClassAnnotations checked
        }
        String problem = OnLoadMethods.problem(node, entry.method(), loader);
        if (problem != null) {
            report.accept("ERROR: on-load \"" + entry.fullName() + "\" (" + config.source() + ":" + entry.line() + "): "
                    + problem + "; objects of " + dotted + " cannot be shared or loaded until it is fixed");
        }
    }

    /**
     * Whether static field {@code field} of class {@code owner} (internal name) is a root: in the
     * config, by {@code @Root} on this class, or by {@code @Root} in another instrumented class's file.
     */
    private boolean isRoot(ClassLoader loader, ClassNode node, ClassAnnotations own, String owner, String field) {
        String dotted = owner.replace('/', '.');
        if (config.isRoot(dotted, field)) {
            return true;
        }
        if (owner.equals(node.name)) {
            return own.roots.contains(field);
        }
        return config.isInstrumented(dotted) && annotatedRoots.isRoot(loader, owner, field);
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
