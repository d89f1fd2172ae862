package demo.orders;

/**
 * The test ids of the order-entry demo's widgets, shared by the demo and the browser test: each widget
 * carries its id as widget data under {@link #DATA_KEY}, which RAP sends to the browser because the
 * demo registers the key (WidgetUtil.registerDataKeys), so a test finds a widget with RAP's public
 * client API ({@code rap.getObject(id).getData("testid")}) instead of by its creation order.
 */
public final class TestIds {
    /** The widget data key the ids are stored under. */
    public static final String DATA_KEY = "testid";

    public static final String CUSTOMER = "customer";
    public static final String PRODUCT = "product";
    public static final String QUANTITY = "quantity";
    public static final String ADD_LINE = "addLine";
    public static final String LINES = "lines";
    public static final String REVIEW = "review";
    public static final String STATUS = "status";
    public static final String SUMMARY = "summary";
    public static final String PLACE_ORDER = "placeOrder";
    public static final String CANCEL = "cancel";
    public static final String LUCKY_NUMBER = "luckyNumber";
    public static final String AGAIN = "again";

    private TestIds() {
    }
}
