package org.sovereign.rap.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.orders.TestIds;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.eclipse.rap.json.JsonArray;
import org.eclipse.rap.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.WebDriverException;

/**
 * RAP UI sessions surviving their server, as the tests ask: RAP's real JavaScript client in
 * headless chromium, two Tomcats behind HAProxy (round-robin, not sticky: requests alternate, so
 * each Tomcat catches up by replaying what the other ran, all the time), three heap nodes. Each test
 * proves the user ends with what they did: the order placed exactly once, with what they typed
 * before the fault. Screenshots of each failover moment go to target/rap-it/.
 */
class RapFailoverIT {
    static final String CUSTOMER = "Marvin the Martian";
    /** How long a drained Tomcat may take to report it can be switched off. */
    static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(10);
    /** A stall this long outlives the recorder's 3 s heap lease (RapLimits.HEAP_SESSION_TTL_MS) and
     *  the leader's expiry check. */
    static final long STALL_PAST_LEASE_MS = 6_000;
    /** A journal limit a few wizard steps reach. */
    static final int JOURNAL_LIMIT = 6;

    /**
     * The user fills half the wizard and opens the modal review dialog; the Tomcat that served that
     * request is SIGKILLed; the user places the order. The survivor has the UI session (rebuilt or
     * caught up from the journal: the dialog open, its UI thread blocked in the dialog's event loop)
     * and serves the click.
     */
    @Test
    void theTomcatServingTheUserDiesWithTheDialogOpenAndTheUserFinishes() throws Exception {
        try (RapDeployment rap = RapDeployment.start("tomcat-killed")) {
            fillHalfAndReview(rap);
            TomcatProcess victim = servedClickOn(rap, rap.browser.widgetId(TestIds.REVIEW));
            assertFalse(rap.a().messageLog().isEmpty() || rap.b().messageLog().isEmpty(),
                    "round-robin: both Tomcats served UI requests of the session");
            rap.screenshot("1-dialog-open.png");
            victim.kill();
            rap.screenshot("2-its-server-killed-dialog-still-open.png");
            rap.log("act: " + victim.name + ", which served the dialog, SIGKILLed");

            OrderWizard.placeOrder(rap.browser, 1);
            rap.screenshot("3-order-placed-on-the-survivor.png");
            checkTheOneOrder(rap, rap.other(victim), 2);
        }
    }

    /** The same with the heap's leader SIGKILLed mid-session: requests pause for the election, none fails. */
    @Test
    void theHeapLeaderDiesMidSessionAndTheUserFinishes() throws Exception {
        try (RapDeployment rap = RapDeployment.start("leader-killed")) {
            rap.open("/app");
            rap.browser.type(TestIds.CUSTOMER, CUSTOMER);
            OrderWizard.addLine(rap.browser, "Anvil", 4);
            int leader = rap.heap.leader();
            rap.heap.kill(leader);
            rap.log("act: heap leader node " + leader + " SIGKILLed mid-wizard");
            OrderWizard.addLine(rap.browser, "Rocket skates", 1);
            rap.screenshot("1-line-added-after-the-leader-died.png");
            OrderWizard.review(rap.browser, CUSTOMER);
            OrderWizard.placeOrder(rap.browser, 1);
            rap.screenshot("2-order-placed.png");
            checkTheOneOrder(rap, rap.a(), 2);
        }
    }

    /**
     * An operator drains the Tomcat mid-wizard: its health check fails, HAProxy takes it out, it
     * reports it can be switched off, and it is (SIGKILL); the user goes on with nothing but a pause,
     * every later request on the other Tomcat.
     */
    @Test
    void aDrainedTomcatIsSwitchedOffMidWizardAndTheUserGoesOn() throws Exception {
        try (RapDeployment rap = RapDeployment.start("drained")) {
            rap.open("/app");
            rap.browser.type(TestIds.CUSTOMER, CUSTOMER);
            OrderWizard.addLine(rap.browser, "Anvil", 4);
            TomcatProcess drained = rap.a();
            assertEquals(200, post(drained, "/sovereign-rap/drain").statusCode());
            rap.proxy.awaitStatus(drained.name, "DOWN");
            awaitSwitchOff(drained);
            int servedBeforeSwitchOff = drained.messageLog().size();
            drained.kill();
            rap.log("act: " + drained.name + " drained, out of HAProxy, switched off after "
                    + servedBeforeSwitchOff + " UI requests");
            OrderWizard.addLine(rap.browser, "Rocket skates", 1);
            OrderWizard.review(rap.browser, CUSTOMER);
            rap.screenshot("1-dialog-open-after-the-drain.png");
            OrderWizard.placeOrder(rap.browser, 1);
            checkTheOneOrder(rap, rap.b(), 2);
        }
    }

