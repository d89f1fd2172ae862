package org.sovereign.agent;

import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.agent.config.AgentConfigException;
import org.sovereign.agent.runtime.AgentRuntime;
import org.sovereign.agent.runtime.Hooks;
import org.sovereign.agent.transform.SovereignTransformer;

/**
 * The agent's entry point: {@code java -javaagent:sovereign-agent.jar=config=app.toml ...} reads the
 * config, installs the runtime and the class transformer, and closes the heap session at JVM exit
 * (so the cluster frees this JVM's locks at once rather than when its lease ends). A bad config stops
 * the JVM before the application starts, with an error naming the file and line.
 */
public final class SovereignAgent {
    /** The one agent argument: {@code config=PATH}. */
    static final String CONFIG_ARGUMENT = "config=";

    private SovereignAgent() {}

    public static void premain(String arguments, Instrumentation instrumentation) {
        start(arguments, instrumentation);
    }

    /** Attaching to a running JVM works too, but classes loaded before cannot be shared. */
    public static void agentmain(String arguments, Instrumentation instrumentation) {
        start(arguments, instrumentation);
        System.err.println("[sovereign-agent] attached late: classes loaded before now are not instrumented");
    }

    private static void start(String arguments, Instrumentation instrumentation) {
        AgentConfig config = AgentConfig.load(configPath(arguments), System.getenv());
        openJavaUtil(instrumentation);
        AgentRuntime runtime = new AgentRuntime(config);
        Hooks.install(runtime);
        instrumentation.addTransformer(new SovereignTransformer(config), false);
        Runtime.getRuntime().addShutdownHook(new Thread(runtime::close, "sovereign-agent-close"));
        System.err.println("[sovereign-agent] started: " + config);
    }

    /**
     * Opens java.util to the agent for reflection, before any runtime class loads: sharing a
     * LinkedHashMap reads its private accessOrder flag (an access-ordered one is refused).
     */
    private static void openJavaUtil(Instrumentation instrumentation) {
        Module javaBase = Object.class.getModule();
        if (instrumentation.isModifiableModule(javaBase)) {
            instrumentation.redefineModule(javaBase, Set.of(), Map.of(),
                    Map.of("java.util", Set.of(SovereignAgent.class.getModule())), Set.of(), Map.of());
        }
    }

    static Path configPath(String arguments) {
        if (arguments == null || !arguments.startsWith(CONFIG_ARGUMENT) || arguments.length() == CONFIG_ARGUMENT.length()) {
            throw new AgentConfigException("the Sovereign agent needs its config file: start the JVM with "
                    + "-javaagent:sovereign-agent.jar=config=app.toml (the argument was "
                    + (arguments == null ? "missing" : "\"" + arguments + "\"") + ")");
        }
        return Path.of(arguments.substring(CONFIG_ARGUMENT.length()));
    }
}
