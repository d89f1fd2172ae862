package org.sovereign.agent.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sovereign.heap.HeapClient;

/**
 * The agent's configuration, read once at start from the TOML file named by
 * {@code -javaagent:sovereign-agent.jar=config=app.toml}:
 *
 * <pre>
 * endpoints  = "127.0.0.1:7101,127.0.0.1:7102"   # SOVEREIGN_ENDPOINTS overrides
 * roots      = ["demo.Counter.ROOT"]            # static fields shared cluster-wide
 * instrument = ["demo.**"]                      # classes whose instances may be shared
 * transient  = ["demo.Counter.cache"]           # fields kept local, besides `transient` ones
 * on-load    = ["demo.Board.afterLoad"]         # runs after an object of its class is loaded
 * [[autolock]]                                  # optional, repeatable
 * methods = "demo.Board.list*"                  # synchronized in these methods takes ...
 * level   = "read"                              # ... a read lock (default: write)
 * </pre>
 *
 * Every mistake (an unknown key, a wrong type, a root outside {@code instrument}) is an
 * {@link AgentConfigException} naming the file and line; the agent never guesses. The annotations
 * the transformer finds in class files ({@link AnnotatedEntries}) add to the file's entries: the
 * questions below answer with the union of both.
 */
public final class AgentConfig {
    /** Environment variable that, when set, replaces {@code endpoints}. */
    public static final String ENDPOINTS_ENV = "SOVEREIGN_ENDPOINTS";
    /**
     * Environment variable setting the lease of the agent's heap session in ms (the heap client's
     * limits; default its default): how long the locks of a JVM that died stay held.
     */
    public static final String SESSION_TTL_MS_ENV = "SOVEREIGN_SESSION_TTL_MS";
    /** Packages never instrumented, whatever the patterns say: the JDK, the agent and its client. */
    static final List<String> NEVER_INSTRUMENTED = List.of("java.", "javax.", "jdk.", "sun.", "com.sun.",
            "org.sovereign.agent.", "org.sovereign.heap.", "org.sovereign.annotations.");
    /** The top-level keys, in the order error messages list them. */
    static final List<String> KEYS = List.of("endpoints", "roots", "instrument", "transient", "on-load");

    /** The lock a synchronized method or block on a shared object takes. */
    public enum LockLevel { WRITE, READ }

    /** One {@code [[autolock]]} entry: synchronized code in matching methods takes {@code level}. */
    public record Autolock(Glob methods, LockLevel level) {}

    /** One {@code on-load} entry: {@code method} of class {@code className}, written on {@code line}. */
    public record OnLoadEntry(String className, String method, int line) {
        /** "demo.Board.afterLoad", as written. */
        public String fullName() {
            return className + "." + method;
        }
    }

    private final String source;
    private final String endpoints;
    private final long sessionTtlMs;
    private final List<String> roots;
    private final List<Glob> instrument;
    private final List<Glob> transientFields;
    private final List<Autolock> autolocks;
    /** The file's on-load entries by class name. */
    private final Map<String, OnLoadEntry> onLoad;
    private final AnnotatedEntries annotated = new AnnotatedEntries();

    AgentConfig(String source, String endpoints, long sessionTtlMs, List<String> roots, List<Glob> instrument,
            List<Glob> transientFields, List<Autolock> autolocks, Map<String, OnLoadEntry> onLoad) {
        this.source = source;
        this.endpoints = endpoints;
        this.sessionTtlMs = sessionTtlMs;
        this.roots = List.copyOf(roots);
        this.instrument = List.copyOf(instrument);
        this.transientFields = List.copyOf(transientFields);
        this.autolocks = List.copyOf(autolocks);
        this.onLoad = Collections.unmodifiableMap(new LinkedHashMap<>(onLoad));
    }

