package org.sovereign.agent.collections;

import java.util.Set;
import org.sovereign.agent.runtime.Shareable;

/** A set view of a shared collection (a map's {@code keySet()}) with the guard of {@link GuardedCollection}. */
class GuardedSet<E> extends GuardedCollection<E> implements Set<E> {
    GuardedSet(Set<E> inner, Shareable owner) {
        super(inner, owner);
    }

    @Override
    public boolean equals(Object other) {
        return other == this || inner.equals(other);
    }

    @Override
    public int hashCode() {
        return inner.hashCode();
    }
}
