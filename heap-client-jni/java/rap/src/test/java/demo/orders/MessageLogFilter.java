package demo.orders;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.rap.json.JsonObject;
import org.eclipse.rap.json.JsonValue;
import org.eclipse.rap.json.ParseException;

/**
 * Logs RAP's UI requests (POSTs of JSON to the entry point) and their responses, one JSON object a
 * line, to CATALINA_BASE/logs/rap-messages.jsonl: {@code {"query":..., "status":..., "request":{...},
 * "response":{...}}}. It shows what the recording library will see at the same place (a filter in
 * front of RWTServlet); the browser test reads the file to check the protocol facts it relies on.
 */
public final class MessageLogFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;
    /** The log file's name, in CATALINA_BASE/logs. */
    public static final String LOG_FILE = "rap-messages.jsonl";
    /** Stops logging after this many messages, so a long-running demo cannot fill the disk. */
    static final int MESSAGES_MAX = 1_000;

    private final AtomicInteger logged = new AtomicInteger();
    private Path logFile;

    @Override
    public void init() {
        String base = System.getProperty("catalina.base");
        if (base == null) {
            throw new IllegalStateException("catalina.base is not set; run the demo in Tomcat");
        }
        logFile = Path.of(base, "logs", LOG_FILE);
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!isUiRequest(request) || logged.get() >= MESSAGES_MAX) {
            chain.doFilter(request, response);
            return;
        }
        BufferedBodyRequest buffered = new BufferedBodyRequest(request);
        CapturingResponse capturing = new CapturingResponse(response);
        try {
            chain.doFilter(buffered, capturing);
        } finally {
            capturing.flushBuffer();
            append(request.getQueryString(), capturing.getStatus(), buffered.body(), capturing.captured());
        }
    }

    private static boolean isUiRequest(HttpServletRequest request) {
        String contentType = request.getContentType();
        return "POST".equals(request.getMethod()) && contentType != null
                && contentType.startsWith("application/json");
    }

    private void append(String query, int status, String requestBody, String responseBody) throws IOException {
        if (logged.incrementAndGet() > MESSAGES_MAX) {
            return;
        }
        JsonObject entry = new JsonObject().add("query", query == null ? "" : query).add("status", status)
                .add("request", parsed(requestBody)).add("response", parsed(responseBody));
        synchronized (this) {
            try (Writer out = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND)) {
                entry.writeTo(out);
                out.write('\n');
            }
        }
    }

    /** The message as JSON, or as a string if it is not JSON (an HTML error page, a cut body). */
    private static JsonValue parsed(String body) {
        try {
            return JsonValue.readFrom(body);
        } catch (ParseException e) {
            return JsonValue.valueOf(body);
        }
    }
}
