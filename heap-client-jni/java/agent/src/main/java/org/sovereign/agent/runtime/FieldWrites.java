package org.sovereign.agent.runtime;

/**
 * The write path of a shared object's field (a rewritten PUTFIELD, through
 * {@link Hooks#beforeWrite}): check the lock, encode the value, and put it in the thread's
 * {@link WriteBuffer}. Nothing crosses into native code until the commit, so a write under a held
 * lock costs a few lookups and array stores. A reference to an unshared object is the exception:
 * it is shared at the write (so a value that cannot be shared throws there, naming its path), and
 * sharing creates heap objects through the native client.
 */
final class FieldWrites {
    private FieldWrites() {}

    /**
     * Checks and buffers a write of {@code value} to field {@code fieldKey} ("owner.name") of shared
     * {@code object}; returns what the field must hold: {@code value}, or the shared copy of a plain
     * collection.
     */
    static Object record(AgentRuntime runtime, Object object, SharedState state, Object value, String fieldKey) {
        FieldMeta field = state.meta.field(fieldKey);
        if (field == null) {
            return value; // transient or otherwise local: a plain write
        }
        ThreadTransaction transaction = runtime.transaction();
        if (!transaction.mayWrite(state)) {
            throw Portability.unlocked(state, field, transaction.holdsRead(state.lockName));
        }
        if (FieldCodec.isDirect(field, value)) {
            buffer(transaction, object, state, field, FieldCodec.encode(field, value, null, null));
            return value;
        }
        // A reference: the path names it in errors and in what it shares (built only here, so a
        // scalar write allocates nothing for it).
        String path = state.path + "." + field.name;
        Object[] kept = {value};
        Object stored = FieldCodec.encode(field, value, path, (reference, referencePath) -> {
            Sharing.Shared shared = runtime.graph.sharing.share(reference, referencePath, transaction, state.group,
                    Graph.loaderOf(object.getClass()));
            kept[0] = shared.value();
            return shared.state().heap;
        });
        buffer(transaction, object, state, field, stored);
        return kept[0];
    }

    private static void buffer(ThreadTransaction transaction, Object object, SharedState state, FieldMeta field,
            Object stored) {
        if (transaction.writes().put(object, state, field, stored)) {
            transaction.wrote(object, state);
        }
    }
}
