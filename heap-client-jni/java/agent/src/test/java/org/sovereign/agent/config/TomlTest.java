package org.sovereign.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The agent's TOML subset: what it reads, and that every bad input names the file and line and says what to write. */
class TomlTest {
    /** The issue's example config, verbatim. */
    static final String ISSUE_EXAMPLE = String.join("\n",
            "endpoints  = \"127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103\"   # SOVEREIGN_ENDPOINTS overrides",
            "roots      = [\"demo.Counter.ROOT\"]     # static fields; the heap root's name is the field's full name",
            "instrument = [\"demo.**\"]               # classes whose instances may be shared",
            "transient  = [\"demo.Counter.cache\"]    # besides fields declared `transient`",
            "[[autolock]]                           # optional: default is a write lock for every synchronized",
            "methods = \"demo.Board.list*\"           # method/block on a shared object",
            "level   = \"read\"                       # write | read",
            "");

    private static String error(String text) {
        return assertThrows(AgentConfigException.class, () -> Toml.parse("app.toml", text)).getMessage();
    }

    @Test
    void readsTheIssuesExample() {
        Toml.Document document = Toml.parse("app.toml", ISSUE_EXAMPLE);
        assertEquals("127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103", document.entries().get("endpoints").value());
        assertEquals(List.of("demo.Counter.ROOT"), document.entries().get("roots").value());
        assertEquals(List.of("demo.**"), document.entries().get("instrument").value());
        assertEquals(4, document.entries().get("transient").line());
        assertEquals(1, document.tables().size());
        Toml.Table autolock = document.tables().get(0);
        assertEquals("autolock", autolock.name());
        assertEquals(5, autolock.line());
        assertEquals("demo.Board.list*", autolock.entries().get("methods").value());
        assertEquals("read", autolock.entries().get("level").value());
    }

    @Test
    void readsEscapesLiteralStringsAndMultiLineArrays() {
        Toml.Document document = Toml.parse("app.toml", String.join("\n",
                "a = \"tab\\there \\\"quoted\\\" \\u00e9\"",
                "b = 'C:\\no\\escapes'",
                "c = [",
                "  \"one\",   # a comment inside",
                "  'two',",
                "]",
                "d = []"));
        assertEquals("tab\there \"quoted\" \u00e9", document.entries().get("a").value());
        assertEquals("C:\\no\\escapes", document.entries().get("b").value());
        assertEquals(List.of("one", "two"), document.entries().get("c").value());
        assertEquals(List.of(), document.entries().get("d").value());
    }

    @Test
    void badInputNamesFileLineAndTheFix() {
        String unclosed = error("a = \"x\"\nb = \"no end\n");
        assertTrue(unclosed.startsWith("app.toml:2: the string is not closed"), unclosed);
        String number = error("\n\nlevel = 3\n");
        assertTrue(number.startsWith("app.toml:3: the value of `level` is not a string"), number);
        assertTrue(number.contains("level = \"text\""), "says what to write: " + number);
        String table = error("[autolock]\n");
        assertTrue(table.startsWith("app.toml:1: [table] headers are not used"), table);
        String twice = error("a = 'x'\na = 'y'\n");
        assertTrue(twice.startsWith("app.toml:2: `a` is set twice (also on line 1)"), twice);
        String noEquals = error("roots [\"x\"]\n");
        assertTrue(noEquals.startsWith("app.toml:1: expected = before `[`"), noEquals);
        String twoOnALine = error("a = 'x' b = 'y'\n");
        assertTrue(twoOnALine.startsWith("app.toml:1: unexpected `b` after the value"), twoOnALine);
        String notStrings = error("roots = [1]\n");
        assertTrue(notStrings.startsWith("app.toml:1: the array of `roots` may hold strings only"), notStrings);
        String openArray = error("roots = [\"a\",\n\"b\"\n");
        assertTrue(openArray.contains("the array of `roots`"), openArray);
        String escape = error("a = \"\\q\"\n");
        assertTrue(escape.startsWith("app.toml:1: unknown escape \\q"), escape);
    }
}
