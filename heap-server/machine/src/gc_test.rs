//! Tests of holds and `Collect`: what is freed, what is kept, bounds, the dying set of a freed
//! list too big to uncount in one entry, and that nothing dangles (the `Driver` validates the
//! whole heap, the writes and an export/load round trip after every entry).

#![allow(clippy::unwrap_used)]

use crate::command::{Command, Op, SessionCommand, Target, Transaction};
use crate::dying::{encode_references, CHUNKS_PER_OBJECT_MAX, DYING_REFERENCES_PER_KEY_MAX};
use crate::heap::Heap;
use crate::image::{dying_key, ImageError, DYING_KEY_PREFIX};
use crate::limits::{
    Limit, COLLECTION_LENGTH_MAX, COLLECT_DECREMENTS_PER_STEP_MAX, COLLECT_OBJECTS_PER_STEP_MAX,
    COLLECT_REFS_PER_STEP_MAX, DYING_REFERENCES_MAX, HOLD_IDS_PER_REQUEST_MAX, TRANSACTION_OPS_MAX,
};
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

/// What one Collect did, as its reply says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Collected {
    freed: u64,
    kept: u64,
    ended_holds_dropped: u64,
    decremented: u64,
    decrements_pending: u64,
}

fn collect_reply(driver: &mut Driver, ids: &[ObjectId]) -> Collected {
    match driver.apply(Command::Collect { ids: ids.to_vec() }) {
        Reply::Collected { freed, kept, ended_holds_dropped, decremented, decrements_pending } => {
            Collected { freed, kept, ended_holds_dropped, decremented, decrements_pending }
        }
        other => panic!("Collect gave {other:?}"),
    }
}

/// Collects `ids`; returns how many were freed, kept, and ended holds dropped.
fn collect(driver: &mut Driver, ids: &[ObjectId]) -> (u64, u64, u64) {
    let reply = collect_reply(driver, ids);
    (reply.freed, reply.kept, reply.ended_holds_dropped)
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
    assert_eq!(reply, (5, 0, 0));
    assert_eq!(driver.heap.object_count(), 0);
}

#[test]
fn rooted_objects_and_what_they_reach_are_kept_whatever_is_proposed() {
    let mut driver = Driver::new();
    let ids = chain(&mut driver, "list", 3);
    let reply = collect(&mut driver, &ids);
    assert_eq!(reply, (0, 3, 0));
    // A tail proposed alone is still referenced from outside the batch.
    let reply = collect(&mut driver, &ids[1..]);
    assert_eq!(reply, (0, 2, 0));
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
    assert_eq!(collect(&mut driver, &ids[..1]), (0, 1, 0));
    assert_eq!(collect(&mut driver, &ids), (2, 0, 0));
}

#[test]
fn a_sessions_new_unlinked_object_is_held_until_released() {
    let mut driver = Driver::new();
    let session = driver.open(60_000);
    let (_, reply) = driver.send(session, SessionCommand::Transaction(transaction(vec![create(0, ObjectKind::Map)])));
    let id = created_ids(reply)[0];
    assert_eq!(driver.heap.gc_summary().held_objects, 1);
    assert_eq!(collect(&mut driver, &[id]), (0, 1, 0));
    driver.send(session, SessionCommand::Release { ids: vec![id] });
    assert!(driver.heap.is_unreferenced(id));
    assert_eq!(collect(&mut driver, &[id]), (1, 0, 0));
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
    assert_eq!(collect(&mut driver, &[ids[1]]), (0, 1, 0));
    let rebind = vec![Op::BindRoot { name: "tail".to_string(), target: Target::Id(ids[1]) }];
    driver.apply(Command::Transaction(transaction(rebind)));
    driver.send(session, SessionCommand::Release { ids: vec![ids[1]] });
    assert_eq!(collect(&mut driver, &[ids[1]]), (0, 1, 0));
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
    assert_eq!(collect(&mut driver, &ids), (3, 0, 3));
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
    let reply = driver.apply(Command::Collect { ids: batch });
    assert!(matches!(reply, Reply::Rejected(Rejection::LimitExceeded { what: Limit::CollectObjects, .. })));
    assert!(driver.heap.get(ids[0]).is_some(), "a refused Collect frees nothing");
}