    /**
     * A Tomcat stalls (SIGSTOP) for longer than its heap session's lease, so the cluster ends that
     * session and frees its locks; the other Tomcat serves the user meanwhile. When the stalled one
     * wakes (SIGCONT), its first heap call learns the session is gone, it connects a new one, and it
     * serves the user again: the wizard goes on through both Tomcats and the order is placed once.
     */
    @Test
    void aTomcatThatStalledPastItsLeaseReconnectsAndServesAgain() throws Exception {
        try (RapDeployment rap = RapDeployment.start("stalled")) {
            rap.open("/app");
            rap.browser.type(TestIds.CUSTOMER, CUSTOMER);
            OrderWizard.addLine(rap.browser, "Anvil", 4);
            TomcatProcess stalled = rap.a();
            stalled.signal("STOP");
            rap.proxy.awaitStatus(stalled.name, "DOWN");
            OrderWizard.addLine(rap.browser, "Rocket skates", 1);
            Thread.sleep(STALL_PAST_LEASE_MS);
            stalled.signal("CONT");
            rap.proxy.awaitStatus(stalled.name, "UP");
            rap.log("act: " + stalled.name + " stalled " + STALL_PAST_LEASE_MS + " ms past its lease, then woke");
            int servedBefore = stalled.messageLog().size();
            String summary = OrderWizard.review(rap.browser, CUSTOMER);
            assertTrue(summary.contains("1 x Rocket skates"), summary);
            OrderWizard.placeOrder(rap.browser, 1);
            checkTheOneOrder(rap, rap.b(), 2);
            assertTrue(stalled.messageLog().size() > servedBefore, "the woken Tomcat served requests again");
            assertTrue(stalled.log().contains("connecting a new one"), "it reconnected after its session ended");
        }
    }

    /**
     * A page that is not deterministic (a random number drawn without Recorded.input): when another
     * Tomcat has to rebuild its UI session, the replayed response differs, and the browser shows
     * RAP's error box whose details name the request, instead of the page with another number; the
     * log names the UI session and the request.
     */
    @Test
    void aReplayThatDiffersIsReportedInTheBrowserNotShown() throws Exception {
        try (RapDeployment rap = RapDeployment.start("diverged")) {
            rap.open("/unstable");
            String shown = rap.browser.awaitText(TestIds.LUCKY_NUMBER, "Lucky number ");
            TomcatProcess first = servedFirstRequest(rap);
            rap.proxy.setState(first.name, "maint");
            rap.log("act: page shown by " + first.name + " (" + shown + "), which is now in maintenance");
            // RAP sends request 1 (the text sizes it measured) by itself after the first render; if
            // round-robin gave it to the other Tomcat, that one replayed request 0 and the error box
            // is up already (covering the button). Either way the other Tomcat replays request 0.
            boolean clicked = rap.browser.clickUnlessCovered(TestIds.AGAIN);
            rap.log("act: " + (clicked ? "clicked 'Again'" : "RAP's own request 1 already reached the other Tomcat"));
            String page = rap.browser.awaitPageText("Server Error");
            rap.browser.clickLink("Details");
            page = rap.browser.awaitPageText("diverged in its replay of request 0");
            rap.screenshot("1-divergence-reported.png");
            assertTrue(page.contains(shown), "the page still shows what it showed, not the replay's number: " + page);
            assertTrue(rap.other(first).log().contains("diverged in its replay of request 0"),
                    "the log names the request where the replay diverged");
            rap.log("check: the browser reports the divergence; the log names request 0");
        }
    }

