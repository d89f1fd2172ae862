package org.sovereign.rap;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpSession;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;

/**
 * A UI request as RAP is to see it on this server: a given JSON body (the live one, or a recorded one
 * being replayed), the local cid of the UI session instead of the browser's (none for the request
 * that creates the UI session), and the UI session's local HTTP session instead of the cookie's.
 * No other request parameter reaches RAP: UI requests carry none but the cid.
 */
final class UiRequest extends HttpServletRequestWrapper {
    static final String CID_PARAMETER = "cid";

    private final byte[] body;
    private final String localCid;
    private final LocalHttpSession session;

    UiRequest(HttpServletRequest request, byte[] body, String localCid, LocalHttpSession session) {
        super(request);
        this.body = body;
        this.localCid = localCid;
        this.session = session;
    }

    @Override
    public String getMethod() {
        return "POST";
    }

    @Override
    public String getContentType() {
        return "application/json; charset=UTF-8";
    }

    @Override
    public String getCharacterEncoding() {
        return StandardCharsets.UTF_8.name();
    }

    @Override
    public int getContentLength() {
        return body.length;
    }

    @Override
    public long getContentLengthLong() {
        return body.length;
    }

    @Override
    public ServletInputStream getInputStream() {
        return new BodyStream(new ByteArrayInputStream(body));
    }

    @Override
    public BufferedReader getReader() {
        return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8));
    }

    @Override
    public String getParameter(String name) {
        return CID_PARAMETER.equals(name) ? localCid : null;
    }

    @Override
    public Map<String, String[]> getParameterMap() {
        return localCid == null ? Map.of() : Map.of(CID_PARAMETER, new String[] {localCid});
    }

    @Override
    public Enumeration<String> getParameterNames() {
        return Collections.enumeration(getParameterMap().keySet());
    }

    @Override
    public String[] getParameterValues(String name) {
        String value = getParameter(name);
        return value == null ? null : new String[] {value};
    }

    @Override
    public String getQueryString() {
        return localCid == null ? null : CID_PARAMETER + "=" + localCid;
    }

    @Override
    public HttpSession getSession(boolean create) {
        return session;
    }

    @Override
    public HttpSession getSession() {
        return session;
    }

    @Override
    public String getRequestedSessionId() {
        return session.getId();
    }

    @Override
    public boolean isRequestedSessionIdValid() {
        return session.isValid();
    }

    /** The body as a servlet input stream, read synchronously (RAP reads UI requests that way). */
    private static final class BodyStream extends ServletInputStream {
        private final ByteArrayInputStream in;

        BodyStream(ByteArrayInputStream in) {
            this.in = in;
        }

        @Override
        public int read() {
            return in.read();
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            return in.read(buffer, offset, length);
        }

        @Override
        public boolean isFinished() {
            return in.available() == 0;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
            throw new IllegalStateException("a recorded UI request is read synchronously");
        }
    }
}
