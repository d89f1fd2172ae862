//! Unit tests for transaction application: one per op and one per rejection kind.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use crate::command::{Op, Target};
use crate::heap::Heap;
use crate::limits::{
    Limit, COLLECTION_LENGTH_MAX, FIELDS_PER_OBJECT_MAX, OBJECT_SIZE_BYTES_MAX, TRANSACTION_EXPECTS_MAX,
    TRANSACTION_OPS_MAX,
};
use crate::object::{Body, ObjectKind};
use crate::reply::{Rejection, Reply};
use crate::test_support::{apply_ops, create, envelope, try_ops};
use crate::value::{ObjectId, Value};

fn id(target: ObjectId) -> Target {
    Target::Id(target)
}

fn text(s: &str) -> String {
    s.to_string()
}

fn set(target: Target, field: &str, value: Value) -> Op {
    Op::SetField { target, field: text(field), value }
}

fn push(target: Target, value: Value) -> Op {
    Op::ListPush { target, value }
}

/// A heap with a Fields object 1, a Map object 2 and a List object 3 [10, 20, 30], at index 1.
fn fixture() -> Heap {
    let mut heap = Heap::new();
    apply_ops(
        &mut heap,
        1,
        vec![
            create(0, ObjectKind::Fields),
            create(1, ObjectKind::Map),
            create(2, ObjectKind::List),
            push(Target::New(2), Value::Int(10)),
            push(Target::New(2), Value::Int(20)),
            push(Target::New(2), Value::Int(30)),
        ],
    );
    heap
}

fn list(heap: &Heap, target: ObjectId) -> Vec<Value> {
    match &heap.get(target).unwrap().body {
        Body::List(elements) => elements.clone(),
        other => panic!("not a list: {other:?}"),
    }
}

fn entries(heap: &Heap, target: ObjectId) -> BTreeMap<String, Value> {
    match &heap.get(target).unwrap().body {
        Body::Fields(entries) | Body::Map(entries) => entries.clone(),
        other => panic!("not fields or a map: {other:?}"),
    }
}

/// Applies `ops` at index 2 of the fixture, expects `rejection`, and checks nothing changed.
fn rejects(ops: Vec<Op>, rejection: Rejection) {
    rejects_with_expect(Vec::new(), ops, rejection);
}

fn rejects_with_expect(expect: Vec<(ObjectId, u64)>, ops: Vec<Op>, rejection: Rejection) {
    let mut heap = fixture();
    let before = heap.export();
    let mut writes = Vec::new();
    let reply = heap.apply_command(2, &envelope(expect, ops), &mut writes);
    assert_eq!(reply, Reply::Rejected(rejection));
    assert_eq!(writes.len(), 1, "a rejection writes only the applied index");
    let after = heap.export();
    assert_eq!(after[1..], before[1..], "a rejection changes nothing");
    assert_eq!(heap.applied_index(), 2);
}

#[test]
fn create_assigns_ids_in_order_and_stamps_the_version() {
    let mut heap = fixture();
    let reply = try_ops(&mut heap, 2, vec![create(5, ObjectKind::List), create(3, ObjectKind::Fields)]);
    assert_eq!(reply, Reply::Committed { log_index: 2, created: vec![(5, 4), (3, 5)] });
    let object = heap.get(5).unwrap();
    assert_eq!(object.class, "C");
    assert_eq!(object.version, 2);
    assert_eq!(object.kind(), ObjectKind::Fields);
    assert_eq!(heap.object_count(), 5);
}

#[test]
fn set_field_stores_values_including_null_and_bumps_only_that_object() {
    let mut heap = fixture();
    apply_ops(
        &mut heap,
        2,
        vec![
            set(id(1), "name", Value::Str(text("x"))),
            set(id(1), "gone", Value::Null),
            set(id(1), "peer", Value::Ref(3)),
        ],
    );
    let fields = entries(&heap, 1);
    assert_eq!(fields["name"], Value::Str(text("x")));
    assert_eq!(fields["gone"], Value::Null);
    assert_eq!(fields["peer"], Value::Ref(3));
    assert_eq!(heap.get(1).unwrap().version, 2);
    // Being referred to is not a change.
    assert_eq!(heap.get(3).unwrap().version, 1);
}