    /**
     * A journal does not grow without bound: at {@code sovereign.rap.journalRequestsMax} requests the
     * UI session ends, the browser says why (RAP's error box, under "Details"), and the journal is gone.
     */
    @Test
    void aUiSessionAtTheJournalLimitEndsWithAMessage() throws Exception {
        try (RapDeployment rap = RapDeployment.start("journal-limit",
                Map.of("sovereign.rap.journalRequestsMax", Integer.toString(JOURNAL_LIMIT)))) {
            rap.open("/app");
            rap.browser.type(TestIds.CUSTOMER, CUSTOMER);
            // Each step sends a request or more; once the limit is hit RAP's error box covers the page
            // and the next step cannot click.
            for (int line = 1; line <= JOURNAL_LIMIT && !rap.browser.pageText().contains("Server Error"); line++) {
                try {
                    rap.browser.select(TestIds.PRODUCT, "Anvil");
                    rap.browser.type(TestIds.QUANTITY, "1");
                    rap.browser.click(TestIds.ADD_LINE);
                } catch (WebDriverException coveredByTheErrorBox) {
                    break;
                }
            }
            rap.browser.awaitPageText("Server Error");
            rap.browser.clickLink("Details");
            String page = rap.browser.awaitPageText("journal's limit of " + JOURNAL_LIMIT + " requests");
            rap.screenshot("1-journal-limit-reported.png");
            assertTrue(rap.heap.client().rootMap("sovereign.rap.journals:/orders").keySet().isEmpty(),
                    "the ended UI session's journal is deleted");
            rap.log("check: the UI session ended at " + JOURNAL_LIMIT + " requests with the reason shown: "
                    + page.lines().filter(l -> l.contains("limit")).findFirst().orElse(""));
        }
    }

    private static void fillHalfAndReview(RapDeployment rap) {
        rap.open("/app");
        rap.browser.type(TestIds.CUSTOMER, CUSTOMER);
        OrderWizard.addLine(rap.browser, "Anvil", 4);
        OrderWizard.addLine(rap.browser, "Rocket skates", 1);
        String summary = OrderWizard.review(rap.browser, CUSTOMER);
        assertTrue(summary.contains("4 x Anvil") && summary.contains("1 x Rocket skates"), summary);
        rap.log("act: wizard half filled, review dialog open");
    }

    /** Exactly one order on the heap, with the customer and lines the user entered. */
    private static void checkTheOneOrder(RapDeployment rap, TomcatProcess reader, int lines) throws Exception {
        JsonObject status = JsonObject.readFrom(reader.get("/status").body());
        assertEquals(1, status.get("orders").asInt(), "exactly one order: " + status);
        JsonObject order = status.get("placed").asArray().get(0).asObject();
        assertEquals(CUSTOMER, order.get("customer").asString(), "what was typed before the fault: " + order);
        JsonArray placed = order.get("lines").asArray();
        assertEquals(lines, placed.size(), "every line entered: " + order);
        rap.log("check: \"Order 1 placed\"; one order on the heap with the customer and " + lines + " lines");
    }

    /** The Tomcat whose message log has the click on widget {@code widgetId} (RAP's notify operation). */
    static TomcatProcess servedClickOn(RapDeployment rap, String widgetId) throws Exception {
        String click = "[\"notify\",\"" + widgetId + "\",\"Selection\"";
        for (TomcatProcess tomcat : List.of(rap.a(), rap.b())) {
            if (tomcat.messageLog().stream().anyMatch(line -> line.contains(click))) {
                return tomcat;
            }
        }
        throw new AssertionError("no Tomcat logged the click on " + widgetId);
    }

    /** The Tomcat that ran the UI session's first request (no cid, counter 0). */
    static TomcatProcess servedFirstRequest(RapDeployment rap) throws Exception {
        for (TomcatProcess tomcat : List.of(rap.a(), rap.b())) {
            if (tomcat.messageLog().stream().anyMatch(line -> line.contains("\"requestCounter\":0"))) {
                return tomcat;
            }
        }
        throw new AssertionError("no Tomcat logged the UI session's first request");
    }

    private static void awaitSwitchOff(TomcatProcess tomcat) throws Exception {
        long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
        String status = tomcat.get("/sovereign-rap/status").body();
        while (!JsonObject.readFrom(status).get("canSwitchOff").asBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(tomcat.name + " never reported it can be switched off: " + status);
            }
            Thread.sleep(100);
            status = tomcat.get("/sovereign-rap/status").body();
        }
    }

    private static HttpResponse<String> post(TomcatProcess tomcat, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(tomcat.url(path))).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    }
}
