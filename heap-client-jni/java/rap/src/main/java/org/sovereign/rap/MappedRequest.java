package org.sovereign.rap;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpSession;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request that is not a UI request (a service handler's: a download, an upload, server push) for a
 * UI session this server runs under another cid: RAP sees this server's cid and the UI session's
 * local HTTP session; everything else is the browser's request. Not recorded.
 */
final class MappedRequest extends HttpServletRequestWrapper {
    private final String localCid;
    private final LocalHttpSession session;

    MappedRequest(HttpServletRequest request, String localCid, LocalHttpSession session) {
        super(request);
        this.localCid = localCid;
        this.session = session;
    }

    @Override
    public String getParameter(String name) {
        return UiRequest.CID_PARAMETER.equals(name) ? localCid : super.getParameter(name);
    }

    @Override
    public Map<String, String[]> getParameterMap() {
        Map<String, String[]> parameters = new LinkedHashMap<>(super.getParameterMap());
        parameters.put(UiRequest.CID_PARAMETER, new String[] {localCid});
        return Collections.unmodifiableMap(parameters);
    }

    @Override
    public Enumeration<String> getParameterNames() {
        return Collections.enumeration(getParameterMap().keySet());
    }

    @Override
    public String[] getParameterValues(String name) {
        return UiRequest.CID_PARAMETER.equals(name) ? new String[] {localCid} : super.getParameterValues(name);
    }

    @Override
    public HttpSession getSession(boolean create) {
        return session;
    }

    @Override
    public HttpSession getSession() {
        return session;
    }
}
