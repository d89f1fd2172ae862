package org.sovereign.agent.transform;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import org.sovereign.agent.config.AgentConfig;

/**
 * The agent's {@link ClassFileTransformer}: rewrites the classes {@code instrument} matches as they
 * are loaded, by any class loader (the bytes of superclasses are read through that loader). JDK and
 * agent classes are never touched; any other class is only searched for Sovereign annotations, which
 * do nothing outside {@code instrument} (one line says so). A class that cannot be rewritten is
 * loaded as it is, and the failure is printed: its instances then cannot be shared and its
 * synchronized code stays JVM-local. Made in premain, it first checks the config's on-load methods
 * against the application class path, so a wrong one stops the JVM before {@code main}.
 */
public final class SovereignTransformer implements ClassFileTransformer {
    private final AgentConfig config;
    private final ClassRewriter rewriter;

    /** Checks the on-load entries against the system class loader's class path (see the class comment). */
    public SovereignTransformer(AgentConfig config) {
        this(config, ClassLoader.getSystemClassLoader());
    }

    SovereignTransformer(AgentConfig config, ClassLoader applicationLoader) {
        this.config = config;
        this.rewriter = new ClassRewriter(config);
        for (AgentConfig.OnLoadEntry entry : OnLoadMethods.checkAtStart(config, applicationLoader)) {
            System.err.println(ClassRewriter.REPORT_PREFIX + "on-load \"" + entry.fullName() + "\": " + entry.className()
                    + " is not on the class path at start (a web-app's class?), so its method is checked when it loads");
        }
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain, byte[] classFile) {
        // No name: a hidden class (a lambda's); no loader: the bootstrap loader, so a JDK class.
        if (className == null || loader == null) {
            return null;
        }
        String dotted = className.replace('/', '.');
        if (!config.isInstrumented(dotted)) {
            if (!config.isNeverInstrumented(dotted)) {
                reportIfAnnotated(dotted, classFile);
            }
            return null;
        }
        try {
            return rewriter.rewrite(loader, classFile);
        } catch (RuntimeException | LinkageError e) {
            System.err.println(ClassRewriter.REPORT_PREFIX + "ERROR: class " + dotted + " was NOT instrumented, "
                    + "so its instances cannot be shared and its synchronized code is local to this JVM: " + e);
            e.printStackTrace();
            return null;
        }
    }

    private void reportIfAnnotated(String dotted, byte[] classFile) {
        try {
            rewriter.reportIfAnnotated(classFile);
        } catch (RuntimeException e) {
            // The JVM will judge the class file itself; the annotations just go unreported.
            System.err.println(ClassRewriter.REPORT_PREFIX + "WARNING: could not read the annotations of " + dotted + ": " + e);
        }
    }
}