    /** Reads and checks {@code file}; {@code environment} supplies {@value #ENDPOINTS_ENV}. */
    public static AgentConfig load(Path file, Map<String, String> environment) {
        String text;
        try {
            if (Files.size(file) > Toml.TEXT_CHARS_MAX) {
                throw new AgentConfigException(file + ": larger than " + Toml.TEXT_CHARS_MAX + " bytes; is it the right file?");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AgentConfigException("cannot read the agent config " + file.toAbsolutePath() + " (" + e
                    + "); pass an existing file: -javaagent:sovereign-agent.jar=config=app.toml");
        }
        return parse(file.toString(), text, environment);
    }

    /** Parses and checks config {@code text}; {@code source} names it in errors. */
    public static AgentConfig parse(String source, String text, Map<String, String> environment) {
        Toml.Document document = Toml.parse(source, text);
        for (Toml.Entry entry : document.entries().values()) {
            checkKnown(source, entry);
        }
        Map<String, Toml.Entry> entries = document.entries();
        List<Glob> instrument = globs(source, entries.get("instrument"));
        if (instrument.isEmpty()) {
            throw new AgentConfigException(source + ": `instrument` is missing or empty, so nothing could be shared; "
                    + "add instrument = [\"your.package.**\"]");
        }
        AgentConfig config = new AgentConfig(source, endpoints(source, entries.get("endpoints"), environment),
                sessionTtlMs(environment), strings(source, entries.get("roots")), instrument, globs(source, entries.get("transient")),
                autolocks(document), onLoad(source, entries.get("on-load")));
        config.checkRoots(source, entries.get("roots"));
        config.checkOnLoad(source);
        return config;
    }

    private static void checkKnown(String source, Toml.Entry entry) {
        if (!KEYS.contains(entry.key())) {
            throw new AgentConfigException(source + ":" + entry.line() + ": unknown key `" + entry.key()
                    + "`; the keys are " + String.join(", ", KEYS) + " and [[autolock]] tables");
        }
    }

    private static String endpoints(String source, Toml.Entry entry, Map<String, String> environment) {
        String fromEnvironment = environment.get(ENDPOINTS_ENV);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment.trim();
        }
        if (entry == null) {
            throw new AgentConfigException(source + ": no `endpoints`; add endpoints = \"host:port,host:port\" or set "
                    + ENDPOINTS_ENV);
        }
        if (!(entry.value() instanceof String text) || text.isBlank()) {
            throw new AgentConfigException(source + ":" + entry.line()
                    + ": `endpoints` must be one string, like endpoints = \"127.0.0.1:7101,127.0.0.1:7102\"");
        }
        return text.trim();
    }

    private static long sessionTtlMs(Map<String, String> environment) {
        String text = environment.get(SESSION_TTL_MS_ENV);
        if (text == null || text.isBlank()) {
            return HeapClient.SESSION_TTL_MS_DEFAULT;
        }
        long ttlMs;
        try {
            ttlMs = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            ttlMs = -1;
        }
        if (ttlMs < HeapClient.SESSION_TTL_MS_MIN || ttlMs > HeapClient.SESSION_TTL_MS_MAX) {
            throw new AgentConfigException(SESSION_TTL_MS_ENV + "=\"" + text + "\" is not a lease the heap takes: give "
                    + "milliseconds from " + HeapClient.SESSION_TTL_MS_MIN + " to " + HeapClient.SESSION_TTL_MS_MAX
                    + ", or unset it for " + HeapClient.SESSION_TTL_MS_DEFAULT);
        }
        return ttlMs;
    }

    private static List<String> strings(String source, Toml.Entry entry) {
        if (entry == null) {
            return List.of();
        }
        if (!(entry.value() instanceof List<?> list)) {
            throw new AgentConfigException(source + ":" + entry.line() + ": `" + entry.key()
                    + "` must be an array of strings, like " + entry.key() + " = [\"demo.**\"]");
        }
        List<String> strings = new ArrayList<>();
        for (Object item : list) {
            strings.add((String) item);
        }
        return strings;
    }