#[test]
fn remove_field_removes_and_absent_fields_change_nothing() {
    let mut heap = fixture();
    apply_ops(&mut heap, 2, vec![set(id(1), "a", Value::Bool(true))]);
    let remove = |field: &str| Op::RemoveField { target: id(1), field: text(field) };
    apply_ops(&mut heap, 3, vec![remove("absent")]);
    assert_eq!(heap.get(1).unwrap().version, 2);
    apply_ops(&mut heap, 4, vec![remove("a")]);
    assert!(entries(&heap, 1).is_empty());
    assert_eq!(heap.get(1).unwrap().version, 4);
}

#[test]
fn map_put_and_remove() {
    let mut heap = fixture();
    let put = |key: &str, value| Op::MapPut { target: id(2), key: text(key), value };
    apply_ops(&mut heap, 2, vec![put("", Value::Int(1)), put("k", Value::Float(0.5))]);
    assert_eq!(entries(&heap, 2).len(), 2);
    apply_ops(&mut heap, 3, vec![Op::MapRemove { target: id(2), key: String::new() }]);
    assert_eq!(entries(&heap, 2).into_iter().collect::<Vec<_>>(), vec![(text("k"), Value::Float(0.5))]);
    assert_eq!(heap.get(2).unwrap().version, 3);
}

#[test]
fn list_push_insert_set_remove() {
    let mut heap = fixture();
    apply_ops(
        &mut heap,
        2,
        vec![
            push(id(3), Value::Int(40)),
            Op::ListInsert { target: id(3), index: 0, value: Value::Int(0) },
            Op::ListInsert { target: id(3), index: 5, value: Value::Int(50) },
            Op::ListSet { target: id(3), index: 1, value: Value::Int(11) },
            Op::ListRemove { target: id(3), index: 2 },
        ],
    );
    let ints: Vec<Value> = [0, 11, 30, 40, 50].into_iter().map(Value::Int).collect();
    assert_eq!(list(&heap, 3), ints);
    assert_eq!(heap.get(3).unwrap().version, 2);
}

#[test]
fn clear_empties_maps_and_lists() {
    let mut heap = fixture();
    apply_ops(
        &mut heap,
        2,
        vec![Op::MapPut { target: id(2), key: text("k"), value: Value::Null }, Op::Clear { target: id(3) }],
    );
    assert!(list(&heap, 3).is_empty());
    apply_ops(&mut heap, 3, vec![Op::Clear { target: id(2) }]);
    assert!(entries(&heap, 2).is_empty());
    assert_eq!(heap.get(2).unwrap().version, 3);
    // Clearing an empty collection changes nothing.
    apply_ops(&mut heap, 4, vec![Op::Clear { target: id(3) }]);
    assert_eq!(heap.get(3).unwrap().version, 2);
}

#[test]
fn bind_and_unbind_roots() {
    let mut heap = fixture();
    apply_ops(
        &mut heap,
        2,
        vec![
            create(0, ObjectKind::Map),
            Op::BindRoot { name: text("fresh"), target: Target::New(0) },
            Op::BindRoot { name: text("old"), target: id(1) },
        ],
    );
    assert_eq!(heap.root("fresh"), Some(4));
    assert_eq!(heap.root("old"), Some(1));
    apply_ops(&mut heap, 3, vec![Op::UnbindRoot { name: text("old") }, Op::UnbindRoot { name: text("never bound") }]);
    assert_eq!(heap.root("old"), None);
    assert!(heap.get(1).is_some(), "unbinding keeps the object");
    assert_eq!(heap.roots(), vec![(text("fresh"), 4)]);
}

