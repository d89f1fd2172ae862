package demo.orders;

import java.util.Map;
import org.eclipse.rap.rwt.application.Application;
import org.eclipse.rap.rwt.application.ApplicationConfiguration;
import org.eclipse.rap.rwt.client.WebClient;

/**
 * The demo's RAP application, named in web.xml (context parameter
 * org.eclipse.rap.applicationConfiguration, read by RWTServletContextListener): one entry point at
 * /app, in SWT_COMPATIBILITY mode, which gives each UI session its own UI thread so that the review
 * dialog's {@code open()} can block the way it does in desktop SWT.
 */
public final class OrderEntryConfiguration implements ApplicationConfiguration {
    /** The entry point's servlet path; web.xml maps RWTServlet to the same path. */
    public static final String ENTRY_POINT_PATH = "/app";

    @Override
    public void configure(Application application) {
        application.setOperationMode(Application.OperationMode.SWT_COMPATIBILITY);
        application.addEntryPoint(ENTRY_POINT_PATH, OrderEntryEntryPoint.class,
                Map.of(WebClient.PAGE_TITLE, "Order entry"));
    }
}
