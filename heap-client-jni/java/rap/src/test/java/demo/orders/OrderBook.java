package demo.orders;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Lock;
import org.sovereign.heap.HeapClient;
import org.sovereign.heap.HeapList;
import org.sovereign.heap.HeapObject;
import org.sovereign.rap.Recorded;

/**
 * The demo's shared application state: the orders every UI session placed, on the heap (root list
 * {@value #ROOT}, guarded by the cluster lock {@value #LOCK}), so every Tomcat sees the same orders
 * and a test can check that a failover placed an order exactly once. Placing is the effect the UI
 * runs through {@link Recorded#once}.
 */
public final class OrderBook {
    static final String ROOT = "rap-demo.orders";
    static final String LOCK = "rap-demo.orders";
    static final String ORDER_CLASS = "demo.orders.Order";
    /** Refuses more orders than a demo run can place, so a runaway loop fails instead of filling the heap. */
    static final int ORDERS_MAX = 10_000;

    /** One line of an order: a product and how many of it. */
    public record Line(String product, int quantity) implements Serializable {
    }

    /** One placed order: its number (1, 2, ... in placing order), the customer and the lines. */
    public record Order(int number, String customer, List<Line> lines) implements Serializable {
    }

    private OrderBook() {
    }

    /** Appends an order under the orders' cluster lock and returns its number. */
    public static int place(String customer, List<Line> lines) {
        HeapClient heap = Recorded.heap();
        Lock lock = heap.lock(LOCK);
        lock.lock();
        try {
            HeapList orders = heap.rootList(ROOT);
            int number = orders.size() + 1;
            if (number > ORDERS_MAX) {
                throw new IllegalStateException("the demo order book is full (" + ORDERS_MAX
                        + " orders); delete the root " + ROOT + " to empty it");
            }
            HeapObject order = heap.newObject(ORDER_CLASS);
            order.set("number", (long) number);
            order.set("customer", customer);
            HeapList stored = heap.newList();
            for (Line line : lines) {
                stored.add(line.quantity() + "\t" + line.product());
            }
            order.set("lines", stored);
            orders.add(order);
            return number;
        } finally {
            lock.unlock();
        }
    }

    /** The orders placed so far, oldest first (read from the heap). */
    public static List<Order> orders(HeapClient heap) {
        List<Order> orders = new ArrayList<>();
        for (Object value : heap.rootList(ROOT).toArray(0, ORDERS_MAX, 1, ORDERS_MAX * 2)) {
            HeapObject order = (HeapObject) value;
            List<Line> lines = new ArrayList<>();
            for (Object line : order.getList("lines").toArray()) {
                String[] parts = ((String) line).split("\t", 2);
                lines.add(new Line(parts[1], Integer.parseInt(parts[0])));
            }
            orders.add(new Order((int) order.getLong("number"), order.getString("customer"), lines));
        }
        return orders;
    }
}
