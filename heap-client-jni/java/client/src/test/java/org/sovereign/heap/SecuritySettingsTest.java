package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without a cluster: how {@link Security} reads its files and settings (the same rules as the Rust
 * client's {@code ClientSecurity::discover}), that bad files and tokens fail with a
 * {@link HeapRejectedException} saying what to fix, and that the token never shows.
 */
class SecuritySettingsTest {
    private static final String CA_TEXT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    private static final String TOKEN = "ab".repeat(32);

    @TempDir
    Path temp;

    private Path securityFolder(Path dir, String token) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(Security.CA_FILE), CA_TEXT, StandardCharsets.UTF_8);
        if (token != null) {
            Files.writeString(dir.resolve(Security.ADMIN_TOKEN_FILE), token + "\n", StandardCharsets.UTF_8);
        }
        return dir;
    }

    private static Security discover(Map<String, String> properties, Map<String, String> environment, Path workingDir) {
        return Security.discover(properties::get, environment::get, workingDir);
    }

    @Test
    void plaintextHasNeitherCaNorToken() {
        Security plaintext = Security.plaintext();
        assertFalse(plaintext.isTls());
        assertFalse(plaintext.hasToken());
        assertNull(plaintext.caPem());
        assertNull(plaintext.token());
        assertEquals("Security[plaintext, no token]", plaintext.toString());
    }

    @Test
    void aFolderGivesItsCaAndTrimmedAdminToken() throws Exception {
        Security security = Security.fromDirectory(securityFolder(temp.resolve("s"), "  " + TOKEN + "  "));
        assertTrue(security.isTls());
        assertEquals(CA_TEXT, new String(security.caPem(), StandardCharsets.UTF_8));
        assertEquals(TOKEN, security.token());
    }

    @Test
    void aFolderWithoutATokenFileGivesNoToken() throws Exception {
        Security security = Security.fromDirectory(securityFolder(temp.resolve("s"), null));
        assertTrue(security.isTls());
        assertFalse(security.hasToken());
    }

    @Test
    void aFolderWithoutACaSaysWhichFileIsMissingAndWhatToDo() {
        HeapRejectedException e = assertThrows(HeapRejectedException.class, () -> Security.fromDirectory(temp));
        assertTrue(e.getMessage().contains(temp.resolve("ca.pem").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains(Security.SECURITY_DIR_ENV), e.getMessage());
    }

    @Test
    void aCaFileWithoutACertificateOrTooLargeIsRefused() throws Exception {
        Path notPem = Files.writeString(temp.resolve("not.pem"), "hello", StandardCharsets.UTF_8);
        HeapRejectedException e = assertThrows(HeapRejectedException.class,
                () -> Security.plaintext().withCaFile(notPem));
        assertTrue(e.getMessage().contains("no PEM certificate"), e.getMessage());
        Path large = Files.write(temp.resolve("large.pem"), new byte[Security.CA_FILE_BYTES_MAX + 1]);
        e = assertThrows(HeapRejectedException.class, () -> Security.plaintext().withCaFile(large));
        assertTrue(e.getMessage().contains("larger than"), e.getMessage());
    }

    @Test
    void badTokensAreRefusedWithoutShowingThem() {
        String secret = "secret-part with-space";
        HeapRejectedException e = assertThrows(HeapRejectedException.class,
                () -> Security.plaintext().withToken(secret));
        assertFalse(e.getMessage().contains("secret-part"), e.getMessage());
        assertTrue(e.getMessage().contains("spaces"), e.getMessage());
        assertThrows(HeapRejectedException.class, () -> Security.plaintext().withToken("  \n"));
        assertThrows(HeapRejectedException.class,
                () -> Security.plaintext().withToken("x".repeat(Security.TOKEN_BYTES_MAX + 1)));
        assertThrows(NullPointerException.class, () -> Security.plaintext().withToken(null));
    }

    @Test
    void theTokenNeverAppearsInToString() throws Exception {
        Security security = Security.fromDirectory(securityFolder(temp.resolve("s"), TOKEN));
        String text = security.toString();
        assertFalse(text.contains(TOKEN), text);
        assertTrue(text.contains("TLS") && text.contains("token set"), text);
    }

    @Test
    void instancesAreImmutableAndHandOutCopies() throws Exception {
        Security plaintext = Security.plaintext();
        Security withToken = plaintext.withToken(TOKEN);
        assertFalse(plaintext.hasToken());
        assertTrue(withToken.hasToken());
        Security tls = withToken.withCaFile(securityFolder(temp.resolve("s"), null).resolve(Security.CA_FILE));
        assertFalse(withToken.isTls());
        assertEquals(TOKEN, tls.token());
        tls.caPem()[0] = 'X';
        assertEquals('-', tls.caPem()[0]);
    }

    @Test
    void discoverWithNothingSetIsPlaintext() {
        assertSame(Security.plaintext(), discover(Map.of(), Map.of(), temp));
    }

    @Test
    void discoverFindsTheDevFolderInTheWorkingDirectory() throws Exception {
        securityFolder(temp.resolve(Security.DEV_SECURITY_DIR), TOKEN);
        Security security = discover(Map.of(), Map.of(), temp);
        assertTrue(security.isTls());
        assertEquals(TOKEN, security.token());
    }

    @Test
    void discoverPlaintextWinsOverEverything() throws Exception {
        securityFolder(temp.resolve(Security.DEV_SECURITY_DIR), TOKEN);
        assertSame(Security.plaintext(), discover(Map.of(), Map.of(Security.PLAINTEXT_ENV, "1"), temp));
        assertSame(Security.plaintext(), discover(Map.of(), Map.of(Security.PLAINTEXT_ENV, "TRUE"), temp));
        assertSame(Security.plaintext(), discover(Map.of(Security.PLAINTEXT_PROPERTY, "true"),
                Map.of(Security.PLAINTEXT_ENV, "0"), temp));
        assertTrue(discover(Map.of(), Map.of(Security.PLAINTEXT_ENV, "0"), temp).isTls());
    }

    @Test
    void discoverUsesTheNamedFolderAndLetsCaAndTokenOverrideIt() throws Exception {
        Path folder = securityFolder(temp.resolve("named"), TOKEN);
        Map<String, String> environment = new HashMap<>();
        environment.put(Security.SECURITY_DIR_ENV, folder.toString());
        assertEquals(TOKEN, discover(Map.of(), environment, temp).token());

        String other = "cd".repeat(32);
        environment.put(Security.TOKEN_ENV, other);
        assertEquals(other, discover(Map.of(), environment, temp).token());
        String property = "ef".repeat(32);
        assertEquals(property, discover(Map.of(Security.TOKEN_PROPERTY, property), environment, temp).token());

        Path otherCa = Files.writeString(temp.resolve("other.pem"), CA_TEXT + "\n", StandardCharsets.UTF_8);
        environment.put(Security.CA_ENV, otherCa.toString());
        Security security = discover(Map.of(), environment, temp);
        assertEquals(CA_TEXT + "\n", new String(security.caPem(), StandardCharsets.UTF_8));
        assertTrue(security.toString().contains(otherCa.toString()), security.toString());
    }

    @Test
    void discoverPrefersTheFolderPropertyOverTheEnvironment() throws Exception {
        Path fromProperty = securityFolder(temp.resolve("property"), TOKEN);
        Map<String, String> environment = Map.of(Security.SECURITY_DIR_ENV, temp.resolve("missing").toString());
        Security security = discover(Map.of(Security.SECURITY_DIR_PROPERTY, fromProperty.toString()), environment, temp);
        assertEquals(TOKEN, security.token());
        // The environment's folder alone does not exist: a clear error, not a silent plaintext client.
        assertThrows(HeapRejectedException.class, () -> discover(Map.of(), environment, temp));
    }

    @Test
    void discoverNamesTheSettingABadTokenCameFrom() {
        HeapRejectedException e = assertThrows(HeapRejectedException.class,
                () -> discover(Map.of(), Map.of(Security.TOKEN_ENV, "tok3n\u00e9"), temp));
        assertTrue(e.getMessage().contains(Security.TOKEN_ENV), e.getMessage());
        assertFalse(e.getMessage().contains("tok3n"), e.getMessage());
    }
}
