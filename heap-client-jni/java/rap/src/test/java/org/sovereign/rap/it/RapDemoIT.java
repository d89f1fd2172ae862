package org.sovereign.rap.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import demo.orders.TestIds;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.eclipse.rap.json.JsonArray;
import org.eclipse.rap.json.JsonObject;
import org.eclipse.rap.json.JsonValue;
import org.junit.jupiter.api.Test;
import org.sovereign.heap.HeapClient;
import org.sovereign.testkit.HeapNodes;

/**
 * The order-entry demo, recording on a real three-node heap, in one real Tomcat 10.1, driven by
 * headless chromium running RAP's real JavaScript client: fill the wizard, open the modal review
 * dialog (a blocking {@code open()} on the UI session's UI thread), place the order. Proves that the
 * page shows "Order 1 placed", that the heap holds exactly that one order, that the UI messages on
 * the wire look as the recording design expects (first POST without cid and with requestCounter 0,
 * the cid in its response's head, then every POST carrying that cid with the counter going up by
 * one), and that journals do not outlive their UI sessions: leaving the page deletes its journal
 * (RAP's unload message), and an idle page's journal is deleted by the idle sweep.
 */
class RapDemoIT {
    static final String CUSTOMER = "Wile E. Coyote";
    /** Short, so the idle sweep's deletion can be watched; far above the gaps between the test's requests. */
    static final long IDLE_TIMEOUT_MS = 8_000;
    /** The journals of the demo's context on the heap (sovereign-rap's layout). */
    static final String JOURNALS_ROOT = "sovereign.rap.journals:/orders";
    /** An idle timeout plus the sweep (half of it) plus slack for a loaded machine. */
    static final Duration JOURNAL_WAIT = Duration.ofMillis(IDLE_TIMEOUT_MS * 2 + 8_000);

    @Test
    void placesOneOrderThroughTheModalDialog() throws Exception {
        long started = System.nanoTime();
        Path work = TestPaths.directory("sovereign.test.dir", "target/test-work");
        Path screenshots = TestPaths.directory("sovereign.rap.screenshots", "target/rap-it");
        try (HeapNodes heap = HeapNodes.start();
                TomcatProcess tomcat = TomcatProcess.start(work, TomcatSettings.withHeap("tomcat", heap)
                        .withContextParam("sovereign.rap.idleTimeoutMs", Long.toString(IDLE_TIMEOUT_MS)));
                HeadlessChromium browser = HeadlessChromium.start(work)) {
            log(started, "start: 3 heap nodes, tomcat on port " + tomcat.port + " and chromium are up");
            browser.open(tomcat.url("/app"));
            browser.type(TestIds.CUSTOMER, CUSTOMER);
            OrderWizard.addLine(browser, "Rocket skates", 2);
            OrderWizard.addLine(browser, "Anvil", 1);
            log(started, "act: customer and two lines entered");

            browser.click(TestIds.REVIEW);
            String summary = browser.awaitText(TestIds.SUMMARY, "Customer: " + CUSTOMER);
            assertTrue(summary.contains("2 x Rocket skates") && summary.contains("1 x Anvil"),
                    "the review dialog summarises both lines: " + summary);
            browser.screenshot(screenshots.resolve("review-dialog.png"));
            assertEquals(0, intField(orders(tomcat), "orders", -1), "no order exists while the dialog is open");
            String placeOrderId = browser.widgetId(TestIds.PLACE_ORDER);
            String statusId = browser.widgetId(TestIds.STATUS);
            browser.click(TestIds.PLACE_ORDER);
            browser.awaitText(TestIds.STATUS, "Order 1 placed");
            browser.screenshot(screenshots.resolve("order-placed.png"));
            log(started, "act: review dialog opened, order placed");

            JsonObject status = orders(tomcat);
            assertEquals(1, intField(status, "orders", -1), "exactly one order placed: " + status);
            JsonObject order = status.get("placed").asArray().get(0).asObject();
            assertEquals(CUSTOMER, stringField(order, "customer", null));
            assertEquals(2, order.get("lines").asArray().size(), "the order has the two lines: " + order);
            checkMessages(tomcat.messageLog(), placeOrderId, statusId, screenshots);
            log(started, "check: one order on the server, UI messages as expected");

            checkARetriedRequestIsAnsweredNotRun(tomcat);
            log(started, "check: the last request sent again got the recorded response; still one order");
            checkBadInputIsRefusedWithAMessage(tomcat);
            log(started, "check: bad UI requests get RAP error messages and change nothing");

            HeapClient client = heap.client();
            Set<String> first = awaitJournals(client, cids -> cids.size() == 1, "the UI session's journal");
            browser.open(tomcat.url("/app"));
            browser.widget(TestIds.CUSTOMER);
            Set<String> second = awaitJournals(client, cids -> cids.size() == 1 && !cids.equals(first),
                    "the old page's journal deleted by its unload message, the new page's created");
            log(started, "check: leaving the page deleted its journal " + first + "; the new page has " + second);
            long idleFrom = System.nanoTime();
            awaitJournals(client, Set::isEmpty, "the idle UI session's journal deleted by the sweep");
            log(started, String.format("check: the idle page's journal deleted %.1f s after its last request"
                    + " (idle timeout %d ms)", (System.nanoTime() - idleFrom) / 1e9, IDLE_TIMEOUT_MS));
        }
    }

