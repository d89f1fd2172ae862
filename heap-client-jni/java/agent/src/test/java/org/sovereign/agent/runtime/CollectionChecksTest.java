package org.sovereign.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.sovereign.agent.collections.SharedContainers;
import org.sovereign.heap.NonPortableObjectException;

/** Supported collection classes whose instances still cannot be shared, and the classes that are not supported at all. */
class CollectionChecksTest {
    @Test
    void aComparatorIsCodeAndIsRefused() {
        TreeMap<String, Integer> byLength = new TreeMap<>(Comparator.comparing(String::length));
        String message = assertThrows(NonPortableObjectException.class,
                () -> Portability.checkCollection(byLength, "demo.X.ROOT.index")).getMessage();
        assertTrue(message.startsWith("cannot share the java.util.TreeMap at demo.X.ROOT.index: it has a Comparator"),
                message);
        assertThrows(NonPortableObjectException.class,
                () -> Portability.checkCollection(new TreeSet<>(Comparator.reverseOrder()), "p"));
        Portability.checkCollection(new TreeMap<>(), "natural ordering is fine");
    }

    @Test
    void anAccessOrderedLinkedHashMapIsRefused() {
        LinkedHashMap<String, Integer> lru = new LinkedHashMap<>(16, 0.75f, true);
        String message = assertThrows(NonPortableObjectException.class,
                () -> Portability.checkCollection(lru, "demo.X.ROOT.cache")).getMessage();
        assertTrue(message.startsWith("cannot share the access-ordered LinkedHashMap at demo.X.ROOT.cache"), message);
        Portability.checkCollection(new LinkedHashMap<>(), "insertion order is fine");
    }

    @Test
    void onlyTheExactSupportedClassesAreShared() {
        assertTrue(SharedContainers.isSupported(java.util.ArrayList.class));
        assertTrue(!SharedContainers.isSupported(List.of().getClass()), "List.of is another class");
        assertTrue(!SharedContainers.isSupported(new LinkedHashMap<String, String>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                return size() > 2;
            }
        }.getClass()), "a subclass may behave differently");
        String message = Portability.nonPortable(java.util.Collections.synchronizedList(new java.util.ArrayList<>()), "p")
                .getMessage();
        assertTrue(message.contains("is not one of the java.util collections the agent shares"), message);
    }
}
