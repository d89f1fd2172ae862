package org.sovereign.agent.runtime;

/**
 * How a {@link Mirror} turns a container's Java elements into heap values and back, in the context
 * of one container (its class loader, the thread's transaction for sharing, the load in progress).
 */
interface ElementIo {
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
