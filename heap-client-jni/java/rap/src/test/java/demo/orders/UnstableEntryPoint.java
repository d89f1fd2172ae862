package demo.orders;

import java.util.concurrent.ThreadLocalRandom;
import org.eclipse.rap.rwt.application.EntryPoint;
import org.eclipse.rap.rwt.widgets.WidgetUtil;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Shell;

/**
 * A deliberately non-deterministic page (/unstable): it shows a random number drawn without
 * {@code Recorded.input}, so a replay on another server renders another number. The recording
 * library must notice (the replayed response's digest differs) and end the UI session with a message
 * in the browser, never show the other number as if nothing happened. What not to do, on purpose.
 */
public final class UnstableEntryPoint implements EntryPoint {
    /** The numbers drawn: below this. */
    static final int NUMBERS = 1_000_000_000;

    @Override
    public int createUI() {
        Display display = new Display();
        WidgetUtil.registerDataKeys(TestIds.DATA_KEY);
        Shell shell = new Shell(display, SWT.NO_TRIM);
        shell.setMaximized(true);
        shell.setLayout(new GridLayout(1, false));
        Label number = OrderEntryWindow.tagged(new Label(shell, SWT.NONE), TestIds.LUCKY_NUMBER);
        number.setText(draw());
        Button again = OrderEntryWindow.tagged(new Button(shell, SWT.PUSH), TestIds.AGAIN);
        again.setText("Again");
        again.addListener(SWT.Selection, event -> number.setText(draw()));
        shell.layout();
        shell.open();
        while (!shell.isDisposed()) {
            if (!display.readAndDispatch()) {
                display.sleep();
            }
        }
        display.dispose();
        return 0;
    }

    private static String draw() {
        return "Lucky number " + ThreadLocalRandom.current().nextInt(NUMBERS);
    }
}
