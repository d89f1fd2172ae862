package org.sovereign.agent.transform;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.sovereign.agent.config.AgentConfig;

/**
 * A class loader for the transformer tests: defines the {@code fixture} classes itself, rewritten as
 * the agent would rewrite them (no agent, no runtime: nothing is shared), and delegates everything
 * else. Keeps the rewritten bytes for inspection.
 */
public final class RewritingLoader extends ClassLoader {
    static final String FIXTURES = "fixture.";

    private final ClassRewriter rewriter;
    private final Map<String, byte[]> rewritten = new ConcurrentHashMap<>();

    public RewritingLoader(AgentConfig config) {
        super(RewritingLoader.class.getClassLoader());
        this.rewriter = new ClassRewriter(config);
    }

    /** The config of the fixture classes ({@code fixture.Account.CONFIG}). */
    public static AgentConfig fixtureConfig() {
        return AgentConfig.parse("fixture.toml", fixture.Account.CONFIG, Map.of());
    }

    /** The original class file of {@code dottedName}, from the test class path. */
    public static byte[] original(String dottedName) {
        try (InputStream in = RewritingLoader.class.getClassLoader()
                .getResourceAsStream(dottedName.replace('.', '/') + ".class")) {
            if (in == null) {
                throw new IllegalArgumentException("no class file for " + dottedName);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The rewritten class file of fixture {@code dottedName} (loading it if needed). */
    public byte[] rewritten(String dottedName) throws ClassNotFoundException {
        loadClass(dottedName);
        return rewritten.get(dottedName);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (!name.startsWith(FIXTURES)) {
            return super.loadClass(name, resolve);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> loaded = findLoadedClass(name);
            if (loaded == null) {
                byte[] original = original(name);
                byte[] bytes = rewriter.rewrite(this, original);
                if (bytes == null) {
                    throw new AssertionError(name + " was not rewritten");
                }
                rewritten.put(name, bytes);
                loaded = defineClass(name, bytes, 0, bytes.length);
            }
            if (resolve) {
                resolveClass(loaded);
            }
            return loaded;
        }
    }
}
