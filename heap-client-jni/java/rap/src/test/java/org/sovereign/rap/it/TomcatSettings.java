package org.sovereign.rap.it;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.sovereign.testkit.HeapNodes;

/**
 * What one test Tomcat runs with beyond the demo webapp: its name (in logs, and HAProxy's server name
 * in deploy/rap/haproxy.cfg), extra JVM arguments (system properties), context-params for the webapp
 * (written as {@code <Parameter>}s of its META-INF/context.xml, e.g. the heap endpoints), extra jars
 * for WEB-INF/lib, and changes to the process environment (e.g. the heap's security settings).
 * Immutable; the {@code with...} methods return a changed copy.
 */
record TomcatSettings(String name, List<String> jvmArgs, Map<String, String> contextParams, List<Path> webappJars,
        Consumer<Map<String, String>> environment) {

    TomcatSettings {
        jvmArgs = List.copyOf(jvmArgs);
        contextParams = Map.copyOf(contextParams);
        webappJars = List.copyOf(webappJars);
    }

    /** The context parameter the recording library reads the heap cluster's endpoints from. */
    static final String ENDPOINTS_PARAM = "sovereign.rap.endpoints";

    /** The demo, recording on {@code heap}: its endpoints as context parameter, its client environment. */
    static TomcatSettings withHeap(String name, HeapNodes heap) {
        return named(name).withContextParam(ENDPOINTS_PARAM, heap.endpoints()).withEnvironment(heap::clientEnvironment);
    }

    /** The demo as it is: no extra arguments, parameters, jars or environment. */
    static TomcatSettings named(String name) {
        return new TomcatSettings(name, List.of(), Map.of(), List.of(), environment -> {
        });
    }

    TomcatSettings withJvmArg(String argument) {
        List<String> arguments = new ArrayList<>(jvmArgs);
        arguments.add(argument);
        return new TomcatSettings(name, arguments, contextParams, webappJars, environment);
    }

    TomcatSettings withContextParam(String param, String value) {
        Map<String, String> params = new LinkedHashMap<>(contextParams);
        params.put(param, value);
        return new TomcatSettings(name, jvmArgs, params, webappJars, environment);
    }

    TomcatSettings withWebappJar(Path jar) {
        List<Path> jars = new ArrayList<>(webappJars);
        jars.add(jar);
        return new TomcatSettings(name, jvmArgs, contextParams, jars, environment);
    }

    /** Adds {@code change} after the changes already set (both run on the process's environment). */
    TomcatSettings withEnvironment(Consumer<Map<String, String>> change) {
        return new TomcatSettings(name, jvmArgs, contextParams, webappJars, environment.andThen(change));
    }
}