/// A list bound to root `name` holding `length` references to `items` new Fields objects in
/// turn, built over as many transactions as the op bound needs; returns the list and the items.
fn big_list(driver: &mut Driver, name: &str, items: u32, length: usize) -> (ObjectId, Vec<ObjectId>) {
    let mut ops = vec![create(0, ObjectKind::List), Op::BindRoot { name: name.to_string(), target: Target::New(0) }];
    ops.extend((1..=items).map(|handle| create(handle, ObjectKind::Fields)));
    let ids = created_ids(driver.apply(Command::Transaction(transaction(ops))));
    let (list, items) = (ids[0], ids[1..].to_vec());
    let pushes: Vec<Op> = (0..length)
        .map(|index| Op::ListPush { target: Target::Id(list), value: Value::Ref(items[index % items.len()]) })
        .collect();
    for chunk in pushes.chunks(TRANSACTION_OPS_MAX as usize) {
        created_ids(driver.apply(Command::Transaction(transaction(chunk.to_vec()))));
    }
    (list, items)
}

/// Checks one Collect's work against the per-entry bounds.
fn within_bounds(reply: Collected) -> Collected {
    assert!(reply.decremented <= COLLECT_DECREMENTS_PER_STEP_MAX, "{reply:?} decremented too much");
    assert!(reply.freed <= COLLECT_OBJECTS_PER_STEP_MAX, "{reply:?} freed too much");
    reply
}

#[test]
fn a_list_of_100k_references_is_freed_at_once_and_uncounted_over_bounded_entries() {
    let mut driver = Driver::new();
    let length = COLLECTION_LENGTH_MAX;
    let (list, items) = big_list(&mut driver, "big", 100, length as usize);
    unbind(&mut driver, "big");
    let batch = driver.heap.plan_collect(&[list], |_| true).batch;
    assert_eq!(batch, vec![list], "a list over the shared bound is collected alone, without its items");
    let first = within_bounds(collect_reply(&mut driver, &batch));
    assert_eq!((first.freed, first.decremented), (1, COLLECT_DECREMENTS_PER_STEP_MAX));
    assert!(driver.heap.get(list).is_none() && list < driver.heap.next_id(), "the list reads as collected at once");
    let summary = driver.heap.gc_summary();
    assert_eq!((summary.dying, summary.decrements_pending), (1, length - COLLECT_DECREMENTS_PER_STEP_MAX));
    let reuse = vec![Op::CreateWithId { id: list, class: "C".to_string(), kind: ObjectKind::List }];
    let reply = driver.apply(Command::Transaction(transaction(reuse)));
    assert!(matches!(reply, Reply::Rejected(Rejection::InvalidId { .. })), "a dying id is not reused: {reply:?}");
    let mut entries = 1;
    loop {
        let pending = driver.heap.gc_summary().decrements_pending;
        let reply = within_bounds(collect_reply(&mut driver, &items));
        entries += 1;
        assert_eq!(reply.decremented, pending.min(COLLECT_DECREMENTS_PER_STEP_MAX), "pending ones go first");
        if reply.decrements_pending > 0 {
            // Every item is still in what is left (the list named them in turn, the last go first).
            assert_eq!((reply.freed, reply.kept), (0, items.len() as u64), "items wait for their last reference");
        } else {
            assert_eq!(reply.freed, items.len() as u64, "the entry that uncounts the last references frees them");
            break;
        }
    }
    assert_eq!(entries, length.div_ceil(COLLECT_DECREMENTS_PER_STEP_MAX));
    let summary = driver.heap.gc_summary();
    assert_eq!((summary.objects, summary.dying, summary.decrements_pending), (0, 0, 0));
}

