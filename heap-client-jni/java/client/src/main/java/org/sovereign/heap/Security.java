package org.sovereign.heap;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * How a {@link HeapClient} reaches a cluster: which CA certificate the nodes must present (TLS) and
 * which token it sends. A secured cluster (the default for {@code heap-server}) accepts only TLS
 * clients that trust its CA, and only requests carrying a token it knows; the token's role (read,
 * write or admin) decides what the client may do. A cluster started with
 * {@code --insecure-plaintext} (test clusters) takes only {@link #plaintext()} clients.
 *
 * <pre>{@code
 * // The folder `heapctl dev up` wrote (ca.pem, admin.token), with the application's own token:
 * Security security = Security.fromDirectory(Path.of("data/security")).withToken(System.getenv("APP_TOKEN"));
 * try (HeapClient c = HeapClient.connect("10.0.0.1:7101,10.0.0.2:7101", security)) { ... }
 * }</pre>
 *
 * <p>Instances are immutable: the {@code with*} methods return a new one. Files are read when the
 * instance is made, so a later change of the files does not affect it. The token never appears in
 * {@link #toString()} nor in any exception message. Unreadable or invalid files and tokens throw
 * {@link HeapRejectedException} with a message that says what to fix.
 */
public final class Security {
    /** The folder {@code heapctl dev up} writes, relative to the working directory. */
    public static final String DEV_SECURITY_DIR = "data/security";
    /** The CA certificate's file in a security folder. */
    public static final String CA_FILE = "ca.pem";
    /** The admin token's file in a security folder. */
    public static final String ADMIN_TOKEN_FILE = "admin.token";
    /** Environment variable: {@code 1} or {@code true} makes {@link #discover()} choose plaintext. */
    public static final String PLAINTEXT_ENV = "SOVEREIGN_PLAINTEXT";
    /** Environment variable naming a security folder (with {@code ca.pem} and {@code admin.token}). */
    public static final String SECURITY_DIR_ENV = "SOVEREIGN_SECURITY_DIR";
    /** Environment variable naming a CA certificate file (PEM); it wins over the folder's. */
    public static final String CA_ENV = "SOVEREIGN_CA";
    /** Environment variable holding a token; it wins over the folder's token file. */
    public static final String TOKEN_ENV = "SOVEREIGN_TOKEN";
    /** System property that, when set, wins over {@link #PLAINTEXT_ENV}. */
    public static final String PLAINTEXT_PROPERTY = "sovereign.plaintext";
    /** System property that, when set, wins over {@link #SECURITY_DIR_ENV}. */
    public static final String SECURITY_DIR_PROPERTY = "sovereign.security.dir";
    /** System property that, when set, wins over {@link #CA_ENV}. */
    public static final String CA_PROPERTY = "sovereign.ca";
    /** System property that, when set, wins over {@link #TOKEN_ENV}. */
    public static final String TOKEN_PROPERTY = "sovereign.token";

    /** Largest CA certificate file read (a CA certificate is about 1 KiB); as the native library's. */
    static final int CA_FILE_BYTES_MAX = 64 * 1024;
    /** Largest token (a heapctl token is 64 hex digits; an operator's may be longer); as the native library's. */
    static final int TOKEN_BYTES_MAX = 4 * 1024;
    /** What every PEM certificate file contains. */
    private static final String PEM_CERTIFICATE_BEGIN = "-----BEGIN CERTIFICATE-----";

    private static final Security PLAINTEXT = new Security(null, null, null);

    /** The CA certificate (PEM); null for plaintext. Never handed out without a copy. */
    private final byte[] caPem;
    /** Where the CA certificate came from, for {@link #toString()}; null for plaintext. */
    private final String caSource;
    /** The token; null for none. Never printed. */
    private final String token;

    private Security(byte[] caPem, String caSource, String token) {
        this.caPem = caPem;
        this.caSource = caSource;
        this.token = token;
    }

    /**
     * No TLS and no token: only for clusters started with {@code --insecure-plaintext} (tests). A
     * secured cluster does not answer such a client: connecting fails with
     * {@link HeapUnavailableException} after the connect deadline.
     */
    public static Security plaintext() {
        return PLAINTEXT;
    }

    /**
     * The CA certificate {@code ca.pem} and, if the folder has one, the token in {@code admin.token}
     * of {@code dir} (a folder as {@code heapctl dev up} writes it).
     *
     * @throws HeapRejectedException if {@code ca.pem} is missing, unreadable or not a PEM
     *     certificate, or {@code admin.token} is unreadable or not a usable token
     */
    public static Security fromDirectory(Path dir) {
        Objects.requireNonNull(dir, "dir");
        Security security = plaintext().withCaFile(dir.resolve(CA_FILE));
        Path tokenFile = dir.resolve(ADMIN_TOKEN_FILE);
        if (Files.exists(tokenFile)) {
            return security.withToken(checkedToken(readText(tokenFile, TOKEN_BYTES_MAX), tokenFile.toString()));
        }
        return security;
    }

    /**
     * What this process should use, from its settings (each a system property, or else the
     * environment variable): {@code sovereign.plaintext} / {@code SOVEREIGN_PLAINTEXT} set to
     * {@code 1} or {@code true} gives {@link #plaintext()}; otherwise the folder
     * {@code sovereign.security.dir} / {@code SOVEREIGN_SECURITY_DIR}, or {@code ./data/security}
     * if it holds a {@code ca.pem}, read as by {@link #fromDirectory}; then {@code sovereign.ca} /
     * {@code SOVEREIGN_CA} replaces the CA certificate and {@code sovereign.token} /
     * {@code SOVEREIGN_TOKEN} the token. Nothing found gives {@link #plaintext()}. These are the
     * rules of the Rust client and {@code heapctl}, so one environment serves all of them.
     *
     * @throws HeapRejectedException if a named file is missing or invalid, or the token is unusable
     */
    public static Security discover() {
        return discover(System::getProperty, System::getenv, Path.of(""));
    }

    /** {@link #discover()} with its inputs given, for tests: {@code workingDir} holds {@code data/security}. */
    static Security discover(UnaryOperator<String> properties, UnaryOperator<String> environment, Path workingDir) {
        String plaintext = setting(properties, PLAINTEXT_PROPERTY, environment, PLAINTEXT_ENV);
        if (plaintext != null && (plaintext.equals("1") || plaintext.equalsIgnoreCase("true"))) {
            return plaintext();
        }
        String dirSetting = setting(properties, SECURITY_DIR_PROPERTY, environment, SECURITY_DIR_ENV);
        Path dir = null;
        if (dirSetting != null) {
            dir = Path.of(dirSetting);
        } else {
            Path dev = workingDir.resolve(DEV_SECURITY_DIR);
            if (Files.exists(dev.resolve(CA_FILE))) {
                dir = dev;
            }
        }
        Security security = dir == null ? plaintext() : fromDirectory(dir);
        String ca = setting(properties, CA_PROPERTY, environment, CA_ENV);
        if (ca != null) {
            security = security.withCaFile(Path.of(ca));
        }
        String tokenSetting = properties.apply(TOKEN_PROPERTY);
        String tokenSource = TOKEN_PROPERTY;
        if (tokenSetting == null) {
            tokenSetting = environment.apply(TOKEN_ENV);
            tokenSource = TOKEN_ENV;
        }
        if (tokenSetting != null) {
            security = security.withToken(checkedToken(tokenSetting, tokenSource));
        }
        return security;
    }

    private static String setting(UnaryOperator<String> properties, String property, UnaryOperator<String> environment,
            String variable) {
        String value = properties.apply(property);
        return value != null ? value : environment.apply(variable);
    }

    /**
     * This security with {@code token} sent on every request (surrounding whitespace ignored).
     *
     * @throws HeapRejectedException if the token is empty, longer than 4 KiB, or has spaces or
     *     characters outside printable ASCII (the message never shows the token)
     */
    public Security withToken(String token) {
        Objects.requireNonNull(token, "token");
        return new Security(caPem, caSource, checkedToken(token, "the given token"));
    }

    /**
     * This security with TLS, trusting only nodes whose certificate the CA in {@code caFile} (PEM,
     * the cluster's {@code ca.pem}) issued.
     *
     * @throws HeapRejectedException if the file is missing, unreadable, too large or holds no PEM
     *     certificate
     */
    public Security withCaFile(Path caFile) {
        Objects.requireNonNull(caFile, "caFile");
        String pem = readText(caFile, CA_FILE_BYTES_MAX);
        if (!pem.contains(PEM_CERTIFICATE_BEGIN)) {
            throw new HeapRejectedException("the CA file " + caFile + " holds no PEM certificate (no "
                    + PEM_CERTIFICATE_BEGIN + " line); give the cluster CA's ca.pem, as heapctl wrote it");
        }
        return new Security(pem.getBytes(StandardCharsets.UTF_8), caFile.toString(), token);
    }

    /** Whether this client speaks TLS (a CA certificate was given). */
    public boolean isTls() {
        return caPem != null;
    }

    /** Whether a token is sent with every request. */
    public boolean hasToken() {
        return token != null;
    }

    /** The CA certificate for {@code Native.connect}: a copy, or null for plaintext. */
    byte[] caPem() {
        return caPem == null ? null : caPem.clone();
    }

    /** The token for {@code Native.connect}, or null. */
    String token() {
        return token;
    }

    /** Says whether TLS is used (and with which CA file) and whether a token is set; never the token. */
    @Override
    public String toString() {
        return "Security[" + (caPem == null ? "plaintext" : "TLS, CA from " + caSource) + ", "
                + (token == null ? "no token" : "token set") + "]";
    }

    /**
     * The text of {@code path}, read only if it is at most {@code bytesMax} bytes, so a wrong path
     * (a log, a device) fails with a clear message instead of filling memory.
     */
    private static String readText(Path path, int bytesMax) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(path)) {
            bytes = in.readNBytes(bytesMax + 1);
        } catch (NoSuchFileException e) {
            throw new HeapRejectedException("cannot read " + path + ": it does not exist; check the path, or set "
                    + SECURITY_DIR_ENV + " to the folder heapctl wrote (data/security)");
        } catch (IOException e) {
            throw new HeapRejectedException("cannot read " + path + " (" + e + "); check the path and the file's "
                    + "permissions, or set " + SECURITY_DIR_ENV + " to the folder heapctl wrote (data/security)");
        }
        if (bytes.length > bytesMax) {
            throw new HeapRejectedException("cannot read " + path + ": it is larger than the " + bytesMax
                    + " bytes a client reads; check that the path names the right file");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The token trimmed, or an exception naming {@code source} (never the token) and what to do. */
    private static String checkedToken(String text, String source) {
        String token = text.strip();
        String problem = null;
        if (token.isEmpty()) {
            problem = "it is empty";
        } else if (token.length() > TOKEN_BYTES_MAX) {
            problem = "it is too long";
        } else if (!token.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
            problem = "it has spaces or characters outside printable ASCII";
        }
        if (problem != null) {
            throw new HeapRejectedException("the token in " + source + " is not usable: " + problem
                    + "; give the token text alone, as heapctl printed it");
        }
        return token;
    }
}
