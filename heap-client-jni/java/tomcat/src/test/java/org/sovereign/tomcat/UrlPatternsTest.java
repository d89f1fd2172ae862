package org.sovereign.tomcat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The valve's URL patterns match as web.xml's do, and a malformed pattern is refused with the forms allowed. */
class UrlPatternsTest {
    @Test
    void prefixExtensionAndExactPatternsMatchAsInWebXml() {
        UrlPatterns patterns = UrlPatterns.parse("/static/*, *.css /api/poll");
        assertTrue(patterns.matches("/static/app.js"));
        assertTrue(patterns.matches("/static"));
        assertTrue(patterns.matches("/theme/site.css"));
        assertTrue(patterns.matches("/api/poll"));
        assertFalse(patterns.matches("/staticx/app.js"));
        assertFalse(patterns.matches("/api/poll/more"));
        assertFalse(patterns.matches("/css.dir/page"), "an extension is matched in the last segment only");
        assertFalse(patterns.matches("/api/incr"));
    }

    @Test
    void blankIsNoPattern() {
        assertTrue(UrlPatterns.parse(null).isEmpty());
        assertTrue(UrlPatterns.parse("  ").isEmpty());
        assertFalse(UrlPatterns.parse("").matches("/"));
    }

    @Test
    void malformedPatternsAreRefusedNamingTheForms() {
        for (String bad : new String[] {"static/*", "/a/*/b", "*.", "/a*"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UrlPatterns.parse(bad));
            assertTrue(e.getMessage().contains("/prefix/*"), e.getMessage());
        }
    }

    @Test
    void theValvePicksTheModeByPattern() {
        SessionLockValve valve = new SessionLockValve();
        valve.setNoLockPatterns("/static/*");
        valve.setReadLockPatterns("/api/poll");
        assertEquals(LockMode.NONE, valve.modeFor("/static/index.html"));
        assertEquals(LockMode.READ, valve.modeFor("/api/poll"));
        assertEquals(LockMode.WRITE, valve.modeFor("/api/incr"));
    }
}
