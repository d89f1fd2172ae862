package org.sovereign.agent.runtime;

/**
 * What the transformer adds to every instrumented class (to the topmost one of a hierarchy; the
 * others inherit it): a field holding the object's {@link SharedState}, null while the object is
 * not shared, and these two accessors for the runtime. Rewritten code reads the field directly
 * ({@link #STATE_FIELD}), so an unshared object costs one null check per field write.
 */
public interface Shareable {
    /** The added field's name: a name Java source cannot clash with by accident. */
    String STATE_FIELD = "$sovereign$state";
    /** The added field's descriptor. */
    String STATE_DESCRIPTOR = "Lorg/sovereign/agent/runtime/SharedState;";

    /** The object's shared state, or null while it is not shared. */
    SharedState $sovereign$state();

    /** Makes the object shared (a state) or unshared again (null, when a commit failed). */
    void $sovereign$state(SharedState state);

    /** The shared state of {@code object}, or null: not shared, or not of an instrumented class. */
    static SharedState stateOf(Object object) {
        return object instanceof Shareable ? ((Shareable) object).$sovereign$state() : null;
    }
}
