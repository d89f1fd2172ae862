package org.sovereign.agent.config;

import java.util.regex.Pattern;

/**
 * A pattern over dotted Java names as the config writes them: {@code demo.**} is the package
 * {@code demo} and everything below it, {@code demo.*} the classes directly in {@code demo} (nested
 * classes such as {@code demo.Counter$Cell} included: {@code *} stops only at dots), and a name
 * without stars is exact. The same patterns select fields ({@code demo.Counter.cache}) and methods
 * ({@code demo.Board.list*}) by their owner's name, a dot and their own name.
 */
public final class Glob {
    /** Longest pattern accepted (a Java name is rarely longer than 200 characters). */
    static final int PATTERN_CHARS_MAX = 1000;

    private final String text;
    private final Pattern pattern;

    private Glob(String text, Pattern pattern) {
        this.text = text;
        this.pattern = pattern;
    }

    /**
     * The pattern {@code text}; {@code where} ("app.toml:3") starts the error for a pattern with
     * characters a Java name cannot have.
     */
    public static Glob of(String text, String where) {
        if (text.isEmpty() || text.length() > PATTERN_CHARS_MAX) {
            throw new AgentConfigException(where + ": the pattern \"" + text + "\" must have 1 to " + PATTERN_CHARS_MAX
                    + " characters; write a name such as demo.** or demo.Counter");
        }
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '*' && i + 1 < text.length() && text.charAt(i + 1) == '*') {
                regex.append(".*");
                i++;
            } else if (c == '*') {
                regex.append("[^.]*");
            } else if (c == '.' || c == '$') {
                regex.append('\\').append(c);
            } else if (Character.isJavaIdentifierPart(c)) {
                regex.append(c);
            } else {
                throw new AgentConfigException(where + ": `" + c + "` in \"" + text + "\" cannot be part of a Java name; "
                        + "patterns are dotted names with * (within one name) and ** (any depth), like demo.**");
            }
        }
        return new Glob(text, Pattern.compile(regex.toString()));
    }

    /** Whether the dotted name (demo.Counter, demo.Counter.count) matches. */
    public boolean matches(String dottedName) {
        return pattern.matcher(dottedName).matches();
    }

    @Override
    public String toString() {
        return text;
    }
}
