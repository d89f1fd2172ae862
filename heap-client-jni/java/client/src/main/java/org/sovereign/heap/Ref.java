package org.sovereign.heap;

/**
 * A reference to a heap object as the native library returns it from a read: the object's id and
 * kind ({@link HeapClient#KIND_FIELDS}, {@link HeapClient#KIND_MAP}, {@link HeapClient#KIND_LIST}).
 * {@link HeapClient} turns it into a {@link HeapObject}, {@link HeapMap} or {@link HeapList};
 * applications never see it. Constructed from Rust ({@code values.rs}); keep the constructor.
 */
final class Ref {
    final long id;
    final int kind;

    Ref(long id, int kind) {
        this.id = id;
        this.kind = kind;
    }
}
