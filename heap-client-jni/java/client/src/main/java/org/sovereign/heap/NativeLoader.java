package org.sovereign.heap;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

/**
 * Loads the native library {@code libheap_client_jni.so} once per class loader: from the path in the
 * system property {@value #PATH_PROPERTY} when it is set (a preinstalled library), otherwise by
 * copying the copy inside the jar ({@value #RESOURCE}) to a private temporary file (readable by
 * the owner only, deleted when the JVM exits) and loading that. A failure is remembered and thrown
 * again, as a {@link HeapException} that says how to fix it, on every later attempt.
 */
final class NativeLoader {
    /** System property naming a preinstalled native library to load instead of the jar's copy. */
    static final String PATH_PROPERTY = "sovereign.native.path";
    /** Where the jar carries the native library (also named by the Bundle-NativeCode header). */
    static final String RESOURCE = "/native/linux-x86_64/libheap_client_jni.so";

    private static boolean loaded;
    private static HeapException failure;

    private NativeLoader() {}

    /** Loads the library if this class loader has not yet; throws the same failure every time. */
    static synchronized void load() {
        if (loaded) {
            return;
        }
        if (failure != null) {
            throw failure;
        }
        try {
            System.load(locate());
            loaded = true;
        } catch (HeapException e) {
            failure = e;
            throw e;
        } catch (UnsatisfiedLinkError | IOException | SecurityException e) {
            failure = new HeapException("cannot load the native heap client library: " + e
                    + "; set -D" + PATH_PROPERTY + "=/path/to/libheap_client_jni.so to load a built copy", e);
            throw failure;
        }
    }

    /** The file to load: the preinstalled one, or the jar's copy extracted to a private temp file. */
    private static String locate() throws IOException {
        String preinstalled = System.getProperty(PATH_PROPERTY);
        if (preinstalled != null && !preinstalled.isBlank()) {
            Path path = Path.of(preinstalled).toAbsolutePath();
            if (!Files.isReadable(path)) {
                throw new HeapException(PATH_PROPERTY + "=" + preinstalled + " is not a readable file; point it at "
                        + "libheap_client_jni.so or unset it to use the library inside the jar");
            }
            return path.toString();
        }
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        boolean linux = os.toLowerCase(Locale.ROOT).startsWith("linux");
        boolean x86_64 = arch.equals("amd64") || arch.equals("x86_64");
        if (!linux || !x86_64) {
            throw new HeapException("the jar carries the native library for linux-x86_64 only, not " + os + "/" + arch
                    + "; build libheap_client_jni for this platform (cargo build --release -p heap-client-jni) and set -D"
                    + PATH_PROPERTY + " to it");
        }
        try (InputStream in = NativeLoader.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new HeapException("the native library " + RESOURCE + " is missing from the jar; build the jar "
                        + "with heap-client-jni/java/build.sh, or set -D" + PATH_PROPERTY + " to libheap_client_jni.so");
            }
            Path file = Files.createTempFile("libheap_client_jni-", ".so",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            file.toFile().deleteOnExit();
            // Written in place (not replaced), so the owner-only permissions of the new file stay.
            try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                in.transferTo(out);
            }
            return file.toString();
        }
    }
}
