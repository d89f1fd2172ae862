package demo.orders;

import java.util.ArrayList;
import java.util.List;

/**
 * The demo's application-level state: the orders placed by every UI session of this webapp, in one
 * static list (later it lives on the heap, which is what makes "exactly one order after a failover"
 * checkable across servers). The status servlet reports it.
 */
public final class OrderBook {
    /** Refuses more orders than a demo run can place, so a runaway loop fails instead of filling memory. */
    static final int ORDERS_MAX = 10_000;

    /** One line of an order: a product and how many of it. */
    public record Line(String product, int quantity) {
    }

    /** One placed order: its number (1, 2, ... in placing order), the customer and the lines. */
    public record Order(int number, String customer, List<Line> lines) {
    }

    private static final List<Order> ORDERS = new ArrayList<>();

    private OrderBook() {
    }

    /** Appends an order and returns it with its number. */
    public static synchronized Order place(String customer, List<Line> lines) {
        if (ORDERS.size() >= ORDERS_MAX) {
            throw new IllegalStateException("the demo order book is full (" + ORDERS_MAX
                    + " orders); restart the webapp to empty it");
        }
        Order order = new Order(ORDERS.size() + 1, customer, List.copyOf(lines));
        ORDERS.add(order);
        return order;
    }

    /** A copy of the orders placed so far, oldest first. */
    public static synchronized List<Order> orders() {
        return List.copyOf(ORDERS);
    }
}
