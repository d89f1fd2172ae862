package org.sovereign.tomcat;

import java.util.ArrayList;
import java.util.List;

/**
 * A list of servlet-style URL patterns ({@code /static/*}: a path prefix, {@code *.css}: an
 * extension, anything else: one exact path), matched against a request's path inside its context.
 * {@link SessionLockValve} uses two of them to pick a request's {@link LockMode}.
 */
final class UrlPatterns {
    /** Most patterns one attribute may list: each request is matched against all of them. */
    static final int PATTERNS_MAX = 256;

    private final List<String> prefixes = new ArrayList<>();
    private final List<String> extensions = new ArrayList<>();
    private final List<String> exact = new ArrayList<>();

    private UrlPatterns() {
    }

    /**
     * Parses {@code text}: patterns separated by commas or white space; null or blank is no pattern.
     *
     * @throws IllegalArgumentException for a pattern that is none of the three forms, or too many
     */
    static UrlPatterns parse(String text) {
        UrlPatterns patterns = new UrlPatterns();
        if (text == null || text.isBlank()) {
            return patterns;
        }
        String[] parts = text.trim().split("[,\\s]+");
        if (parts.length > PATTERNS_MAX) {
            throw new IllegalArgumentException(parts.length + " URL patterns; at most " + PATTERNS_MAX
                    + " are allowed: use prefixes (/static/*) or extensions (*.css) to cover more paths");
        }
        for (String pattern : parts) {
            patterns.add(pattern);
        }
        return patterns;
    }

    private void add(String pattern) {
        if (pattern.startsWith("*.") && pattern.length() > 2 && pattern.indexOf('/') < 0
                && pattern.indexOf('*', 1) < 0) {
            extensions.add(pattern.substring(1));
        } else if (pattern.startsWith("/") && pattern.endsWith("/*") && pattern.indexOf('*') == pattern.length() - 1) {
            prefixes.add(pattern.substring(0, pattern.length() - 1));
        } else if (pattern.startsWith("/") && pattern.indexOf('*') < 0) {
            exact.add(pattern);
        } else {
            throw new IllegalArgumentException("URL pattern '" + pattern + "' is not one of /prefix/*, *.extension or "
                    + "an exact /path (as in web.xml)");
        }
    }

    /** Whether {@code path} (the request path inside its context, starting with '/') matches a pattern. */
    boolean matches(String path) {
        if (exact.contains(path)) {
            return true;
        }
        for (String prefix : prefixes) {
            // "/static/*" matches "/static" itself and everything below it, as in the servlet spec.
            if (path.startsWith(prefix) || path.equals(prefix.substring(0, prefix.length() - 1))) {
                return true;
            }
        }
        int lastSlash = path.lastIndexOf('/');
        for (String extension : extensions) {
            if (path.endsWith(extension) && path.length() - extension.length() > lastSlash) {
                return true;
            }
        }
        return false;
    }

    boolean isEmpty() {
        return prefixes.isEmpty() && extensions.isEmpty() && exact.isEmpty();
    }
}