    /**
     * Sends the UI session's last request again, as RAP's client does after a network error and
     * HAProxy after its server died: the answer is the recorded response, and nothing runs again (the
     * request placed the order, or came after it; there is still one order).
     */
    private static void checkARetriedRequestIsAnsweredNotRun(TomcatProcess tomcat) throws Exception {
        List<String> messages = tomcat.messageLog();
        JsonObject last = JsonObject.readFrom(messages.get(messages.size() - 1));
        HttpRequest retry = HttpRequest.newBuilder(URI.create(tomcat.url("/app?" + last.get("query").asString())))
                .header("Content-Type", "application/json; charset=UTF-8").timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(last.get("request").toString())).build();
        HttpResponse<String> answer = HttpClient.newHttpClient().send(retry, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals(last.get("response"), JsonValue.readFrom(answer.body()), "the recorded response, again");
        assertEquals(1, intField(orders(tomcat), "orders", -1), "the retry placed no second order");
    }

    /**
     * UI requests no browser sends: each gets a RAP error message (JSON with head.error, which RAP's
     * client shows) and a 4xx status, never a stack trace, and the journals stay as they were.
     */
    private static void checkBadInputIsRefusedWithAMessage(TomcatProcess tomcat) throws Exception {
        String valid = "{\"head\":{\"requestCounter\":1},\"operations\":[]}";
        assertRefused(tomcat, "cid=" + "a".repeat(100), valid, 400, "connection id");
        assertRefused(tomcat, "cid=abc%3Adef", valid, 400, "connection id");
        assertRefused(tomcat, "cid=0123456789abcdef0123456789abcdef", "{not json", 400, "RAP message");
        assertRefused(tomcat, "cid=0123456789abcdef0123456789abcdef", "[1,2]", 400, "RAP message");
        assertRefused(tomcat, "cid=0123456789abcdef0123456789abcdef", valid, 403, "session timeout");
    }

