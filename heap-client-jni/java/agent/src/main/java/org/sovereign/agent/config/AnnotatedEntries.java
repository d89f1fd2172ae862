package org.sovereign.agent.config;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the application's annotations add to the config ({@code @Root}, {@code @Transient},
 * {@code @OnLoad}), recorded by the transformer as it reads each instrumented class file; the
 * config's questions ({@link AgentConfig#isRoot}, {@link AgentConfig#isTransient},
 * {@link AgentConfig#onLoadMethod}) answer with the union of both. Entries are keyed by class name,
 * like config entries, so two class loaders defining the same name share them. Thread-safe: classes
 * load on any thread. ({@code @AutolockRead} needs no record: it acts where it is read, on its method.)
 */
public final class AnnotatedEntries {
    /** Most entries recorded: far above any application's annotated members, so only a runaway fills it. */
    static final int ENTRIES_MAX = 1_000_000;

    private final Set<String> roots = ConcurrentHashMap.newKeySet();
    private final Set<String> transientFields = ConcurrentHashMap.newKeySet();
    /** Class name to the name of its {@code @OnLoad} method. */
    private final Map<String, String> onLoad = new ConcurrentHashMap<>();

    /** Records {@code @Root} on static field {@code field} of {@code dottedClassName}. */
    public void root(String dottedClassName, String field) {
        checkRoom();
        roots.add(dottedClassName + "." + field);
    }

    /** Records {@code @Transient} on field {@code field} of {@code dottedClassName}. */
    public void transientField(String dottedClassName, String field) {
        checkRoom();
        transientFields.add(dottedClassName + "." + field);
    }

    /**
     * Records {@code @OnLoad} on {@code method} of {@code dottedClassName}; returns the method an
     * earlier record named for that class (another loader's version of it) when it differs, else null.
     */
    public String onLoad(String dottedClassName, String method) {
        checkRoom();
        String earlier = onLoad.putIfAbsent(dottedClassName, method);
        return earlier == null || earlier.equals(method) ? null : earlier;
    }

    boolean isRoot(String fullName) {
        return roots.contains(fullName);
    }

    boolean isTransient(String fullName) {
        return transientFields.contains(fullName);
    }

    String onLoadMethod(String dottedClassName) {
        return onLoad.get(dottedClassName);
    }

    private void checkRoom() {
        if (roots.size() + transientFields.size() + onLoad.size() >= ENTRIES_MAX) {
            throw new IllegalStateException("more than " + ENTRIES_MAX + " annotated roots, transient fields and on-load "
                    + "methods were recorded; is `instrument` matching generated classes? Narrow it");
        }
    }

    @Override
    public String toString() {
        return "roots " + roots + ", transient " + transientFields + ", on-load " + onLoad;
    }
}
