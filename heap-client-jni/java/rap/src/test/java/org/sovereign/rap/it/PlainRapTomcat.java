package org.sovereign.rap.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A Tomcat with the order-entry demo WITHOUT sovereign-rap (RAP's own RWTServlet: bench/plain-web.xml),
 * the baseline of the recording-overhead measurement. {@link TomcatProcess} builds its webapp from the
 * folder in {@code sovereign.test.classes} (the demo's classes and {@code orders-webapp/}); this class
 * writes a bench-only folder (the demo's classes linked, the plain web.xml) and points the property
 * at it for the one start, so the shipped demo's web.xml stays as it is.
 */
final class PlainRapTomcat {
    static final String CLASSES_PROPERTY = "sovereign.test.classes";

    private PlainRapTomcat() {
    }

    /**
     * Starts it. Call it with no other Tomcat starting in this JVM: the property is switched for the
     * start and put back after.
     */
    static TomcatProcess start(Path workDir, Path plainWebXml) throws Exception {
        Path classes = TestPaths.required(CLASSES_PROPERTY, "run bench/run.sh");
        Path plain = Files.createTempDirectory(workDir, "plain-webapp-classes-");
        // The demo's classes as they are (TomcatProcess copies them from here into the webapp).
        Files.createSymbolicLink(plain.resolve("demo"), classes.resolve("demo").toAbsolutePath());
        Path webInf = plain.resolve("orders-webapp/WEB-INF");
        Files.createDirectories(webInf);
        Files.copy(plainWebXml, webInf.resolve("web.xml"), StandardCopyOption.REPLACE_EXISTING);
        // TomcatProcess waits for GET /status; without the heap there is no status servlet, a file does.
        Files.writeString(plain.resolve("orders-webapp/status"), "plain RAP, no recording\n", StandardCharsets.UTF_8);
        System.setProperty(CLASSES_PROPERTY, plain.toString());
        try {
            // The RAP setting the recording library makes (Recorder.TEXT_SIZE_STORE_SESSION_SCOPED), so
            // the two variants differ by the recording alone.
            return TomcatProcess.start(workDir, TomcatSettings.named("tomcat-plain")
                    .withJvmArg("-Dorg.eclipse.rap.rwt.textSizeStoreSessionScoped=true"));
        } finally {
            System.setProperty(CLASSES_PROPERTY, classes.toString());
        }
    }
}
