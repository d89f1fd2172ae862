package org.sovereign.rap;

import jakarta.servlet.ServletContext;
import java.util.function.UnaryOperator;

/**
 * The recording library's settings, from the web application's context parameters; a missing or
 * invalid one is refused at start with a message that names it and what it must be.
 *
 * @param keepUiLocks whether this server keeps a UI session's cluster lock between its requests
 *     (one heap log entry per request instead of two, for a balancer that keeps users on one
 *     server); then if it dies, its users' next requests wait for its heap lease to end first
 */
record RecorderConfig(String endpoints, int journalRequestsMax, long idleTimeoutMs, boolean keepUiLocks) {
    static final String ENDPOINTS = "sovereign.rap.endpoints";
    static final String JOURNAL_REQUESTS_MAX = "sovereign.rap.journalRequestsMax";
    static final String IDLE_TIMEOUT_MS = "sovereign.rap.idleTimeoutMs";
    static final String KEEP_UI_LOCKS = "sovereign.rap.keepUiLocks";

    static RecorderConfig from(ServletContext context) {
        return from(context::getInitParameter);
    }

    /** The settings from {@code parameters} (a context parameter's value by name, null if unset). */
    static RecorderConfig from(UnaryOperator<String> parameters) {
        String endpoints = parameters.apply(ENDPOINTS);
        if (endpoints == null || endpoints.isBlank()) {
            throw new RapException("context parameter " + ENDPOINTS + " is missing: set it in web.xml to the heap "
                    + "cluster's endpoints, e.g. 127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103");
        }
        long journalMax = number(parameters, JOURNAL_REQUESTS_MAX, RapLimits.JOURNAL_REQUESTS_MAX_DEFAULT, 1,
                RapLimits.JOURNAL_REQUESTS_MAX_LIMIT);
        long idleMs = number(parameters, IDLE_TIMEOUT_MS, RapLimits.IDLE_TIMEOUT_MS_DEFAULT,
                RapLimits.IDLE_TIMEOUT_MS_MIN, Long.MAX_VALUE);
        return new RecorderConfig(endpoints.trim(), (int) journalMax, idleMs, bool(parameters, KEEP_UI_LOCKS, false));
    }

    private static long number(UnaryOperator<String> parameters, String name, long fallback, long min, long max) {
        String text = parameters.apply(name);
        if (text == null || text.isBlank()) {
            return fallback;
        }
        try {
            long value = Long.parseLong(text.trim());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // Reported below with the bounds.
        }
        throw new RapException("context parameter " + name + " is \"" + text + "\"; it must be a whole number from "
                + min + " to " + max + " (default " + fallback + ")");
    }

    private static boolean bool(UnaryOperator<String> parameters, String name, boolean fallback) {
        String text = parameters.apply(name);
        if (text == null || text.isBlank()) {
            return fallback;
        }
        return switch (text.trim()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new RapException("context parameter " + name + " is \"" + text + "\"; it must be true or "
                    + "false (default " + fallback + ")");
        };
    }
}
