package org.sovereign.rap.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import demo.orders.TestIds;
import java.net.http.HttpResponse;
import org.eclipse.rap.json.JsonObject;
import org.eclipse.rap.json.JsonValue;

/** The order-entry demo's steps in the browser and its status servlet, shared by the browser tests. */
final class OrderWizard {
    private OrderWizard() {
    }

    /** Picks {@code product} in the combo, types the quantity, adds the line and waits until the table shows it. */
    static void addLine(HeadlessChromium browser, String product, int quantity) {
        browser.select(TestIds.PRODUCT, product);
        browser.type(TestIds.QUANTITY, Integer.toString(quantity));
        browser.click(TestIds.ADD_LINE);
        browser.awaitText(TestIds.LINES, product);
    }

    /** Opens the review dialog, waits for its summary naming {@code customer}, and returns the summary. */
    static String review(HeadlessChromium browser, String customer) {
        browser.click(TestIds.REVIEW);
        return browser.awaitText(TestIds.SUMMARY, "Customer: " + customer);
    }

    /** Clicks "Place order" in the open review dialog and waits for the status "Order {@code number} placed". */
    static void placeOrder(HeadlessChromium browser, int number) {
        browser.click(TestIds.PLACE_ORDER);
        browser.awaitText(TestIds.STATUS, "Order " + number + " placed");
    }

    /** The number of orders in the answer of the demo's /status servlet ({@code {"orders":N,...}}). */
    static int ordersIn(HttpResponse<String> status) {
        assertEquals(200, status.statusCode(), "status servlet: " + status.body());
        JsonValue orders = JsonObject.readFrom(status.body()).get("orders");
        if (orders == null || !orders.isNumber()) {
            throw new AssertionError("the status servlet's answer has no order count: " + status.body());
        }
        return orders.asInt();
    }
}
