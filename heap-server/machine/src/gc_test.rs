//! Tests of holds and `Collect`: what is freed, what is kept, bounds, and that nothing dangles
//! (the `Driver` validates the whole heap, the writes and an export/load round trip after
//! every entry).

#![allow(clippy::unwrap_used)]

use crate::command::{Command, Op, SessionCommand, Target, Transaction};
use crate::limits::{Limit, COLLECT_OBJECTS_PER_STEP_MAX, HOLD_IDS_PER_REQUEST_MAX};
use crate::object::ObjectKind;
use crate::reply::{Rejection, Reply};
use crate::test_support::{create, Driver};
use crate::value::{ObjectId, Value};

fn transaction(ops: Vec<Op>) -> Transaction {
    Transaction { expect: Vec::new(), fences: Vec::new(), ops }
}

fn created_ids(reply: Reply) -> Vec<ObjectId> {
    match reply {
        Reply::Committed { created, .. } => created.into_iter().map(|(_, id)| id).collect(),
        other => panic!("transaction not committed: {other:?}"),
    }
}

fn link(from: Target, field: &str, to: Value) -> Op {
    Op::SetField { target: from, field: field.to_string(), value: to }
}

/// A root `name` naming a chain of `length` Fields objects (each `next` names the following).
fn chain(driver: &mut Driver, name: &str, length: u32) -> Vec<ObjectId> {
    let mut ops: Vec<Op> = (0..length).map(|handle| create(handle, ObjectKind::Fields)).collect();
    for handle in 1..length {
        ops.push(link(Target::New(handle - 1), "next", Value::NewRef(handle)));
    }
    ops.push(Op::BindRoot { name: name.to_string(), target: Target::New(0) });
    created_ids(driver.apply(Command::Transaction(transaction(ops))))
}

fn collect(driver: &mut Driver, ids: &[ObjectId]) -> Reply {
    driver.apply(Command::Collect { ids: ids.to_vec() })
}

fn unbind(driver: &mut Driver, name: &str) {
    let ops = vec![Op::UnbindRoot { name: name.to_string() }];
    created_ids(driver.apply(Command::Transaction(transaction(ops))));
}

#[test]
fn an_unbound_chain_is_unreferenced_at_its_head_and_freed_whole() {
    let mut driver = Driver::new();
    let ids = chain(&mut driver, "list", 5);
    assert_eq!(driver.heap.gc_summary().unreferenced, 0, "a rooted chain is all referenced");
    unbind(&mut driver, "list");
    assert_eq!(driver.heap.unreferenced_after(0, 10), vec![ids[0]], "only the head lost its last reference");
    let batch = driver.heap.plan_collect(&[ids[0]], |_| true).batch;
    assert_eq!(batch, ids, "the plan follows the chain from the head");
    let reply = collect(&mut driver, &batch);
    assert_eq!(reply, Reply::Collected { freed: 5, kept: 0, ended_holds_dropped: 0 });
    assert_eq!(driver.heap.object_count(), 0);
}

#[test]
fn rooted_objects_and_what_they_reach_are_kept_whatever_is_proposed() {
    let mut driver = Driver::new();
    let ids = chain(&mut driver, "list", 3);
    let reply = collect(&mut driver, &ids);
    assert_eq!(reply, Reply::Collected { freed: 0, kept: 3, ended_holds_dropped: 0 });
    // A tail proposed alone is still referenced from outside the batch.
    let reply = collect(&mut driver, &ids[1..]);
    assert_eq!(reply, Reply::Collected { freed: 0, kept: 2, ended_holds_dropped: 0 });
    assert_eq!(driver.heap.object_count(), 3);
}

#[test]
fn a_detached_cycle_is_freed_only_as_a_whole() {
    let mut driver = Driver::new();
    let ops = vec![
        create(0, ObjectKind::Fields),
        create(1, ObjectKind::Fields),
        link(Target::New(0), "next", Value::NewRef(1)),
        link(Target::New(1), "next", Value::NewRef(0)),
        Op::BindRoot { name: "ring".to_string(), target: Target::New(0) },
    ];
    let ids = created_ids(driver.apply(Command::Transaction(transaction(ops))));
    unbind(&mut driver, "ring");
    assert_eq!(driver.heap.gc_summary().unreferenced, 0, "each member of a cycle is still referenced");
    assert_eq!(collect(&mut driver, &ids[..1]), Reply::Collected { freed: 0, kept: 1, ended_holds_dropped: 0 });
    assert_eq!(collect(&mut driver, &ids), Reply::Collected { freed: 2, kept: 0, ended_holds_dropped: 0 });
}

