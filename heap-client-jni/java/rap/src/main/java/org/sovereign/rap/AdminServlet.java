package org.sovereign.rap;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.eclipse.rap.json.JsonObject;

/**
 * The operator's endpoints, mapped at {@code /sovereign-rap/*}: {@code GET health} (200 serving, 503
 * draining: what the load balancer checks), {@code POST drain} and {@code POST resume}, and
 * {@code GET status}. A draining server keeps serving what reaches it; once the load balancer has
 * taken it out and no request is in flight it can be switched off ({@code canSwitchOff}): every UI
 * session's state is on the heap after each request, and another server rebuilds it on its next
 * request. No authentication: expose these paths on the operator's network only.
 */
public class AdminServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Recorder recorder = Recorder.current();
        switch (String.valueOf(request.getPathInfo())) {
            case "/health" -> Recorder.send(response,
                    recorder.draining() ? HttpServletResponse.SC_SERVICE_UNAVAILABLE : HttpServletResponse.SC_OK,
                    new JsonObject().add("state", state(recorder)).toString());
            case "/status" -> Recorder.send(response, HttpServletResponse.SC_OK, status(recorder));
            default -> notFound(response);
        }
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Recorder recorder = Recorder.current();
        switch (String.valueOf(request.getPathInfo())) {
            case "/drain" -> recorder.setDraining(true);
            case "/resume" -> recorder.setDraining(false);
            default -> {
                notFound(response);
                return;
            }
        }
        Recorder.send(response, HttpServletResponse.SC_OK, status(recorder));
    }

    private static String status(Recorder recorder) {
        int inFlight = recorder.inFlight();
        return new JsonObject().add("state", state(recorder)).add("inFlightRequests", inFlight)
                .add("localUiSessions", recorder.sessions().size())
                .add("canSwitchOff", recorder.draining() && inFlight == 0).toString();
    }

    private static String state(Recorder recorder) {
        return recorder.draining() ? "draining" : "serving";
    }

    private static void notFound(HttpServletResponse response) throws IOException {
        Recorder.send(response, HttpServletResponse.SC_NOT_FOUND, new JsonObject()
                .add("error", "unknown path: use GET health, GET status, POST drain or POST resume").toString());
    }
}
