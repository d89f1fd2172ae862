package demo.cart;

import jakarta.servlet.annotation.WebListener;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import java.util.ArrayList;
import java.util.List;

/** Records, per Tomcat, which sessions this node saw created and destroyed (the tests add both nodes up). */
@WebListener
public class SessionEvents implements HttpSessionListener {
    static final List<String> CREATED = new ArrayList<>();
    static final List<String> DESTROYED = new ArrayList<>();

    @Override
    public void sessionCreated(HttpSessionEvent event) {
        synchronized (CREATED) {
            CREATED.add(event.getSession().getId());
        }
    }

    /**
     * How long sessionDestroyed takes: a listener with real work (a database write, say), which also
     * gives the other Tomcat's expiry scans time to find the same session, so that a claim that is
     * not exclusive would show as a second sessionDestroyed.
     */
    static final long DESTROYED_LISTENER_MS = 300;

    /** A session attribute: how long sessionDestroyed takes for that session instead (ms, an Integer). */
    static final String DESTROY_MS_ATTRIBUTE = "destroyMs";

    @Override
    public void sessionDestroyed(HttpSessionEvent event) {
        synchronized (DESTROYED) {
            DESTROYED.add(event.getSession().getId());
        }
        Object ms = event.getSession().getAttribute(DESTROY_MS_ATTRIBUTE);
        CartApi.slowly(ms instanceof Integer ? (Integer) ms : (int) DESTROYED_LISTENER_MS);
    }

    static String json(List<String> ids) {
        synchronized (ids) {
            StringBuilder out = new StringBuilder("[");
            for (String id : ids) {
                out.append(out.length() == 1 ? "" : ",").append('"').append(id).append('"');
            }
            return out.append(']').toString();
        }
    }
}