#[test]
fn a_sessions_new_unlinked_object_is_held_until_released() {
    let mut driver = Driver::new();
    let session = driver.open(60_000);
    let (_, reply) = driver.send(session, SessionCommand::Transaction(transaction(vec![create(0, ObjectKind::Map)])));
    let id = created_ids(reply)[0];
    assert_eq!(driver.heap.gc_summary().held_objects, 1);
    assert_eq!(collect(&mut driver, &[id]), Reply::Collected { freed: 0, kept: 1, ended_holds_dropped: 0 });
    driver.send(session, SessionCommand::Release { ids: vec![id] });
    assert!(driver.heap.is_unreferenced(id));
    assert_eq!(collect(&mut driver, &[id]), Reply::Collected { freed: 1, kept: 0, ended_holds_dropped: 0 });
}

#[test]
fn a_new_object_linked_in_its_transaction_is_not_held() {
    let mut driver = Driver::new();
    let session = driver.open(60_000);
    let ops = vec![create(0, ObjectKind::Map), Op::BindRoot { name: "m".to_string(), target: Target::New(0) }];
    driver.send(session, SessionCommand::Transaction(transaction(ops)));
    assert_eq!(driver.heap.gc_summary().holds, 0);
    // Outside a session nobody holds a new object: unlinked, it is garbage at once.
    let id = created_ids(driver.apply(Command::Transaction(transaction(vec![create(0, ObjectKind::List)]))))[0];
    assert!(driver.heap.is_unreferenced(id));
}

#[test]
fn a_held_object_reattached_to_a_root_survives_its_release() {
    let mut driver = Driver::new();
    let session = driver.open(60_000);
    let ids = chain(&mut driver, "list", 2);
    let (_, reply) = driver.send(session, SessionCommand::Hold { ids: vec![ids[1], 999] });
    assert_eq!(reply, Reply::Held { missing: vec![999] });
    let cut = vec![link(Target::Id(ids[0]), "next", Value::Null)];
    driver.apply(Command::Transaction(transaction(cut)));
    assert_eq!(collect(&mut driver, &[ids[1]]), Reply::Collected { freed: 0, kept: 1, ended_holds_dropped: 0 });
    let rebind = vec![Op::BindRoot { name: "tail".to_string(), target: Target::Id(ids[1]) }];
    driver.apply(Command::Transaction(transaction(rebind)));
    driver.send(session, SessionCommand::Release { ids: vec![ids[1]] });
    assert_eq!(collect(&mut driver, &[ids[1]]), Reply::Collected { freed: 0, kept: 1, ended_holds_dropped: 0 });
    assert!(driver.heap.get(ids[1]).is_some());
}

#[test]
fn holds_of_an_ended_session_are_dropped_by_collect_then_their_objects_go() {
    let mut driver = Driver::new();
    let session = driver.open(60_000);
    let creates = (0..3).map(|handle| create(handle, ObjectKind::Fields)).collect();
    let (_, reply) = driver.send(session, SessionCommand::Transaction(transaction(creates)));
    let ids = created_ids(reply);
    driver.send(session, SessionCommand::Close);
    let summary = driver.heap.gc_summary();
    assert_eq!((summary.holds, summary.ended_holds), (3, 3), "an ended session's holds wait to be dropped");
    assert_eq!(collect(&mut driver, &ids), Reply::Collected { freed: 3, kept: 0, ended_holds_dropped: 3 });
    assert_eq!(driver.heap.gc_summary().holds, 0);
}

#[test]
fn oversized_requests_are_refused_and_change_nothing() {
    let mut driver = Driver::new();
    let session = driver.open(60_000);
    let too_many: Vec<ObjectId> = (1..=HOLD_IDS_PER_REQUEST_MAX + 1).collect();
    let (_, reply) = driver.send(session, SessionCommand::Hold { ids: too_many });
    assert!(matches!(reply, Reply::Rejected(Rejection::LimitExceeded { what: Limit::HoldIds, .. })));
    let ids = chain(&mut driver, "list", 1);
    unbind(&mut driver, "list");
    let batch: Vec<ObjectId> = (1..=COLLECT_OBJECTS_PER_STEP_MAX + 1).collect();
    let reply = collect(&mut driver, &batch);
    assert!(matches!(reply, Reply::Rejected(Rejection::LimitExceeded { what: Limit::CollectObjects, .. })));
    assert!(driver.heap.get(ids[0]).is_some(), "a refused Collect frees nothing");
}
