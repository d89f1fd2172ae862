package demo.orders;

import java.util.Map;
import org.eclipse.rap.rwt.application.Application;
import org.eclipse.rap.rwt.application.ApplicationConfiguration;
import org.eclipse.rap.rwt.client.WebClient;

/**
 * The demo's RAP application, named in web.xml (context parameter
 * org.eclipse.rap.applicationConfiguration, read by RWTServletContextListener): one entry point at
 * /app (and /unstable, which is not replayable on purpose), in SWT_COMPATIBILITY mode, which gives each UI session its own UI thread so that the review
 * dialog's {@code open()} can block the way it does in desktop SWT.
 */
public final class OrderEntryConfiguration implements ApplicationConfiguration {
    /** The entry point's servlet path; web.xml maps RWTServlet to the same path. */
    public static final String ENTRY_POINT_PATH = "/app";
    /** A deliberately non-deterministic page, to show how a replay that differs is reported. */
    public static final String UNSTABLE_PATH = "/unstable";

    @Override
    public void configure(Application application) {
        application.setOperationMode(Application.OperationMode.SWT_COMPATIBILITY);
        application.addEntryPoint(ENTRY_POINT_PATH, OrderEntryEntryPoint.class,
                Map.of(WebClient.PAGE_TITLE, "Order entry"));
        application.addEntryPoint(UNSTABLE_PATH, UnstableEntryPoint.class, Map.of(WebClient.PAGE_TITLE, "Unstable"));
    }
}
