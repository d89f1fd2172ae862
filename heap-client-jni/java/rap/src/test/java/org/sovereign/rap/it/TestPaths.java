package org.sovereign.rap.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The files and folders Maven hands the browser test through system properties (see the pom). */
final class TestPaths {
    private TestPaths() {
    }

    /** The path in system property {@code property}, which must exist; {@code hint} says how to get it. */
    static Path required(String property, String hint) {
        String value = System.getProperty(property);
        if (value == null) {
            throw new IllegalStateException("system property " + property + " is not set; run the test with Maven");
        }
        Path path = Path.of(value);
        if (!Files.exists(path)) {
            throw new IllegalStateException(path + " is missing; " + hint);
        }
        return path;
    }

    /** The folder in system property {@code property}, created if missing. */
    static Path directory(String property, String fallback) throws IOException {
        Path path = Path.of(System.getProperty(property, fallback));
        Files.createDirectories(path);
        return path;
    }
}
