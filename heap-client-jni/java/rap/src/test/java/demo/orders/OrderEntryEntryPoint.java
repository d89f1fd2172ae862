package demo.orders;

import org.eclipse.rap.rwt.application.EntryPoint;
import org.eclipse.rap.rwt.widgets.WidgetUtil;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Shell;

/**
 * Runs one UI session of the demo on its UI thread: creates the Display and the order window, then
 * the SWT event loop, in which {@code display.sleep()} hands control back to the request thread
 * until the browser's next request (SWT_COMPATIBILITY mode).
 */
public final class OrderEntryEntryPoint implements EntryPoint {
    @Override
    public int createUI() {
        Display display = new Display();
        // Sends every widget's test id to the browser (widget data is server-only otherwise).
        WidgetUtil.registerDataKeys(TestIds.DATA_KEY);
        Shell shell = new OrderEntryWindow(display).open();
        while (!shell.isDisposed()) {
            if (!display.readAndDispatch()) {
                display.sleep();
            }
        }
        display.dispose();
        return 0;
    }
}
