package demo.cart;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/** The demo shop's cart: a plain Serializable class, changed in place (no setAttribute after the first). */
public class Cart implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Map<String, Integer> quantities = new LinkedHashMap<>();

    public void add(String sku, int quantity) {
        quantities.merge(sku, quantity, Integer::sum);
    }

    public Map<String, Integer> quantities() {
        return quantities;
    }
}
