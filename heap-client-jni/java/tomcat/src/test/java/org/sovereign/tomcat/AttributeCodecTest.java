package org.sovereign.tomcat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Attribute values round-trip as bytes; a value changed in place encodes differently (what the end of
 * a request compares); values that cannot be serialized are refused naming the attribute and type.
 */
class AttributeCodecTest {
    static final class Holder implements Serializable {
        private static final long serialVersionUID = 1L;
        final Object inside;

        Holder(Object inside) {
            this.inside = inside;
        }
    }

    @Test
    void valuesRoundTripAndInPlaceChangesShowInTheBytes() {
        List<String> cart = new ArrayList<>(List.of("apple"));
        byte[] before = AttributeCodec.encode("cart", cart);
        assertEquals(cart, AttributeCodec.decode("cart", before, getClass().getClassLoader()));
        assertArrayEquals(before, AttributeCodec.encode("cart", cart), "the same value must encode the same");
        cart.add("pear");
        assertFalse(java.util.Arrays.equals(before, AttributeCodec.encode("cart", cart)));
    }

    @Test
    void aValueThatIsNotSerializableIsRefusedNamingItsType() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttributeCodec.encode("worker", new Thread("t")));
        assertTrue(e.getMessage().contains("'worker'") && e.getMessage().contains("java.lang.Thread")
                && e.getMessage().contains("Serializable"), e.getMessage());
    }

    @Test
    void aSerializableValueHoldingOneThatIsNotIsRefusedNamingBoth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttributeCodec.encode("holder", new Holder(new Object())));
        assertTrue(e.getMessage().contains(Holder.class.getName()) && e.getMessage().contains("java.lang.Object"),
                e.getMessage());
    }
}
