package demo.orders;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.eclipse.rap.json.JsonArray;
import org.eclipse.rap.json.JsonObject;
import org.sovereign.rap.Recorded;

/**
 * GET /status: the orders placed (on the heap, by any Tomcat) as JSON ({@code {"orders":N,"placed":[...]}}), so a
 * test can check the application state behind the UI (exactly one order after one "Place order").
 * It also tells the test that the webapp is deployed and RAP's application has started.
 */
public final class OrderStatusServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        List<OrderBook.Order> orders = OrderBook.orders(Recorded.heap());
        JsonArray placed = new JsonArray();
        for (OrderBook.Order order : orders) {
            JsonArray lines = new JsonArray();
            for (OrderBook.Line line : order.lines()) {
                lines.add(new JsonObject().add("product", line.product()).add("quantity", line.quantity()));
            }
            placed.add(new JsonObject().add("number", order.number()).add("customer", order.customer())
                    .add("lines", lines));
        }
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        new JsonObject().add("orders", orders.size()).add("placed", placed)
                .writeTo(response.getWriter());
    }
}
