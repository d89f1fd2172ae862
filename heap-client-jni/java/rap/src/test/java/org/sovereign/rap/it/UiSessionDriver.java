package org.sovereign.rap.it;

import demo.orders.TestIds;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.rap.json.JsonArray;
import org.eclipse.rap.json.JsonObject;
import org.eclipse.rap.json.JsonValue;

/**
 * One UI session of the order-entry demo driven over plain HTTP the way RAP's JavaScript client
 * drives it, for the benchmarks (no browser: a browser would measure itself): GET the entry point,
 * POST request 0 without a cid (the browser's first message, copied from the demo's message log),
 * then requests 1, 2, ... with the cid, each changing the UI: the customer text, the product combo,
 * or a quantity and a click on "Add line", in turn. The widgets are found by their test ids in
 * request 0's response, and the text sizes RAP asks the client to measure are answered in the next
 * request as the browser does. Each request may go to any Tomcat (a base URL per call); every answer
 * must be HTTP 200 and a RAP message without an error, else the benchmark stops with the answer.
 * Not thread-safe: one thread drives one UI session.
 */
final class UiSessionDriver {
    /** A request that takes longer is a hung server; the benchmark stops rather than wait. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** RAP's Display, the parent of everything; RAP always gives it the first widget id. */
    static final String DISPLAY_ID = "w1";
    /** The kinds of request the session sends in turn (customer text, product, add a line). */
    static final int REQUEST_KINDS = 3;
    /** Request 0 as headless chromium sends it (demo's rap-messages.jsonl): screen and client facts. */
    static final String FIRST_MESSAGE = "{\"head\":{\"requestCounter\":0},\"operations\":["
            + "[\"set\",\"w1\",{\"dpi\":[96,96],\"colorDepth\":24}],"
            + "[\"set\",\"rwt.client.ClientInfo\",{\"timezoneOffset\":0}],"
            + "[\"set\",\"w1\",{\"cursorLocation\":[0,0],\"bounds\":[0,0,1280,757]}]]}";
    /** The page-unload message (plain RAP needs the empty operations too). */
    static final String SHUTDOWN_MESSAGE = "{\"head\":{\"shutdown\":true},\"operations\":[]}";
    /** Text-size answers: an average glyph width and a line height of the demo's 14 px font. */
    static final int GLYPH_WIDTH_PX = 8;
    static final int LINE_HEIGHT_PX = 16;

    private final HttpClient http;
    private final Map<String, String> widgets = new HashMap<>();
    /** The browser's cid: the one RAP named in the first response, kept for the whole UI session. */
    private String cid;
    /** The last JSESSIONID a Tomcat set; plain RAP finds its UI session through it, recording by cid. */
    private String cookie;
    private int counter;
    /** Text sizes the last response asked for, answered in the next request. */
    private JsonObject measurements = new JsonObject();

    private UiSessionDriver(HttpClient http) {
        this.http = http;
    }

    /** A new UI session on {@code appUrl} (e.g. http://127.0.0.1:8081/orders/app): the page, then request 0. */
    static UiSessionDriver start(HttpClient http, String appUrl) throws IOException, InterruptedException {
        UiSessionDriver session = new UiSessionDriver(http);
        HttpResponse<String> page = session.send(HttpRequest.newBuilder(URI.create(appUrl)).GET());
        if (page.statusCode() != 200) {
            throw new IllegalStateException("GET " + appUrl + " answered " + page.statusCode() + ": " + page.body());
        }
        JsonObject first = session.post(appUrl, FIRST_MESSAGE);
        JsonValue cid = first.get("head").asObject().get("cid");
        if (cid == null || !cid.isString()) {
            throw new IllegalStateException("RAP's first response named no cid: " + first);
        }
        session.cid = cid.asString();
        session.findWidgets(first.get("operations").asArray());
        return session;
    }

    String cid() {
        return cid;
    }

    /** The counter the next request will carry; the journal holds this many requests before it. */
    int nextCounter() {
        return counter;
    }

    /** Sends the next request to {@code appUrl} and returns how long its answer took, in ns. */
    long next(String appUrl) throws IOException, InterruptedException {
        String message = nextMessage();
        long startedNs = System.nanoTime();
        post(appUrl + "?cid=" + cid, message);
        return System.nanoTime() - startedNs;
    }

