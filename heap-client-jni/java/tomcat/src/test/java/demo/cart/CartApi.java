package demo.cart;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The demo shop's JSON calls: the cart (changed in place), a counter (read, then setAttribute), the
 * session operations the tests need (invalidate, change id, timeout), a slow request, a value that
 * cannot be stored, and this node's listener record. Every answer names the Tomcat that gave it.
 */
@WebServlet("/api/*")
public class CartApi extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final String NODE = System.getProperty("demo.node", "?");
    /** How many /api/slow and /api/poll requests and sessionDestroyed listeners are sleeping now (tests
     *  wait for one). */
    static final AtomicInteger SLOW = new AtomicInteger();

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String action = request.getPathInfo() == null ? "/cart" : request.getPathInfo();
        switch (action) {
            case "/stats" -> write(response, 200, "{\"node\":\"" + NODE + "\",\"slow\":" + SLOW.get() + ",\"created\":"
                    + SessionEvents.json(SessionEvents.CREATED) + ",\"destroyed\":"
                    + SessionEvents.json(SessionEvents.DESTROYED) + "}");
            case "/cart" -> write(response, 200, state(request.getSession()));
            case "/poll" -> { // read-locked (context.xml): may sleep, to show polls run side by side
                String state = state(request.getSession());
                slowly(intParameter(request, "ms", 0));
                write(response, 200, state);
            }
            default -> write(response, 404, "{\"error\":\"no GET " + action + "\"}");
        }
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String action = request.getPathInfo() == null ? "" : request.getPathInfo();
        HttpSession session = request.getSession();
        switch (action) {
            case "/add" -> add(session, request.getParameter("sku"), intParameter(request, "qty", 1));
            case "/incr" -> {
                Integer count = (Integer) session.getAttribute("count");
                session.setAttribute("count", count == null ? 1 : count + 1);
            }
            case "/invalidate" -> {
                session.invalidate();
                write(response, 200, "{\"node\":\"" + NODE + "\",\"invalidated\":true}");
                return;
            }
            case "/rotate" -> request.changeSessionId();
            case "/timeout" -> session.setMaxInactiveInterval(intParameter(request, "s", 1800));
            case "/slowdestroy" -> session.setAttribute(SessionEvents.DESTROY_MS_ATTRIBUTE, intParameter(request, "ms", 0));
            case "/slow" -> {
                add(session, request.getParameter("sku"), 1);
                slowly(intParameter(request, "ms", 1000));
            }
            case "/bad" -> {
                try {
                    session.setAttribute("thread", new Thread("not serializable"));
                } catch (IllegalArgumentException e) {
                    write(response, 400, "{\"error\":\"" + e.getMessage().replace("\"", "'") + "\"}");
                    return;
                }
            }
            default -> {
                write(response, 404, "{\"error\":\"no POST " + action + "\"}");
                return;
            }
        }
        write(response, 200, state(request.getSession()));
    }

    private static void add(HttpSession session, String sku, int quantity) {
        Cart cart = (Cart) session.getAttribute("cart");
        if (cart == null) {
            cart = new Cart();
            session.setAttribute("cart", cart);
        }
        cart.add(sku == null ? "none" : sku, quantity); // in place: no setAttribute after this
    }

    private static String state(HttpSession session) {
        Cart cart = (Cart) session.getAttribute("cart");
        StringBuilder items = new StringBuilder("{");
        if (cart != null) {
            for (Map.Entry<String, Integer> item : cart.quantities().entrySet()) {
                items.append(items.length() == 1 ? "" : ",").append('"').append(item.getKey()).append("\":")
                        .append(item.getValue());
            }
        }
        items.append('}');
        Integer count = (Integer) session.getAttribute("count");
        return "{\"node\":\"" + NODE + "\",\"id\":\"" + session.getId() + "\",\"count\":" + (count == null ? 0 : count)
                + ",\"maxInactive\":" + session.getMaxInactiveInterval() + ",\"items\":" + items + "}";
    }

    private static int intParameter(HttpServletRequest request, String name, int otherwise) {
        String value = request.getParameter(name);
        return value == null ? otherwise : Integer.parseInt(value);
    }

    /** Sleeps {@code ms}, counted in {@link #SLOW} meanwhile. */
    static void slowly(int ms) {
        if (ms <= 0) {
            return;
        }
        SLOW.incrementAndGet();
        try {
            sleep(ms);
        } finally {
            SLOW.decrementAndGet();
        }
    }

    private static void sleep(int ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void write(HttpServletResponse response, int status, String json) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.getWriter().write(json);
    }
}
