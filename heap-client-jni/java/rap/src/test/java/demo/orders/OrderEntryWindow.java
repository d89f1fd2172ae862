package demo.orders;

import java.util.ArrayList;
import java.util.List;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Combo;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.swt.widgets.Table;
import org.eclipse.swt.widgets.TableColumn;
import org.eclipse.swt.widgets.TableItem;
import org.eclipse.swt.widgets.Text;
import org.eclipse.swt.widgets.Widget;
import org.sovereign.rap.Recorded;

/**
 * The order-entry wizard's main window: customer name, product, quantity, an "Add line" button that
 * appends to the table of lines, and a "Review" button whose handler blocks in the review dialog's
 * {@code open()} and places the order after it returns (only a UI thread allows that).
 */
final class OrderEntryWindow {
    /** What the shop sells; the combo offers these in this order. */
    static final List<String> PRODUCTS = List.of("Anvil", "Giant rubber band", "Rocket skates");
    /** Bounds the quantity of one line, so a typo cannot order a million anvils. */
    static final int QUANTITY_MAX = 999;
    /** Bounds the lines of one order (the table and the dialog's summary stay readable). */
    static final int LINES_MAX = 50;

    private final Shell shell;
    private final Text customer;
    private final Combo product;
    private final Text quantity;
    private final Table lines;
    private final Label status;
    private final List<OrderBook.Line> entered = new ArrayList<>();

    OrderEntryWindow(Display display) {
        shell = new Shell(display, SWT.NO_TRIM);
        shell.setMaximized(true);
        shell.setLayout(new GridLayout(2, false));
        label("Customer");
        customer = tagged(new Text(shell, SWT.BORDER), TestIds.CUSTOMER);
        customer.setLayoutData(wide());
        label("Product");
        product = tagged(new Combo(shell, SWT.READ_ONLY | SWT.BORDER), TestIds.PRODUCT);
        product.setItems(PRODUCTS.toArray(new String[0]));
        product.select(0);
        label("Quantity");
        quantity = tagged(new Text(shell, SWT.BORDER), TestIds.QUANTITY);
        quantity.setLayoutData(wide());
        Button addLine = tagged(new Button(shell, SWT.PUSH), TestIds.ADD_LINE);
        addLine.setText("Add line");
        addLine.setLayoutData(new GridData(SWT.BEGINNING, SWT.CENTER, false, false, 2, 1));
        addLine.addListener(SWT.Selection, event -> addLine());
        lines = tagged(new Table(shell, SWT.BORDER | SWT.FULL_SELECTION), TestIds.LINES);
        lines.setHeaderVisible(true);
        lines.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true, 2, 1));
        column("Product", 240);
        column("Quantity", 100);
        Button review = tagged(new Button(shell, SWT.PUSH), TestIds.REVIEW);
        review.setText("Review");
        review.addListener(SWT.Selection, event -> review());
        status = tagged(new Label(shell, SWT.NONE), TestIds.STATUS);
        status.setLayoutData(wide());
    }

    Shell open() {
        shell.layout();
        shell.open();
        return shell;
    }

    private void addLine() {
        int count;
        try {
            count = Integer.parseInt(quantity.getText().trim());
        } catch (NumberFormatException e) {
            status.setText("Quantity must be a whole number from 1 to " + QUANTITY_MAX);
            return;
        }
        if (count < 1 || count > QUANTITY_MAX) {
            status.setText("Quantity must be a whole number from 1 to " + QUANTITY_MAX);
            return;
        }
        if (entered.size() >= LINES_MAX) {
            status.setText("An order has at most " + LINES_MAX + " lines; place this one first");
            return;
        }
        OrderBook.Line line = new OrderBook.Line(product.getText(), count);
        entered.add(line);
        TableItem item = new TableItem(lines, SWT.NONE);
        item.setText(new String[] {line.product(), Integer.toString(line.quantity())});
        quantity.setText("");
        status.setText(entered.size() + " line(s)");
    }

    /** Blocks in the dialog's event loop until the user places the order or cancels. */
    private void review() {
        String name = customer.getText().trim();
        if (name.isEmpty() || entered.isEmpty()) {
            status.setText("Enter a customer and at least one line first");
            return;
        }
        boolean place = new ReviewDialog(shell, name, List.copyOf(entered)).open();
        if (!place) {
            status.setText("Order not placed");
            return;
        }
        List<OrderBook.Line> placed = List.copyOf(entered);
        // The effect on shared state: once per click, ever; a replay gets the number it got live.
        int number = Recorded.once("place-order", () -> OrderBook.place(name, placed));
        entered.clear();
        lines.removeAll();
        status.setText("Order " + number + " placed");
    }

    private void label(String text) {
        new Label(shell, SWT.NONE).setText(text);
    }

    private void column(String text, int widthPixels) {
        TableColumn column = new TableColumn(lines, SWT.NONE);
        column.setText(text);
        column.setWidth(widthPixels);
    }

    private static GridData wide() {
        return new GridData(SWT.FILL, SWT.CENTER, true, false);
    }

    static <W extends Widget> W tagged(W widget, String testId) {
        widget.setData(TestIds.DATA_KEY, testId);
        return widget;
    }
}
