package org.sovereign.agent.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The subset of TOML the agent's config file uses, parsed without a library: comments, top-level
 * {@code key = "string"} and {@code key = ["a", "b"]} (arrays may span lines), and array-of-tables
 * headers ({@code [[autolock]]}) followed by their own keys. Strings are basic ({@code "..."} with
 * the escapes {@code \" \\ \n \t \r \b \f \\uXXXX}) or literal ({@code '...'}). Anything else (numbers,
 * booleans, inline tables, {@code [table]} headers, dotted keys) is an error that names the file, the
 * line and what to write instead: the config has nothing that needs them.
 */
public final class Toml {
    /** Largest config file read: a config is a few hundred bytes. */
    static final int TEXT_CHARS_MAX = 1024 * 1024;
    /** Most entries in one array, and most {@code [[table]]} entries of one name. */
    static final int ITEMS_MAX = 10_000;

    /** One {@code key = value}: the value is a String or a List of Strings; line counts from 1. */
    public record Entry(String key, Object value, int line) {}

    /** One {@code [[name]]} table: its header line and its keys in file order. */
    public record Table(String name, int line, Map<String, Entry> entries) {}

    /** The parsed file: the top-level keys, then every {@code [[name]]} table in file order. */
    public record Document(String source, Map<String, Entry> entries, List<Table> tables) {}

    private final String source;
    private final String text;
    private int position;
    private int line = 1;

    private Toml(String source, String text) {
        this.source = source;
        this.text = text;
    }

    /** Parses {@code text}; {@code source} (the file name) starts every error message. */
    public static Document parse(String source, String text) {
        if (text.length() > TEXT_CHARS_MAX) {
            throw new AgentConfigException(source + ": the file has " + text.length() + " characters, more than "
                    + TEXT_CHARS_MAX + "; is it the right file?");
        }
        return new Toml(source, text).document();
    }

    private Document document() {
        Map<String, Entry> top = new LinkedHashMap<>();
        List<Table> tables = new ArrayList<>();
        Map<String, Entry> current = top;
        while (true) {
            skipBlankAndComments();
            if (atEnd()) {
                return new Document(source, top, tables);
            }
            char c = peek();
            if (c == '[') {
                Table table = tableHeader();
                if (tables.size() >= ITEMS_MAX) {
                    throw error("more than " + ITEMS_MAX + " [[tables]]; is this the right file?");
                }
                tables.add(table);
                current = table.entries();
            } else {
                Entry entry = keyValue();
                if (current.containsKey(entry.key())) {
                    throw error("`" + entry.key() + "` is set twice (also on line " + current.get(entry.key()).line()
                            + "); keep one");
                }
                current.put(entry.key(), entry);
            }
            endOfLine();
        }
    }

    private Table tableHeader() {
        int headerLine = line;
        position++;
        if (atEnd() || peek() != '[') {
            throw error("[table] headers are not used by the agent config; write the keys at the top, or "
                    + "[[autolock]] for an autolock entry");
        }
        position++;
        skipSpaces();
        String name = bareKey();
        skipSpaces();
        expect(']', "write the header as [[" + name + "]]");
        expect(']', "write the header as [[" + name + "]]");
        return new Table(name, headerLine, new LinkedHashMap<>());
    }

    private Entry keyValue() {
        int entryLine = line;
        String key = bareKey();
        skipSpaces();
        if (!atEnd() && peek() == '.') {
            throw error("dotted keys are not used by the agent config; write `" + key + " = ...`");
        }
        expect('=', "write `" + key + " = \"text\"` or `" + key + " = [\"a\", \"b\"]`");
        skipSpaces();
        return new Entry(key, value(key), entryLine);
    }

    private Object value(String key) {
        if (atEnd() || peek() == '\n' || peek() == '#') {
            throw error("`" + key + "` has no value; write `" + key + " = \"text\"` or `" + key + " = [\"a\", \"b\"]`");
        }
        char c = peek();
        if (c == '"' || c == '\'') {
            return string();
        }
        if (c == '[') {
            return array(key);
        }
        throw error("the value of `" + key + "` is not a string or an array of strings (the agent config has "
                + "no numbers, booleans or inline tables); write `" + key + " = \"text\"` or `" + key
                + " = [\"a\", \"b\"]`");
    }

    private List<String> array(String key) {
        position++;
        List<String> items = new ArrayList<>();
        while (true) {
            skipBlankAndComments();
            if (atEnd()) {
                throw error("the array of `" + key + "` is not closed; end it with ]");
            }
            if (peek() == ']') {
                position++;
                return List.copyOf(items);
            }
            if (peek() != '"' && peek() != '\'') {
                throw error("the array of `" + key + "` may hold strings only; quote each entry: \"demo.**\"");
            }
            if (items.size() >= ITEMS_MAX) {
                throw error("the array of `" + key + "` has more than " + ITEMS_MAX + " entries");
            }
            items.add(string());
            skipBlankAndComments();
            if (!atEnd() && peek() == ',') {
                position++;
            } else if (atEnd() || peek() != ']') {
                throw error("expected , or ] after an entry of the array of `" + key + "`");
            }
        }
    }

    private String string() {
        char quote = peek();
        position++;
        StringBuilder value = new StringBuilder();
        while (true) {
            if (atEnd() || peek() == '\n') {
                throw error("the string is not closed; end it with " + quote + " on the same line");
            }
            char c = text.charAt(position++);
            if (c == quote) {
                return value.toString();
            }
            if (c == '\\' && quote == '"') {
                value.append(escape());
            } else {
                value.append(c);
            }
        }
    }

    private String escape() {
        if (atEnd()) {
            throw error("the string ends with a lone \\; write \\\\ for a backslash");
        }
        char c = text.charAt(position++);
        switch (c) {
            case '"': return "\"";
            case '\\': return "\\";
            case 'n': return "\n";
            case 't': return "\t";
            case 'r': return "\r";
            case 'b': return "\b";
            case 'f': return "\f";
            case 'u': {
                if (position + 4 > text.length()) {
                    throw error("\\u needs four hex digits, like \\u00e9");
                }
                String hex = text.substring(position, position + 4);
                position += 4;
                try {
                    return String.valueOf((char) Integer.parseInt(hex, 16));
                } catch (NumberFormatException e) {
                    throw error("\\u" + hex + " is not four hex digits; write it like \\u00e9");
                }
            }
            default:
                throw error("unknown escape \\" + c + "; write \\\\ for a backslash, or use a 'literal string'");
        }
    }

    private String bareKey() {
        int start = position;
        while (!atEnd() && isKeyChar(peek())) {
            position++;
        }
        if (start == position) {
            throw error("expected a key (letters, digits, - or _), found "
                    + (atEnd() ? "the end of the file" : "`" + peek() + "`"));
        }
        return text.substring(start, position);
    }

    private static boolean isKeyChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }

    private void expect(char wanted, String hint) {
        if (atEnd() || peek() != wanted) {
            throw error("expected " + wanted + (atEnd() ? " at the end of the file" : " before `" + peek() + "`")
                    + "; " + hint);
        }
        position++;
    }

    /** After an entry or header: only spaces and a comment may follow on its line. */
    private void endOfLine() {
        skipSpaces();
        if (!atEnd() && peek() == '#') {
            skipComment();
        }
        if (!atEnd() && peek() != '\n') {
            throw error("unexpected `" + peek() + "` after the value; put one entry per line");
        }
    }

    private void skipSpaces() {
        while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\r')) {
            position++;
        }
    }

    private void skipComment() {
        while (!atEnd() && peek() != '\n') {
            position++;
        }
    }

    private void skipBlankAndComments() {
        while (!atEnd()) {
            char c = peek();
            if (c == ' ' || c == '\t' || c == '\r') {
                position++;
            } else if (c == '\n') {
                position++;
                line++;
            } else if (c == '#') {
                skipComment();
            } else {
                return;
            }
        }
    }

    private boolean atEnd() {
        return position >= text.length();
    }

    private char peek() {
        return text.charAt(position);
    }

    private AgentConfigException error(String message) {
        return new AgentConfigException(source + ":" + line + ": " + message);
    }
}
