//! Unit tests for client-reserved ids (`AllocateIds` + `Op::CreateWithId`) and `Op::BindNewRoot`.

#![allow(clippy::unwrap_used)]

use crate::command::{Command, Envelope, Op, Target};
use crate::heap::Heap;
use crate::limits::ID_RANGE_MAX;
use crate::object::ObjectKind;
use crate::reply::{Rejection, Reply};
use crate::test_support::{apply_ops, create, try_ops};
use crate::value::Value;

fn allocate(heap: &mut Heap, log_index: u64, count: u32) -> Reply {
    let mut writes = Vec::new();
    let before = heap.export();
    let reply = heap.apply_command(
        log_index,
        &Envelope { leader_time_ms: 0, command: Command::AllocateIds { count } },
        &mut writes,
    );
    // The change set is exact: replaying it onto the old image gives the new one.
    let mut image: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = before.into_iter().collect();
    for (key, value) in writes {
        match value {
            Some(value) => image.insert(key, value),
            None => image.remove(&key),
        };
    }
    assert_eq!(image.into_iter().collect::<Vec<_>>(), heap.export());
    heap.validate().unwrap();
    reply
}

fn create_with_id(id: u64) -> Op {
    Op::CreateWithId { id, class: "C".into(), kind: ObjectKind::Fields }
}

#[test]
fn reserved_ids_are_unique_and_usable_once() {
    let mut heap = Heap::new();
    let Reply::IdRange { first, count } = allocate(&mut heap, 1, 100) else { panic!() };
    assert_eq!(count, 100);
    let Reply::IdRange { first: second, .. } = allocate(&mut heap, 2, 10) else { panic!() };
    assert_eq!(second, first + 100, "ranges never overlap");
    // Objects made with handles take ids after every reserved range.
    let by_handle = apply_ops(&mut heap, 3, vec![create(0, ObjectKind::Map)]);
    assert_eq!(by_handle, vec![first + 110]);

    apply_ops(
        &mut heap,
        4,
        vec![
            create_with_id(first),
            create_with_id(first + 1),
            Op::SetField { target: Target::Id(first), field: "next".into(), value: Value::Ref(first + 1) },
        ],
    );
    assert_eq!(heap.get(first).unwrap().version, 4);
    assert!(matches!(
        try_ops(&mut heap, 5, vec![create_with_id(first)]),
        Reply::Rejected(Rejection::InvalidId { id, .. }) if id == first
    ));
    let unreserved = heap.next_id();
    assert!(matches!(
        try_ops(&mut heap, 6, vec![create_with_id(unreserved)]),
        Reply::Rejected(Rejection::InvalidId { id, .. }) if id == unreserved
    ));
    assert!(matches!(
        try_ops(&mut heap, 7, vec![create_with_id(0)]),
        Reply::Rejected(Rejection::InvalidId { id: 0, .. })
    ));
}

#[test]
fn id_ranges_are_bounded() {
    let mut heap = Heap::new();
    assert_eq!(allocate(&mut heap, 1, 0), Reply::Rejected(Rejection::InvalidIdCount { count: 0 }));
    assert_eq!(
        allocate(&mut heap, 2, ID_RANGE_MAX + 1),
        Reply::Rejected(Rejection::InvalidIdCount { count: ID_RANGE_MAX + 1 })
    );
    assert!(matches!(allocate(&mut heap, 3, ID_RANGE_MAX), Reply::IdRange { .. }));
}

#[test]
fn a_new_root_binds_once_and_then_names_the_winner() {
    let mut heap = Heap::new();
    let bind_new = |handle| Op::BindNewRoot { name: "cart".into(), target: Target::New(handle) };
    let first = apply_ops(&mut heap, 1, vec![create(0, ObjectKind::Fields), bind_new(0)]);
    let before = heap.export();
    let reply = try_ops(&mut heap, 2, vec![create(0, ObjectKind::Fields), bind_new(0)]);
    assert_eq!(reply, Reply::Rejected(Rejection::RootExists { name: "cart".into(), id: first[0] }));
    assert_eq!(heap.root("cart"), Some(first[0]));
    assert_eq!(heap.object_count(), 1, "the losing transaction created nothing");
    let changed: Vec<_> = heap.export().into_iter().filter(|pair| !before.contains(pair)).collect();
    assert!(changed.iter().all(|(key, _)| key.starts_with(b"m/")), "only bookkeeping changed: {changed:?}");
    // Bound and unbound in one transaction: the overlay is consulted first.
    let reply =
        try_ops(&mut heap, 3, vec![Op::UnbindRoot { name: "cart".into() }, create(0, ObjectKind::Fields), bind_new(0)]);
    assert!(matches!(reply, Reply::Committed { .. }), "{reply:?}");
}