    private static List<Glob> globs(String source, Toml.Entry entry) {
        List<Glob> globs = new ArrayList<>();
        for (String text : strings(source, entry)) {
            globs.add(Glob.of(text, source + ":" + entry.line()));
        }
        return globs;
    }

    /** {@code on-load = ["demo.Board.afterLoad"]}: at most one method per class. */
    private static Map<String, OnLoadEntry> onLoad(String source, Toml.Entry entry) {
        Map<String, OnLoadEntry> byClass = new LinkedHashMap<>();
        for (String name : strings(source, entry)) {
            int dot = name.lastIndexOf('.');
            if (dot <= 0 || dot == name.length() - 1 || !isJavaName(name)) {
                throw new AgentConfigException(source + ":" + entry.line() + ": on-load \"" + name + "\" is not a "
                        + "method's full name; write it as package.Class.method, like demo.Board.afterLoad");
            }
            OnLoadEntry onLoad = new OnLoadEntry(name.substring(0, dot), name.substring(dot + 1), entry.line());
            OnLoadEntry other = byClass.putIfAbsent(onLoad.className(), onLoad);
            if (other != null) {
                throw new AgentConfigException(source + ":" + entry.line() + ": on-load names two methods of "
                        + onLoad.className() + " (" + other.method() + " and " + onLoad.method() + "); a class has one "
                        + "on-load method: keep one and call the other from it");
            }
        }
        return byClass;
    }

    private static List<Autolock> autolocks(Toml.Document document) {
        List<Autolock> autolocks = new ArrayList<>();
        for (Toml.Table table : document.tables()) {
            String where = document.source() + ":" + table.line();
            if (!table.name().equals("autolock")) {
                throw new AgentConfigException(where + ": unknown table [[" + table.name()
                        + "]]; the only table is [[autolock]]");
            }
            Glob methods = null;
            LockLevel level = LockLevel.WRITE;
            for (Toml.Entry entry : table.entries().values()) {
                String at = document.source() + ":" + entry.line();
                if (!(entry.value() instanceof String value)) {
                    throw new AgentConfigException(at + ": `" + entry.key() + "` of [[autolock]] must be one string");
                }
                switch (entry.key()) {
                    case "methods" -> methods = Glob.of(value, at);
                    case "level" -> level = level(value, at);
                    default -> throw new AgentConfigException(at + ": unknown key `" + entry.key()
                            + "` in [[autolock]]; its keys are methods and level");
                }
            }
            if (methods == null) {
                throw new AgentConfigException(where + ": [[autolock]] needs methods = \"package.Class.method*\"");
            }
            autolocks.add(new Autolock(methods, level));
        }
        return autolocks;
    }

    private static LockLevel level(String value, String where) {
        switch (value) {
            case "write":
                return LockLevel.WRITE;
            case "read":
                return LockLevel.READ;
            default:
                throw new AgentConfigException(where + ": level = \"" + value + "\" is not a lock level; write "
                        + "level = \"write\" or level = \"read\"");
        }
    }

    /** Every root is `package.Class.field` with its class instrumented (its accesses are rewritten). */
    private void checkRoots(String source, Toml.Entry entry) {
        for (String root : roots) {
            int dot = root.lastIndexOf('.');
            String where = source + ":" + entry.line() + ": root \"" + root + "\"";
            if (dot <= 0 || dot == root.length() - 1 || !isJavaName(root)) {
                throw new AgentConfigException(where + " is not a static field's full name; write it as "
                        + "package.Class.FIELD, like demo.Counter.ROOT");
            }
            if (!isInstrumented(root.substring(0, dot))) {
                throw new AgentConfigException(where + ": its class " + root.substring(0, dot) + " is not matched by "
                        + "`instrument`, so its accesses would not be rewritten; add it (or its package) to instrument");
            }
        }
    }

