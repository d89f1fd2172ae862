package org.sovereign.rap;

import jakarta.servlet.ServletConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.eclipse.rap.rwt.engine.RWTServlet;

/**
 * Use in web.xml instead of RAP's {@code org.eclipse.rap.rwt.engine.RWTServlet} (same mapping): it
 * serves the RAP application through RAP's own servlet, and records every UI request of every UI
 * session on the Sovereign heap, so that any server of the cluster can rebuild and continue a UI
 * session another one ran (the Recording Strategy). Needs the context parameter
 * {@code sovereign.rap.endpoints} (the heap cluster) and RAP in SWT_COMPATIBILITY mode; see the
 * README's "RAP failover".
 */
public class RecordingServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private transient RWTServlet rap;
    private transient Recorder recorder;

    @Override
    public void init(ServletConfig config) throws ServletException {
        super.init(config);
        rap = new RWTServlet();
        rap.init(config);
        try {
            recorder = Recorder.start(config.getServletContext(), rap);
        } catch (RuntimeException e) {
            rap.destroy();
            throw new ServletException("sovereign-rap could not start: " + e.getMessage(), e);
        }
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        recorder.service(request, response);
    }

    @Override
    public void destroy() {
        if (recorder != null) {
            recorder.close();
        }
        if (rap != null) {
            rap.destroy();
        }
        super.destroy();
    }
}
