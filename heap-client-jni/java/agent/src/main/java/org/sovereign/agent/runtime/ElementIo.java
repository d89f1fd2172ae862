package org.sovereign.agent.runtime;

import java.util.Map;
import org.sovereign.heap.HeapList;
import org.sovereign.heap.HeapMap;

/**
 * How a {@link Mirror} turns a container's Java elements into heap values and back, in the context
 * of one container (its class loader, the thread's transaction for sharing, the load in progress),
 * and how it reads its heap data: many elements in one call, the objects they reference in one
 * batch (as deep and as many as the load in progress reads).
 */
interface ElementIo {
    /** Elements {@code from..to} of {@code list} (a container's data; {@code to} past the end: to the end), stored values. */
    default Object[] elements(HeapList list, int from, int to) {
        return list.toArray(from, to, 0, 0);
    }

    /** Every entry of {@code map} (a container's data), stored values, in key order. */
    default Map<String, Object> entries(HeapMap map) {
        return map.toMap();
    }

    /**
     * The value to keep in the container for {@code value}, shared now if it was not: a plain
     * collection becomes its shared copy, an instrumented object or array is shared as it is.
     * Throws {@link org.sovereign.heap.NonPortableObjectException} naming {@code path} for a value
     * that cannot be shared.
     */
    Object adopt(Object value, String path);

    /** The heap value for an adopted element. */
    Object encode(Object value, String path);

    /** The heap map key for {@code key}. */
    default String keyText(Object key, String path) {
        return ElementCodec.keyText(key, path);
    }

    /** The Java element for heap value {@code stored}, loading what it references. */
    Object decode(Object stored, String path);

    /** The Java key for heap map key {@code text}. */
    Object key(String text, String path);
}
