package org.sovereign.tomcat.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A browser's worth of HTTP for the tests: one session cookie (JSESSIONID), kept from each answer's
 * Set-Cookie, sent with every request, to whichever base URL (HAProxy or one Tomcat) a call names.
 */
final class WebClient {
    /** Longest one call may take: above a session lock's wait behind a dead Tomcat (lease 10 s). */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern SESSION_COOKIE = Pattern.compile("JSESSIONID=([^;]+)");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private volatile String sessionId;

    /** The answer's status and body. */
    record Answer(int status, String body) {
        /** A string field of the JSON body ({@code "name":"value"}), or null. */
        String string(String name) {
            Matcher matcher = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(body);
            return matcher.find() ? matcher.group(1) : null;
        }

        /** A number field of the JSON body, or -1. */
        long number(String name) {
            Matcher matcher = Pattern.compile("\"" + name + "\":(-?\\d+)").matcher(body);
            return matcher.find() ? Long.parseLong(matcher.group(1)) : -1;
        }
    }

    String sessionId() {
        return sessionId;
    }

    void useSession(String id) {
        sessionId = id;
    }

    Answer get(String baseUrl, String path) throws IOException, InterruptedException {
        return send(baseUrl, path, "GET");
    }

    Answer post(String baseUrl, String path) throws IOException, InterruptedException {
        return send(baseUrl, path, "POST");
    }

    private Answer send(String baseUrl, String path, String method) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + "/cart" + path))
                .timeout(REQUEST_TIMEOUT).method(method, HttpRequest.BodyPublishers.noBody());
        String id = sessionId;
        if (id != null) {
            request.header("Cookie", "JSESSIONID=" + id);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        Optional<String> cookie = response.headers().allValues("Set-Cookie").stream()
                .filter(value -> value.startsWith("JSESSIONID=")).findFirst();
        cookie.ifPresent(value -> {
            Matcher matcher = SESSION_COOKIE.matcher(value);
            if (matcher.find()) {
                sessionId = matcher.group(1);
            }
        });
        return new Answer(response.statusCode(), response.body());
    }
}
