package demo.orders;

import java.util.List;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Dialog;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Shell;

/**
 * The modal review step: shows the order's summary with "Place order" and "Cancel", and its
 * {@link #open()} blocks in a nested SWT event loop on the UI thread until one is pressed, as in
 * desktop SWT (RAP allows this in SWT_COMPATIBILITY mode only).
 */
final class ReviewDialog extends Dialog {
    private static final long serialVersionUID = 1L;

    private final String customer;
    private final List<OrderBook.Line> lines;
    private boolean placed;

    ReviewDialog(Shell parent, String customer, List<OrderBook.Line> lines) {
        super(parent, SWT.DIALOG_TRIM | SWT.APPLICATION_MODAL);
        this.customer = customer;
        this.lines = lines;
        setText("Review order");
    }

    /** Returns true if the user pressed "Place order", false on "Cancel" or closing the dialog. */
    boolean open() {
        Shell shell = new Shell(getParent(), getStyle());
        shell.setText(getText());
        shell.setLayout(new GridLayout(2, true));
        Label summary = OrderEntryWindow.tagged(new Label(shell, SWT.WRAP), TestIds.SUMMARY);
        summary.setText(summary());
        summary.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false, 2, 1));
        Button place = OrderEntryWindow.tagged(new Button(shell, SWT.PUSH), TestIds.PLACE_ORDER);
        place.setText("Place order");
        place.addListener(SWT.Selection, event -> {
            placed = true;
            shell.close();
        });
        Button cancel = OrderEntryWindow.tagged(new Button(shell, SWT.PUSH), TestIds.CANCEL);
        cancel.setText("Cancel");
        cancel.addListener(SWT.Selection, event -> shell.close());
        shell.setDefaultButton(place);
        shell.pack();
        shell.setLocation(120, 120);
        shell.open();
        Display display = shell.getDisplay();
        while (!shell.isDisposed()) {
            if (!display.readAndDispatch()) {
                display.sleep();
            }
        }
        return placed;
    }

    private String summary() {
        StringBuilder text = new StringBuilder("Customer: ").append(customer);
        for (OrderBook.Line line : lines) {
            text.append('\n').append(line.quantity()).append(" x ").append(line.product());
        }
        return text.toString();
    }
}
