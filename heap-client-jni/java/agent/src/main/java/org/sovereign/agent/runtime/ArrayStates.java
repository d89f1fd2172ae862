package org.sovereign.agent.runtime;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The state of each shared array, by the array's identity (an array has no field to hold it, as
 * instrumented objects and shared collections do). Weak on the array: a shared array the
 * application drops is forgotten with it.
 */
final class ArrayStates {
    /** A key comparing arrays by identity; the stored keys are weak. */
    private interface Identity {
        Object array();
    }

    private static final class WeakKey extends WeakReference<Object> implements Identity {
        private final int hash;

        WeakKey(Object array, ReferenceQueue<Object> queue) {
            super(array, queue);
            this.hash = System.identityHashCode(array);
        }

        @Override
        public Object array() {
            return get();
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object other) {
            if (other == this) {
                return true;
            }
            Object array = get();
            return array != null && other instanceof Identity && ((Identity) other).array() == array;
        }
    }

    private record Probe(Object array) implements Identity {
        @Override
        public int hashCode() {
            return System.identityHashCode(array);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Identity && ((Identity) other).array() == array;
        }
    }

    private final ConcurrentHashMap<Identity, SharedState> states = new ConcurrentHashMap<>();
    private final ReferenceQueue<Object> collected = new ReferenceQueue<>();

    /** The state of shared array {@code array}, or null. */
    SharedState get(Object array) {
        return states.get(new Probe(array));
    }

    void put(Object array, SharedState state) {
        expunge();
        states.put(new WeakKey(array, collected), state);
    }

    void remove(Object array) {
        states.remove(new Probe(array));
    }

    private void expunge() {
        for (Object key = collected.poll(); key != null; key = collected.poll()) {
            states.remove((Identity) key);
        }
    }
}