    /** Sends RAP's page-unload message, which ends the UI session (and with recording, its journal). */
    void shutdown(String appUrl) throws IOException, InterruptedException {
        HttpResponse<String> answer = send(HttpRequest.newBuilder(URI.create(appUrl + "?cid=" + cid))
                .header("Content-Type", "application/json; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(SHUTDOWN_MESSAGE)));
        if (answer.statusCode() != 200) {
            throw new IllegalStateException("shutdown of UI session " + cid + " at " + appUrl + " answered "
                    + answer.statusCode() + ": " + answer.body());
        }
    }

    private String nextMessage() {
        JsonArray operations = new JsonArray();
        if (!measurements.isEmpty()) {
            operations.add(new JsonArray().add("call").add("rwt.client.TextSizeMeasurement").add("storeMeasurements")
                    .add(new JsonObject().add("results", measurements)));
            measurements = new JsonObject();
        }
        int round = counter / REQUEST_KINDS;
        switch (counter % REQUEST_KINDS) {
            case 1 -> {
                String text = "Customer " + round;
                operations.add(set(widget(TestIds.CUSTOMER), new JsonObject().add("text", text)
                        .add("selection", new JsonArray().add(text.length()).add(text.length()))));
            }
            case 2 -> operations.add(set(widget(TestIds.PRODUCT), new JsonObject()
                    .add("selectionIndex", round % 3).add("listVisible", false)));
            default -> {
                operations.add(set(widget(TestIds.QUANTITY), new JsonObject().add("text", "2")));
                operations.add(new JsonArray().add("notify").add(widget(TestIds.ADD_LINE)).add("Selection")
                        .add(new JsonObject().add("button", 1).add("shiftKey", false).add("ctrlKey", false)
                                .add("altKey", false)));
            }
        }
        operations.add(set(DISPLAY_ID, new JsonObject().add("cursorLocation", new JsonArray().add(40).add(120))));
        return new JsonObject().add("head", new JsonObject().add("requestCounter", counter))
                .add("operations", operations).toString();
    }

    private static JsonArray set(String id, JsonObject properties) {
        return new JsonArray().add("set").add(id).add(properties);
    }

    private String widget(String testId) {
        return widgets.get(testId);
    }

    /** Posts one UI message; checks the answer is a RAP message with no error; counts it. */
    private JsonObject post(String url, String message) throws IOException, InterruptedException {
        HttpResponse<String> answer = send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(message)));
        if (answer.statusCode() != 200) {
            throw new IllegalStateException("UI request " + counter + " of " + cid + " to " + url + " answered HTTP "
                    + answer.statusCode() + ": " + answer.body());
        }
        JsonObject body = JsonValue.readFrom(answer.body()).asObject();
        JsonValue head = body.get("head");
        if (head == null || !head.isObject() || head.asObject().get("error") != null) {
            throw new IllegalStateException("UI request " + counter + " of " + cid + " to " + url
                    + " answered a RAP error: " + answer.body());
        }
        collectMeasurements(body.get("operations").asArray());
        counter++;
        return body;
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        if (cookie != null) {
            request.header("Cookie", cookie);
        }
        HttpResponse<String> answer = http.send(request.timeout(REQUEST_TIMEOUT).build(),
                HttpResponse.BodyHandlers.ofString());
        for (String setCookie : answer.headers().allValues("set-cookie")) {
            if (setCookie.startsWith("JSESSIONID=")) {
                cookie = setCookie.split(";", 2)[0];
            }
        }
        return answer;
    }

    /** Widget ids by test id, from the create operations of request 0's response. */
    private void findWidgets(JsonArray operations) {
        for (JsonValue operation : operations) {
            JsonArray op = operation.asArray();
            if (op.size() == 4 && "create".equals(op.get(0).asString())) {
                JsonValue data = op.get(3).asObject().get("data");
                JsonValue testId = data == null ? null : data.asObject().get(TestIds.DATA_KEY);
                if (testId != null) {
                    widgets.put(testId.asString(), op.get(1).asString());
                }
            }
        }
        for (String needed : List.of(TestIds.CUSTOMER, TestIds.PRODUCT, TestIds.QUANTITY, TestIds.ADD_LINE)) {
            if (!widgets.containsKey(needed)) {
                throw new IllegalStateException("request 0's response created no widget with test id " + needed
                        + " (found " + widgets + "); has the demo changed?");
            }
        }
    }

    /** RAP's measureItems calls: [id, text, fonts, size, bold, italic, wrap width, markup] each. */
    private void collectMeasurements(JsonArray operations) {
        for (JsonValue operation : operations) {
            JsonArray op = operation.asArray();
            if (op.size() == 4 && "call".equals(op.get(0).asString())
                    && "rwt.client.TextSizeMeasurement".equals(op.get(1).asString())
                    && "measureItems".equals(op.get(2).asString())) {
                for (JsonValue item : op.get(3).asObject().get("items").asArray()) {
                    JsonArray fields = item.asArray();
                    int width = fields.get(1).asString().length() * GLYPH_WIDTH_PX;
                    measurements.add(fields.get(0).asString(), new JsonArray().add(width).add(LINE_HEIGHT_PX));
                }
            }
        }
    }
}
