package org.sovereign.rap.it;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.sovereign.testkit.HeapNodes;

/**
 * What a failover test runs against: three heap nodes, two Tomcats with the recording demo, HAProxy
 * round-robin in front (deploy/rap/haproxy.cfg) and headless chromium; closed in reverse order.
 */
final class RapDeployment implements AutoCloseable {
    static final String CONTEXT_PATH = "/" + TomcatProcess.CONTEXT;

    final HeapNodes heap;
    final TomcatGroup tomcats;
    final HaProxyProcess proxy;
    final HeadlessChromium browser;
    private final long startedNanos = System.nanoTime();
    private final String name;

    private RapDeployment(String name, HeapNodes heap, TomcatGroup tomcats, HaProxyProcess proxy,
            HeadlessChromium browser) {
        this.name = name;
        this.heap = heap;
        this.tomcats = tomcats;
        this.proxy = proxy;
        this.browser = browser;
    }

    static RapDeployment start(String name) throws Exception {
        return start(name, Map.of());
    }

    /** As {@link #start(String)}, with extra context parameters for both Tomcats (the library's settings). */
    static RapDeployment start(String name, Map<String, String> contextParams) throws Exception {
        Path work = TestPaths.directory("sovereign.test.dir", "target/test-work");
        HeapNodes heap = HeapNodes.start();
        TomcatGroup tomcats = null;
        HaProxyProcess proxy = null;
        try {
            TomcatSettings a = TomcatSettings.withHeap("tomcat-a", heap);
            TomcatSettings b = TomcatSettings.withHeap("tomcat-b", heap);
            for (Map.Entry<String, String> param : contextParams.entrySet()) {
                a = a.withContextParam(param.getKey(), param.getValue());
                b = b.withContextParam(param.getKey(), param.getValue());
            }
            tomcats = TomcatGroup.start(work, List.of(a, b));
            proxy = HaProxyProcess.start(work, tomcats.get(0), tomcats.get(1), Map.of());
            RapDeployment deployment = new RapDeployment(name, heap, tomcats, proxy, HeadlessChromium.start(work));
            deployment.log("start: 3 heap nodes, two Tomcats, HAProxy round-robin on port " + proxy.port);
            return deployment;
        } catch (Exception | Error e) {
            if (proxy != null) {
                proxy.close();
            }
            if (tomcats != null) {
                tomcats.close();
            }
            heap.close();
            throw e;
        }
    }

    TomcatProcess a() {
        return tomcats.get(0);
    }

    TomcatProcess b() {
        return tomcats.get(1);
    }

    TomcatProcess other(TomcatProcess tomcat) {
        return tomcat == a() ? b() : a();
    }

    /** Opens page {@code path} (/app, /unstable) through HAProxy. */
    void open(String path) {
        browser.open(proxy.url(CONTEXT_PATH + path));
    }

    /** Where this test's screenshots go. */
    Path screenshot(String file) throws Exception {
        Path path = TestPaths.directory("sovereign.rap.screenshots", "target/rap-it").resolve(name).resolve(file);
        browser.screenshot(path);
        return path;
    }

    void log(String phase) {
        System.out.printf("[%s] %5.1f s  %s%n", name, (System.nanoTime() - startedNanos) / 1e9, phase);
    }

    @Override
    public void close() throws Exception {
        try {
            browser.close();
        } finally {
            try {
                proxy.close();
            } finally {
                try {
                    tomcats.close();
                } finally {
                    heap.close();
                }
            }
        }
    }
}
