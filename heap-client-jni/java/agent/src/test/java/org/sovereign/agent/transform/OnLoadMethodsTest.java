package org.sovereign.agent.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sovereign.agent.config.AgentConfig;
import org.sovereign.agent.config.AgentConfigException;

/**
 * The start-time check of the config's on-load methods, on class files: a missing method, a static
 * one or one with parameters stops the agent naming the file, line and method; an inherited method
 * counts; a class the application class path does not have yet is left to the check at its load.
 */
class OnLoadMethodsTest {
    private static AgentConfig config(String onLoad) {
        return AgentConfig.parse("app.toml", "endpoints = \"x:1\"\ninstrument = [\"fixture.**\", \"webapp.**\"]\n"
                + "on-load = [" + onLoad + "]\n", Map.of());
    }

    private static String refusal(String onLoad) {
        return assertThrows(AgentConfigException.class,
                () -> OnLoadMethods.checkAtStart(config(onLoad), OnLoadMethodsTest.class.getClassLoader())).getMessage();
    }

    @Test
    void aFittingMethodPassesAndAnUnknownClassIsLeftForLater() {
        AgentConfig config = config("\"fixture.Account.describe\", \"fixture.Savings.peekBalance\", \"webapp.Later.reload\"");
        List<AgentConfig.OnLoadEntry> unchecked = OnLoadMethods.checkAtStart(config, getClass().getClassLoader());
        assertEquals(List.of("webapp.Later.reload"), unchecked.stream().map(AgentConfig.OnLoadEntry::fullName).toList(),
                "describe() is Account's, peekBalance() is inherited by Savings; webapp.Later is not on the class path");
    }

    @Test
    void aMissingMethodStopsTheAgentNamingIt() {
        assertEquals("app.toml:3: on-load \"fixture.Account.afterLoad\": fixture.Account has no method afterLoad(); add "
                + "it (an instance method without parameters) or fix the on-load entry", refusal("\"fixture.Account.afterLoad\""));
    }

    @Test
    void aMethodWithParametersStopsTheAgentNamingIt() {
        assertEquals("app.toml:3: on-load \"fixture.Account.deposit\": fixture.Account.deposit(long) takes parameters; an "
                + "on-load method takes none", refusal("\"fixture.Account.deposit\""));
    }

    @Test
    void aStaticMethodStopsTheAgentNamingIt() {
        String message = refusal("\"fixture.Scenario.run\"");
        assertTrue(message.startsWith("app.toml:3: on-load \"fixture.Scenario.run\": fixture.Scenario.run() is static"),
                message);
    }
}
