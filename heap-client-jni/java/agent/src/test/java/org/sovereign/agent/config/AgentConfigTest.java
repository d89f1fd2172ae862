package org.sovereign.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sovereign.heap.HeapClient;

/** The config's meaning: the issue's example, the endpoints override, and errors for everything it cannot mean. */
class AgentConfigTest {
    private static String error(String text, Map<String, String> environment) {
        return assertThrows(AgentConfigException.class, () -> AgentConfig.parse("app.toml", text, environment))
                .getMessage();
    }

    @Test
    void theIssuesExampleMeansWhatItSays() {
        AgentConfig config = AgentConfig.parse("app.toml", TomlTest.ISSUE_EXAMPLE, Map.of());
        assertEquals("127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103", config.endpoints());
        assertEquals(List.of("demo.Counter.ROOT"), config.roots());
        assertTrue(config.isRoot("demo.Counter", "ROOT"));
        assertFalse(config.isRoot("demo.Counter", "OTHER"));
        assertTrue(config.isInstrumented("demo.Counter"));
        assertTrue(config.isInstrumented("demo.model.Board$Topic"));
        assertFalse(config.isInstrumented("other.Thing"));
        assertTrue(config.isTransient("demo.Counter", "cache"));
        assertFalse(config.isTransient("demo.Counter", "count"));
        assertEquals(AgentConfig.LockLevel.READ, config.lockLevel("demo.Board", "listTopics"));
        assertEquals(AgentConfig.LockLevel.WRITE, config.lockLevel("demo.Board", "addTopic"));
    }

    @Test
    void theEnvironmentOverridesEndpointsAndCanStandInForThem() {
        AgentConfig overridden = AgentConfig.parse("app.toml", TomlTest.ISSUE_EXAMPLE,
                Map.of(AgentConfig.ENDPOINTS_ENV, "10.0.0.1:7101"));
        assertEquals("10.0.0.1:7101", overridden.endpoints());
        AgentConfig fromEnvironment = AgentConfig.parse("app.toml", "instrument = [\"demo.**\"]\n",
                Map.of(AgentConfig.ENDPOINTS_ENV, "10.0.0.2:7101"));
        assertEquals("10.0.0.2:7101", fromEnvironment.endpoints());
        String missing = error("instrument = [\"demo.**\"]\n", Map.of());
        assertTrue(missing.contains("no `endpoints`") && missing.contains(AgentConfig.ENDPOINTS_ENV), missing);
    }

    @Test
    void theSessionLeaseComesFromTheEnvironmentWithinTheClientsLimits() {
        String text = "endpoints = \"x:1\"\ninstrument = [\"demo.**\"]\n";
        assertEquals(HeapClient.SESSION_TTL_MS_DEFAULT, AgentConfig.parse("app.toml", text, Map.of()).sessionTtlMs());
        assertEquals(3_000, AgentConfig.parse("app.toml", text, Map.of(AgentConfig.SESSION_TTL_MS_ENV, " 3000 "))
                .sessionTtlMs());
        for (String bad : new String[] {"soon", "1499", "300001", "-5"}) {
            String message = error(text, Map.of(AgentConfig.SESSION_TTL_MS_ENV, bad));
            assertTrue(message.contains(AgentConfig.SESSION_TTL_MS_ENV) && message.contains("1500 to 300000"), message);
        }
    }

    @Test
    void theJdkAndTheAgentAreNeverInstrumented() {
        AgentConfig everything = AgentConfig.parse("app.toml", "endpoints = \"x:1\"\ninstrument = [\"**\"]\n", Map.of());
        assertTrue(everything.isInstrumented("com.example.Thing"));
        for (String name : List.of("java.lang.String", "javax.net.SocketFactory", "jdk.internal.misc.Unsafe",
                "sun.misc.Unsafe", "com.sun.Thing", "org.sovereign.agent.runtime.Hooks", "org.sovereign.heap.HeapObject")) {
            assertFalse(everything.isInstrumented(name), name);
        }
    }

