package org.sovereign.agent.transform;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import org.sovereign.agent.config.AgentConfig;

/**
 * The agent's {@link ClassFileTransformer}: rewrites the classes {@code instrument} matches as they
 * are loaded, by any class loader (the bytes of superclasses are read through that loader). JDK and
 * agent classes are never touched. A class that cannot be rewritten is loaded as it is, and the
 * failure is printed: its instances then cannot be shared and its synchronized code stays JVM-local.
 */
public final class SovereignTransformer implements ClassFileTransformer {
    private final AgentConfig config;
    private final ClassRewriter rewriter;

    public SovereignTransformer(AgentConfig config) {
        this.config = config;
        this.rewriter = new ClassRewriter(config);
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain, byte[] classFile) {
        // No name: a hidden class (a lambda's); no loader: the bootstrap loader, so a JDK class.
        if (className == null || loader == null || !config.isInstrumented(className.replace('/', '.'))) {
            return null;
        }
        try {
            return rewriter.rewrite(loader, classFile);
        } catch (RuntimeException | LinkageError e) {
            System.err.println("[sovereign-agent] ERROR: class " + className.replace('/', '.') + " was NOT instrumented, "
                    + "so its instances cannot be shared and its synchronized code is local to this JVM: " + e);
            e.printStackTrace();
            return null;
        }
    }
}
