package org.sovereign.agent.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Class, field and method patterns: ** spans packages, * stays within one name, no star is exact. */
class GlobTest {
    @Test
    void doubleStarMatchesThePackageAndEverythingBelow() {
        Glob glob = Glob.of("demo.**", "test");
        assertTrue(glob.matches("demo.Counter"));
        assertTrue(glob.matches("demo.model.Board"));
        assertTrue(glob.matches("demo.Counter$Cell"));
        assertFalse(glob.matches("demox.Counter"), "another package that starts the same");
        assertFalse(glob.matches("other.demo.Counter"));
    }

    @Test
    void singleStarStaysInOneName() {
        Glob classes = Glob.of("demo.*", "test");
        assertTrue(classes.matches("demo.Counter"));
        assertTrue(classes.matches("demo.Counter$Cell"), "nested classes are in the package");
        assertFalse(classes.matches("demo.model.Board"));
        Glob methods = Glob.of("demo.Board.list*", "test");
        assertTrue(methods.matches("demo.Board.list"));
        assertTrue(methods.matches("demo.Board.listTopics"));
        assertFalse(methods.matches("demo.Board.add"));
    }

    @Test
    void aNameWithoutStarsIsExact() {
        Glob glob = Glob.of("demo.Counter.cache", "test");
        assertTrue(glob.matches("demo.Counter.cache"));
        assertFalse(glob.matches("demo.Counter.cacheSize"));
        assertFalse(glob.matches("demoXCounter.cache"), "dots are literal");
    }

    @Test
    void charactersNoJavaNameHasAreRejected() {
        String message = assertThrows(AgentConfigException.class, () -> Glob.of("demo/Counter", "app.toml:3"))
                .getMessage();
        assertTrue(message.startsWith("app.toml:3: `/` in \"demo/Counter\""), message);
        assertThrows(AgentConfigException.class, () -> Glob.of("", "app.toml:3"));
    }
}