    @Test
    void mistakesAreErrorsWithLineAndFix() {
        String base = "endpoints = \"x:1\"\n";
        String unknown = error(base + "instrument = [\"demo.**\"]\nrots = [\"demo.Counter.ROOT\"]\n", Map.of());
        assertTrue(unknown.startsWith("app.toml:3: unknown key `rots`; the keys are endpoints, roots"), unknown);
        assertTrue(unknown.endsWith("the keys are endpoints, roots, instrument, transient, on-load and [[autolock]] tables"),
                unknown);
        String noInstrument = error(base, Map.of());
        assertTrue(noInstrument.contains("`instrument` is missing or empty"), noInstrument);
        String rootOutside = error(base + "instrument = [\"demo.**\"]\nroots = [\"other.Main.STATE\"]\n", Map.of());
        assertTrue(rootOutside.startsWith("app.toml:3: root \"other.Main.STATE\": its class other.Main is not matched"),
                rootOutside);
        String notAField = error(base + "instrument = [\"demo.**\"]\nroots = [\"Counter\"]\n", Map.of());
        assertTrue(notAField.contains("is not a static field's full name"), notAField);
        String level = error(base + "instrument = [\"demo.**\"]\n[[autolock]]\nmethods = \"demo.A.b\"\nlevel = \"shared\"\n",
                Map.of());
        assertTrue(level.startsWith("app.toml:5: level = \"shared\" is not a lock level"), level);
        String noMethods = error(base + "instrument = [\"demo.**\"]\n[[autolock]]\nlevel = \"read\"\n", Map.of());
        assertTrue(noMethods.startsWith("app.toml:3: [[autolock]] needs methods"), noMethods);
        String wrongType = error(base + "instrument = \"demo.**\"\n", Map.of());
        assertTrue(wrongType.startsWith("app.toml:2: `instrument` must be an array of strings"), wrongType);
    }

    @Test
    void onLoadNamesOneMethodPerInstrumentedClass() {
        AgentConfig config = AgentConfig.parse("app.toml", "endpoints = \"x:1\"\ninstrument = [\"demo.**\"]\n"
                + "on-load = [\"demo.Board.afterLoad\", \"demo.model.Topic$Post.reindex\"]\n", Map.of());
        assertEquals("afterLoad", config.onLoadMethod("demo.Board"));
        assertEquals("reindex", config.onLoadMethod("demo.model.Topic$Post"));
        assertEquals(null, config.onLoadMethod("demo.Other"), "none for other classes");
        assertEquals(null, config.onLoadMethod("demo"), "not a prefix match");
        assertEquals(List.of("demo.Board.afterLoad:3", "demo.model.Topic$Post.reindex:3"), config.onLoadEntries().stream()
                .map(entry -> entry.fullName() + ":" + entry.line()).toList());
        assertTrue(config.toString().contains("on-load [demo.Board.afterLoad, demo.model.Topic$Post.reindex]"),
                config.toString());
    }

    @Test
    void onLoadMistakesAreErrorsWithLineAndFix() {
        String base = "endpoints = \"x:1\"\ninstrument = [\"demo.**\"]\n";
        String notAName = error(base + "on-load = [\"afterLoad\"]\n", Map.of());
        assertEquals("app.toml:3: on-load \"afterLoad\" is not a method's full name; write it as package.Class.method, "
                + "like demo.Board.afterLoad", notAName);
        String withParentheses = error(base + "on-load = [\"demo.Board.afterLoad()\"]\n", Map.of());
        assertTrue(withParentheses.startsWith("app.toml:3: on-load \"demo.Board.afterLoad()\" is not a method's full name"),
                withParentheses);
        String outside = error(base + "on-load = [\"other.Board.afterLoad\"]\n", Map.of());
        assertEquals("app.toml:3: on-load \"other.Board.afterLoad\": its class other.Board is not matched by `instrument`, "
                + "so its objects are never loaded from the heap; add it (or its package) to instrument", outside);
        String twice = error(base + "on-load = [\"demo.Board.a\",\n  \"demo.Board.b\"]\n", Map.of());
        assertEquals("app.toml:3: on-load names two methods of demo.Board (a and b); a class has one on-load method: keep "
                + "one and call the other from it", twice);
        String notAnArray = error(base + "on-load = \"demo.Board.afterLoad\"\n", Map.of());
        assertTrue(notAnArray.startsWith("app.toml:3: `on-load` must be an array of strings"), notAnArray);
    }

    @Test
    void aMissingFileSaysHowToPassOne() {
        String message = assertThrows(AgentConfigException.class,
                () -> AgentConfig.load(Path.of("target/no-such-dir/app.toml"), Map.of())).getMessage();
        assertTrue(message.contains("cannot read the agent config") && message.contains("config=app.toml"), message);
    }
}