#[test]
fn an_empty_collect_only_continues_pending_decrements() {
    let mut driver = Driver::new();
    let (list, items) = big_list(&mut driver, "big", 2, 2 * COLLECT_DECREMENTS_PER_STEP_MAX as usize + 10);
    unbind(&mut driver, "big");
    collect_reply(&mut driver, &[list]);
    let counts_before: Vec<u32> = items.iter().map(|id| driver.heap.reference_count(*id)).collect();
    let reply = within_bounds(collect_reply(&mut driver, &[]));
    let expected = Collected {
        freed: 0,
        kept: 0,
        ended_holds_dropped: 0,
        decremented: COLLECT_DECREMENTS_PER_STEP_MAX,
        decrements_pending: 10,
    };
    assert_eq!(reply, expected);
    let counts: Vec<u32> = items.iter().map(|id| driver.heap.reference_count(*id)).collect();
    let dropped: u32 = counts_before.iter().zip(&counts).map(|(before, after)| before - after).sum();
    assert_eq!(u64::from(dropped), COLLECT_DECREMENTS_PER_STEP_MAX, "the counts dropped by what was decremented");
    assert_eq!(collect_reply(&mut driver, &[]).decremented, 10);
    assert!(items.iter().all(|id| driver.heap.is_unreferenced(*id)), "the items are garbage once uncounted");
}

#[test]
fn several_objects_over_the_reference_bound_are_refused_and_one_alone_is_collected() {
    let mut driver = Driver::new();
    let (list, items) = big_list(&mut driver, "big", 1, COLLECT_REFS_PER_STEP_MAX as usize + 1);
    unbind(&mut driver, "big");
    let reply = driver.apply(Command::Collect { ids: vec![items[0], list] });
    assert!(matches!(reply, Reply::Rejected(Rejection::LimitExceeded { what: Limit::CollectRefs, .. })));
    assert!(driver.heap.get(list).is_some(), "a refused Collect frees nothing");
    let plan = driver.heap.plan_collect(&[items[0], list], |_| true);
    assert_eq!((plan.batch, plan.deferred), (vec![items[0]], vec![list]), "the big seed waits for its own batch");
    assert_eq!(collect(&mut driver, &[list]), (1, 0, 0));
}

#[test]
fn a_collect_that_would_overfill_the_dying_set_keeps_its_batch() {
    let (length, step) = (COLLECTION_LENGTH_MAX, COLLECT_DECREMENTS_PER_STEP_MAX);
    // The second list fits beside what is left of the first; the third does not.
    assert!(2 * length - 2 * step <= DYING_REFERENCES_MAX && 3 * length - 3 * step > DYING_REFERENCES_MAX);
    let mut driver = Driver::new();
    let lists: Vec<ObjectId> =
        ["a", "b", "c"].iter().map(|name| big_list(&mut driver, name, 1, length as usize).0).collect();
    ["a", "b", "c"].iter().for_each(|name| unbind(&mut driver, name));
    assert_eq!(collect_reply(&mut driver, &lists[..1]).decrements_pending, length - step);
    assert_eq!(collect_reply(&mut driver, &lists[1..2]).decrements_pending, 2 * length - 2 * step);
    let full = collect_reply(&mut driver, &lists[2..]);
    assert_eq!((full.freed, full.kept, full.decrements_pending), (0, 1, 2 * length - 3 * step));
    while driver.heap.gc_summary().decrements_pending + length - step > DYING_REFERENCES_MAX {
        within_bounds(collect_reply(&mut driver, &[]));
    }
    assert_eq!(collect(&mut driver, &lists[2..]), (1, 0, 0), "room again: the list goes");
}

/// A heap whose list of 10,000 references to three items was freed one entry ago.
fn heap_with_a_dying_list() -> (Heap, ObjectId, Vec<ObjectId>) {
    let mut driver = Driver::new();
    let (list, items) = big_list(&mut driver, "big", 3, 10_000);
    unbind(&mut driver, "big");
    collect_reply(&mut driver, &[list]);
    (driver.heap, list, items)
}

#[test]
fn an_image_with_dying_objects_round_trips_through_export_load_and_validate() {
    let (heap, list, items) = heap_with_a_dying_list();
    let image = heap.export();
    let pending = 10_000 - COLLECT_DECREMENTS_PER_STEP_MAX as usize;
    let remaining: Vec<ObjectId> = (0..pending).map(|index| items[index % items.len()]).collect();
    let (first, second) = remaining.split_at(DYING_REFERENCES_PER_KEY_MAX);
    let expected = [(dying_key(list, 0), encode_references(first)), (dying_key(list, 1), encode_references(second))];
    assert_eq!(image[..2], expected, "dying chunks sort first and hold what is left, in body order");
    let mut loaded = Heap::new();
    for (key, value) in image.iter().rev() {
        loaded.load(key, value).unwrap();
    }
    loaded.validate().unwrap();
    assert_eq!(loaded, heap, "loaded in any order, the counts include the dying references");
    assert_eq!(loaded.export(), image);
    for item in &items {
        let expected = remaining.iter().filter(|to| *to == item).count() as u32;
        assert_eq!(loaded.reference_count(*item), expected, "item {item} is counted from the dying list");
    }
}