#[test]
fn new_refs_resolve_forward_backward_and_to_self() {
    let mut heap = fixture();
    let created = apply_ops(
        &mut heap,
        2,
        vec![
            create(0, ObjectKind::Fields),
            set(Target::New(0), "self", Value::NewRef(0)),
            set(Target::New(0), "later", Value::NewRef(1)),
            create(1, ObjectKind::List),
        ],
    );
    assert_eq!(created, vec![4, 5]);
    let fields = entries(&heap, 4);
    assert_eq!(fields["self"], Value::Ref(4));
    assert_eq!(fields["later"], Value::Ref(5));
}

#[test]
fn expect_matching_versions_commits() {
    let mut heap = fixture();
    let reply =
        heap.apply_command(2, &envelope(vec![(1, 1), (3, 1)], vec![set(id(1), "a", Value::Int(1))]), &mut Vec::new());
    assert!(matches!(reply, Reply::Committed { .. }));
}

#[test]
fn version_conflict() {
    rejects_with_expect(
        vec![(1, 1), (2, 7)],
        vec![set(id(1), "a", Value::Int(1))],
        Rejection::VersionConflict { id: 2, expected: 7, actual: 1 },
    );
}

#[test]
fn unknown_object() {
    rejects_with_expect(vec![(9, 1)], Vec::new(), Rejection::UnknownObject { id: 9 });
    rejects(vec![set(id(9), "a", Value::Null)], Rejection::UnknownObject { id: 9 });
    rejects(vec![Op::BindRoot { name: text("r"), target: id(0) }], Rejection::UnknownObject { id: 0 });
}

#[test]
fn unknown_handle() {
    // A target handle must be created before the op that uses it.
    rejects(
        vec![set(Target::New(0), "a", Value::Null), create(0, ObjectKind::Fields)],
        Rejection::UnknownHandle { handle: 0 },
    );
    rejects(vec![set(id(1), "a", Value::NewRef(3))], Rejection::UnknownHandle { handle: 3 });
}

#[test]
fn duplicate_handle() {
    rejects(vec![create(1, ObjectKind::Fields), create(1, ObjectKind::Map)], Rejection::DuplicateHandle { handle: 1 });
}

#[test]
fn dangling_reference() {
    rejects(vec![push(id(3), Value::Ref(4))], Rejection::DanglingReference { from: 3, to: 4 });
    // The id a new object receives is not visible in a rejected transaction.
    rejects(
        vec![create(0, ObjectKind::Fields), set(Target::New(0), "x", Value::Ref(99))],
        Rejection::DanglingReference { from: 4, to: 99 },
    );
}

#[test]
fn a_reference_overwritten_before_the_end_is_not_dangling() {
    let mut heap = fixture();
    apply_ops(&mut heap, 2, vec![set(id(1), "x", Value::Ref(99)), set(id(1), "x", Value::Ref(2))]);
    assert_eq!(entries(&heap, 1)["x"], Value::Ref(2));
}

#[test]
fn wrong_kind() {
    let wrong = |id, expected, actual| Rejection::WrongKind { id, expected, actual };
    rejects(vec![set(id(2), "a", Value::Null)], wrong(2, ObjectKind::Fields, ObjectKind::Map));
    rejects(
        vec![Op::MapPut { target: id(3), key: text("k"), value: Value::Null }],
        wrong(3, ObjectKind::Map, ObjectKind::List),
    );
    rejects(vec![push(id(1), Value::Null)], wrong(1, ObjectKind::List, ObjectKind::Fields));
    rejects(vec![Op::Clear { target: id(1) }], wrong(1, ObjectKind::Map, ObjectKind::Fields));
}

#[test]
fn index_out_of_range() {
    let out = |index| Rejection::IndexOutOfRange { id: 3, index, len: 3 };
    rejects(vec![Op::ListInsert { target: id(3), index: 4, value: Value::Null }], out(4));
    rejects(vec![Op::ListSet { target: id(3), index: 3, value: Value::Null }], out(3));
    rejects(vec![Op::ListRemove { target: id(3), index: u32::MAX }], out(u32::MAX));
}

