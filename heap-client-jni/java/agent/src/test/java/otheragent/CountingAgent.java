package otheragent;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Set;
import java.util.TreeSet;

/**
 * A second, unrelated -javaagent for the tests (packed into a jar by the test, with this class as its
 * Premain-Class): its transformer records the {@code webapp} classes it sees, in the system property
 * {@code otheragent.webapp.classes}, and returns a copy of their bytes, so the JVM hands the next
 * transformer the bytes this one returned, whichever of the two agents comes first.
 */
public final class CountingAgent {
    private static final Set<String> SEEN = new TreeSet<>();

    private CountingAgent() {}

    public static void premain(String arguments, Instrumentation instrumentation) {
        instrumentation.addTransformer(new ClassFileTransformer() {
            @Override
            public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
                    byte[] classFile) {
                if (className == null || !className.startsWith("webapp/")) {
                    return null;
                }
                synchronized (SEEN) {
                    SEEN.add(className.substring("webapp/".length()));
                    System.setProperty("otheragent.webapp.classes", String.join(",", SEEN));
                }
                return classFile.clone();
            }
        });
        System.setProperty("otheragent.started", "started");
    }
}