/// Loads `image` with `(key, value)` added; the load error, or the validation error.
fn load_with(image: &[(Vec<u8>, Vec<u8>)], key: Vec<u8>, value: Vec<u8>) -> String {
    let mut heap = Heap::new();
    for (key, value) in image.iter().chain([(key, value)].iter()) {
        if let Err(error) = heap.load(key, value) {
            assert!(matches!(error, ImageError::UnknownKey { .. } | ImageError::InvalidValue { .. }));
            return error.to_string();
        }
    }
    heap.validate().unwrap_err()
}

#[test]
fn a_damaged_dying_key_is_refused() {
    let (heap, list, items) = heap_with_a_dying_list();
    let exported = heap.export();
    let image: Vec<(Vec<u8>, Vec<u8>)> =
        exported.iter().filter(|(key, _)| !key.starts_with(DYING_KEY_PREFIX)).cloned().collect();
    let references = encode_references(&items);
    let too_many = encode_references(&vec![items[0]; DYING_REFERENCES_PER_KEY_MAX + 1]);
    let refused_by_load = [
        (dying_key(list, 0)[..10].to_vec(), references.clone(), "unknown key"),
        (dying_key(list, 0), references[..9].to_vec(), "not a non-empty list"),
        (dying_key(list, 0), Vec::new(), "not a non-empty list"),
        (dying_key(list, 0), 0u64.to_be_bytes().to_vec(), "below the first id"),
        (dying_key(list, 0), too_many, "more than one chunk holds"),
        (dying_key(0, 0), references.clone(), "below the first id"),
        (dying_key(list, CHUNKS_PER_OBJECT_MAX), references.clone(), "at most"),
    ];
    for (key, value, expected) in refused_by_load {
        let error = load_with(&image, key, value);
        assert!(error.contains(expected) && error.contains("rebuild from a peer"), "{error}");
    }
    let again = load_with(&exported, exported[0].0.clone(), exported[0].1.clone());
    assert!(again.contains("loaded twice"), "{again}");
    let refused_by_validate = [
        (dying_key(items[0], 0), references.clone(), "still in the heap"),
        (dying_key(heap.next_id(), 0), references.clone(), "not below next_id"),
        (dying_key(list, 0), encode_references(&[heap.next_id()]), "never created"),
        (dying_key(list, 1), references.clone(), "no chunk 0"),
    ];
    for (key, value, expected) in refused_by_validate {
        let error = load_with(&image, key, value);
        assert!(error.contains(expected), "{error}");
    }
}

#[test]
fn a_smaller_bound_plans_a_smaller_batch_and_what_it_leaves_is_freed_later() {
    let mut driver = Driver::new();
    // A list of 10 distinct items, each referenced once: the whole list fits one full batch.
    let (list, items) = big_list(&mut driver, "small", 10, 10);
    unbind(&mut driver, "small");
    let full = driver.heap.plan_collect(&[list], |id| driver.heap.reference_count(id) == 1);
    assert_eq!(full.batch.len(), 11, "within the entry's own bounds the list goes with its items");
    let within = driver.heap.plan_collect_within(&[list], 4, |id| driver.heap.reference_count(id) == 1);
    assert_eq!(within.batch, vec![list], "10 references are over twice 4: the list goes alone");
    assert_eq!(collect(&mut driver, &within.batch), (1, 0, 0));
    assert!(items.iter().all(|id| driver.heap.is_unreferenced(*id)), "its items are garbage of their own now");
    let next = driver.heap.plan_collect_within(&items, 4, |_| true);
    assert_eq!((next.batch.len(), next.deferred.len()), (4, 6), "four objects, the other seeds wait");
    assert_eq!(collect(&mut driver, &next.batch), (4, 0, 0));
    let zero = driver.heap.plan_collect_within(&next.deferred, 0, |_| true);
    assert_eq!(zero.batch.len(), 1, "a bound of zero still plans one object: progress");
}