    /** Every on-load method's class is instrumented (only those objects are ever loaded from the heap). */
    private void checkOnLoad(String source) {
        for (OnLoadEntry entry : onLoad.values()) {
            if (!isInstrumented(entry.className())) {
                throw new AgentConfigException(source + ":" + entry.line() + ": on-load \"" + entry.fullName()
                        + "\": its class " + entry.className() + " is not matched by `instrument`, so its objects are "
                        + "never loaded from the heap; add it (or its package) to instrument");
            }
        }
    }

    private static boolean isJavaName(String dotted) {
        for (String part : dotted.split("\\.", -1)) {
            if (part.isEmpty() || !Character.isJavaIdentifierStart(part.charAt(0))) {
                return false;
            }
            for (int i = 1; i < part.length(); i++) {
                if (!Character.isJavaIdentifierPart(part.charAt(i))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The config file's name, as errors and reports cite it. */
    public String source() {
        return source;
    }

    /** What annotations in the instrumented classes add; the transformer records into it. */
    public AnnotatedEntries annotated() {
        return annotated;
    }

    /** "host:port,host:port": where the heap nodes answer. */
    /** The lease of the agent's heap session, in ms. */
    public long sessionTtlMs() {
        return sessionTtlMs;
    }

    public String endpoints() {
        return endpoints;
    }

    /** The root fields' full names (demo.Counter.ROOT), in config order. */
    public List<String> roots() {
        return roots;
    }

    /** Whether instances of {@code dottedClassName} may be shared (its code is rewritten). */
    public boolean isInstrumented(String dottedClassName) {
        if (isNeverInstrumented(dottedClassName)) {
            return false;
        }
        for (Glob glob : instrument) {
            if (glob.matches(dottedClassName)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code dottedClassName} is a JDK or agent class, which no pattern can instrument. */
    public boolean isNeverInstrumented(String dottedClassName) {
        for (String prefix : NEVER_INSTRUMENTED) {
            if (dottedClassName.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** Whether static field {@code field} of {@code dottedClassName} is a root (in the file, or by {@code @Root}). */
    public boolean isRoot(String dottedClassName, String field) {
        String name = dottedClassName + "." + field;
        return roots.contains(name) || annotated.isRoot(name);
    }

    /** Whether the config (or {@code @Transient}) keeps field {@code field} (declared by {@code dottedClassName}) local. */
    public boolean isTransient(String dottedClassName, String field) {
        String name = dottedClassName + "." + field;
        if (annotated.isTransient(name)) {
            return true;
        }
        for (Glob glob : transientFields) {
            if (glob.matches(name)) {
                return true;
            }
        }
        return false;
    }

    /** The lock synchronized code in {@code method} of {@code dottedClassName} takes: the first match, else write. */
    public LockLevel lockLevel(String dottedClassName, String method) {
        String name = dottedClassName + "." + method;
        for (Autolock autolock : autolocks) {
            if (autolock.methods().matches(name)) {
                return autolock.level();
            }
        }
        return LockLevel.WRITE;
    }

    /**
     * The name of the on-load method of class {@code dottedClassName} (not its superclasses'): the
     * file's entry, else its {@code @OnLoad} method; null when it has neither.
     */
    public String onLoadMethod(String dottedClassName) {
        OnLoadEntry entry = onLoad.get(dottedClassName);
        return entry != null ? entry.method() : annotated.onLoadMethod(dottedClassName);
    }

    /** The file's on-load entries (what the agent checks against class files at start). */
    public Collection<OnLoadEntry> onLoadEntries() {
        return onLoad.values();
    }

    /** The file's on-load entry for class {@code dottedClassName}, or null. */
    public OnLoadEntry onLoadEntry(String dottedClassName) {
        return onLoad.get(dottedClassName);
    }

    @Override
    public String toString() {
        List<String> onLoadNames = new ArrayList<>();
        onLoad.values().forEach(entry -> onLoadNames.add(entry.fullName()));
        return "endpoints " + endpoints + ", session lease " + sessionTtlMs + " ms, roots " + roots + ", instrument " + instrument + ", transient "
                + transientFields + ", on-load " + onLoadNames + ", autolock " + autolocks;
    }
}