    private static void assertRefused(TomcatProcess tomcat, String query, String body, int status, String says)
            throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(tomcat.url("/app?" + query)))
                .header("Content-Type", "application/json; charset=UTF-8").timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> answer = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(status, answer.statusCode(), query + " " + body + ": " + answer.body());
        JsonValue error = JsonObject.readFrom(answer.body()).get("head").asObject().get("error");
        assertTrue(error != null && error.asString().contains(says), query + " " + body + ": " + answer.body());
    }

    /** Polls the journals on the heap (their cids) until {@code wanted} holds. */
    private static Set<String> awaitJournals(HeapClient client, Predicate<Set<String>> wanted, String what)
            throws Exception {
        long deadline = System.nanoTime() + JOURNAL_WAIT.toNanos();
        Set<String> cids = client.rootMap(JOURNALS_ROOT).keySet();
        while (!wanted.test(cids)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + JOURNAL_WAIT + "; journals " + cids);
            }
            Thread.sleep(200);
            cids = client.rootMap(JOURNALS_ROOT).keySet();
        }
        return cids;
    }

    private static JsonObject orders(TomcatProcess tomcat) throws Exception {
        HttpResponse<String> response = tomcat.get("/status");
        assertEquals(200, response.statusCode(), "status servlet: " + response.body());
        return JsonObject.readFrom(response.body());
    }

    /**
     * Checks the logged UI messages against RAP's protocol as the recording will use it, and saves the
     * first one and the one that placed the order as examples.
     */
    private static void checkMessages(List<String> lines, String placeOrderId, String statusId, Path outputDir)
            throws Exception {
        assertTrue(lines.size() >= 2, "the message log holds the UI requests: " + lines.size());
        JsonObject first = JsonObject.readFrom(lines.get(0));
        assertEquals("", stringField(first, "query", null), "the first UI request carries no cid");
        assertEquals(0, intField(head(first, "request"), "requestCounter", -1), "the first UI request is counter 0");
        String cid = stringField(head(first, "response"), "cid", "");
        assertTrue(cid.matches("[0-9a-f]{32}"), "the first response's head names the new cid: " + cid);
        JsonObject placing = null;
        for (int i = 1; i < lines.size(); i++) {
            JsonObject entry = JsonObject.readFrom(lines.get(i));
            assertEquals("cid=" + cid, stringField(entry, "query", null), "request " + i + " carries the cid");
            assertEquals(i, intField(head(entry, "request"), "requestCounter", -1), "counters go up by one");
            assertEquals(200, intField(entry, "status", -1), "request " + i + " succeeded");
            if (hasOperation(entry.get("request"), "notify", placeOrderId, "Selection")) {
                placing = entry;
            }
        }
        assertTrue(placing != null, "a logged request notifies Selection on the Place order button " + placeOrderId);
        assertTrue(hasOperation(placing.get("response"), "set", statusId, null)
                && placing.get("response").toString().contains("Order 1 placed"),
                "its response sets the status label to 'Order 1 placed': " + placing.get("response"));
        JsonObject examples = new JsonObject().add("firstUiRequest", first).add("placeOrderRequest", placing);
        Files.writeString(outputDir.resolve("message-examples.json"), examples.toString(), StandardCharsets.UTF_8);
        System.out.println("[messages] " + lines.size() + " UI requests logged; first: " + first);
        System.out.println("[messages] the one that placed the order: " + placing);
    }

    /** The number field {@code name} of {@code object}, or {@code missing} (RAP's JSON API has no such getter). */
    private static int intField(JsonObject object, String name, int missing) {
        JsonValue value = object.get(name);
        return value != null && value.isNumber() ? value.asInt() : missing;
    }

    /** The string field {@code name} of {@code object}, or {@code missing}. */
    private static String stringField(JsonObject object, String name, String missing) {
        JsonValue value = object.get(name);
        return value != null && value.isString() ? value.asString() : missing;
    }

    private static JsonObject head(JsonObject entry, String side) {
        return entry.get(side).asObject().get("head").asObject();
    }

    /** Whether {@code message}'s operations hold [type, target, name?, ...]. */
    private static boolean hasOperation(JsonValue message, String type, String target, String name) {
        JsonArray operations = message.asObject().get("operations").asArray();
        for (JsonValue value : operations) {
            JsonArray operation = value.asArray();
            if (operation.get(0).asString().equals(type) && operation.get(1).asString().equals(target)
                    && (name == null || operation.get(2).asString().equals(name))) {
                return true;
            }
        }
        return false;
    }

    private static void log(long startedNanos, String phase) {
        System.out.printf("[rap-it] %5.1f s  %s%n", (System.nanoTime() - startedNanos) / 1e9, phase);
    }
}
