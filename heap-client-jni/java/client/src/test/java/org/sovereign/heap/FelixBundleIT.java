package org.sovereign.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleWiring;

/**
 * The built jar (target/heap-client-VERSION.jar, named by {@code sovereign.bundle.jar}) is a
 * working OSGi bundle: the Felix framework, launched through the standard launcher API,
 * installs it, resolves it (including its Bundle-NativeCode clause for Linux x86-64), starts it, and
 * the bundle's own class loader loads the API and its native library. Runs in Maven's
 * {@code package} phase, after the jar is built.
 */
@Timeout(120)
class FelixBundleIT {
    @Test
    void theJarResolvesAndStartsInFelix() throws Exception {
        Path jar = Path.of(System.getProperty("sovereign.bundle.jar"));
        assertTrue(Files.isRegularFile(jar), jar + " is missing: run mvn package");
        Path storage = Files.createTempDirectory(TestCluster.workDir(), "felix-");
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).iterator().next();
        Framework framework = factory.newFramework(config);
        framework.start();
        try {
            BundleContext context = framework.getBundleContext();
            Bundle bundle = context.installBundle(jar.toUri().toString());
            assertEquals("org.sovereign.heap", bundle.getSymbolicName());
            assertEquals("0.1.0", bundle.getVersion().toString());
            bundle.start();
            assertEquals(Bundle.ACTIVE, bundle.getState(), "bundle state");
            System.out.println("[felix] " + framework.getSymbolicName() + " " + framework.getVersion() + ": "
                    + bundle.getSymbolicName() + " " + bundle.getVersion() + " ACTIVE");

            List<BundleCapability> exported = bundle.adapt(BundleWiring.class).getCapabilities("osgi.wiring.package");
            assertEquals(1, exported.size(), "exported packages: " + exported);
            assertEquals("org.sovereign.heap", exported.get(0).getAttributes().get("osgi.wiring.package"));
            assertTrue(bundle.adapt(BundleWiring.class).getRequiredWires("osgi.wiring.package").isEmpty(),
                    "the bundle imports no package");

            Class<?> client = bundle.loadClass("org.sovereign.heap.HeapClient");
            assertNotSame(HeapClient.class, client, "loaded by the bundle, not the test class path");
            Object version = client.getMethod("nativeVersion").invoke(null);
            assertEquals("0.1.0", version, "the native library loaded inside the bundle");
            System.out.println("[felix] native library " + version + " loaded by the bundle's class loader");

            bundle.stop();
            assertEquals(Bundle.RESOLVED, bundle.getState());
        } finally {
            framework.stop();
            framework.waitForStop(30_000);
        }
    }
}