#[test]
fn invalid_names() {
    let invalid = |what: &str, reason: &str| Rejection::InvalidName { what: text(what), reason: text(reason) };
    rejects(
        vec![Op::Create { handle: 0, class: String::new(), kind: ObjectKind::Map }],
        invalid("class name", "it is empty"),
    );
    rejects(
        vec![set(id(1), &"f".repeat(257), Value::Null)],
        invalid("field name", "it is 257 bytes long, over the 256-byte limit"),
    );
    rejects(
        vec![Op::BindRoot { name: text("a\u{1b}"), target: id(1) }],
        invalid("root name", "it contains the control character U+001B at byte 1"),
    );
    rejects(
        vec![Op::MapRemove { target: id(2), key: "k".repeat(300) }],
        invalid("map key", "it is 300 bytes long, over the 256-byte limit"),
    );
}

#[test]
fn too_many_ops_or_expects() {
    rejects(
        vec![Op::UnbindRoot { name: text("r") }; TRANSACTION_OPS_MAX as usize + 1],
        Rejection::LimitExceeded {
            what: Limit::TransactionOps,
            limit: TRANSACTION_OPS_MAX,
            actual: TRANSACTION_OPS_MAX + 1,
        },
    );
    rejects_with_expect(
        vec![(1, 1); TRANSACTION_EXPECTS_MAX as usize + 1],
        Vec::new(),
        Rejection::LimitExceeded {
            what: Limit::TransactionOps,
            limit: TRANSACTION_EXPECTS_MAX,
            actual: TRANSACTION_EXPECTS_MAX + 1,
        },
    );
}

#[test]
fn too_many_fields() {
    let ops = (0..=FIELDS_PER_OBJECT_MAX).map(|n| set(id(1), &format!("f{n}"), Value::Null)).collect();
    rejects(
        ops,
        Rejection::LimitExceeded {
            what: Limit::FieldsPerObject,
            limit: FIELDS_PER_OBJECT_MAX,
            actual: FIELDS_PER_OBJECT_MAX + 1,
        },
    );
}

#[test]
fn collection_too_long() {
    // Grow the list to the limit over several transactions, then one more element is refused.
    let mut heap = fixture();
    let mut log_index = 1;
    while (list(&heap, 3).len() as u64) < COLLECTION_LENGTH_MAX {
        log_index += 1;
        let room = COLLECTION_LENGTH_MAX - list(&heap, 3).len() as u64;
        let count = room.min(TRANSACTION_OPS_MAX);
        let ops = (0..count).map(|_| push(id(3), Value::Null)).collect();
        apply_ops(&mut heap, log_index, ops);
    }
    let reply =
        heap.apply_command(log_index + 1, &envelope(Vec::new(), vec![push(id(3), Value::Null)]), &mut Vec::new());
    assert_eq!(
        reply,
        Reply::Rejected(Rejection::LimitExceeded {
            what: Limit::CollectionLength,
            limit: COLLECTION_LENGTH_MAX,
            actual: COLLECTION_LENGTH_MAX + 1,
        })
    );
}

#[test]
fn object_too_large() {
    let half = Value::Bytes(vec![0; (OBJECT_SIZE_BYTES_MAX / 2) as usize]);
    let mut heap = fixture();
    let reply = heap.apply_command(
        2,
        &envelope(Vec::new(), vec![push(id(3), half.clone()), push(id(3), half)]),
        &mut Vec::new(),
    );
    match reply {
        Reply::Rejected(Rejection::LimitExceeded {
            what: Limit::ObjectSizeBytes,
            limit: OBJECT_SIZE_BYTES_MAX,
            actual,
        }) => assert!(actual > OBJECT_SIZE_BYTES_MAX),
        other => panic!("unexpected reply {other:?}"),
    }
    assert_eq!(list(&heap, 3).len(), 3);
}

#[test]
fn a_late_failure_undoes_earlier_ops() {
    rejects(
        vec![
            create(0, ObjectKind::Fields),
            set(id(1), "a", Value::Int(1)),
            Op::BindRoot { name: text("r"), target: id(1) },
            push(id(3), Value::Null),
            Op::ListRemove { target: id(3), index: 10 },
        ],
        Rejection::IndexOutOfRange { id: 3, index: 10, len: 4 },
    );
}
