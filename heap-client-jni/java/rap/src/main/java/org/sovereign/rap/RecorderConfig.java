package org.sovereign.rap;

import jakarta.servlet.ServletContext;

/**
 * The recording library's settings, from the web application's context parameters; a missing or
 * invalid one is refused at start with a message that names it and what it must be.
 */
record RecorderConfig(String endpoints, int journalRequestsMax, long idleTimeoutMs) {
    static final String ENDPOINTS = "sovereign.rap.endpoints";
    static final String JOURNAL_REQUESTS_MAX = "sovereign.rap.journalRequestsMax";
    static final String IDLE_TIMEOUT_MS = "sovereign.rap.idleTimeoutMs";

    static RecorderConfig from(ServletContext context) {
        String endpoints = context.getInitParameter(ENDPOINTS);
        if (endpoints == null || endpoints.isBlank()) {
            throw new RapException("context parameter " + ENDPOINTS + " is missing: set it in web.xml to the heap "
                    + "cluster's endpoints, e.g. 127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103");
        }
        long journalMax = number(context, JOURNAL_REQUESTS_MAX, RapLimits.JOURNAL_REQUESTS_MAX_DEFAULT, 1,
                RapLimits.JOURNAL_REQUESTS_MAX_LIMIT);
        long idleMs = number(context, IDLE_TIMEOUT_MS, RapLimits.IDLE_TIMEOUT_MS_DEFAULT, RapLimits.IDLE_TIMEOUT_MS_MIN,
                Long.MAX_VALUE);
        return new RecorderConfig(endpoints.trim(), (int) journalMax, idleMs);
    }

    private static long number(ServletContext context, String name, long fallback, long min, long max) {
        String text = context.getInitParameter(name);
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
}
