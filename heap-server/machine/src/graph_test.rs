//! Unit tests for graph reads: order, depth, budgets, missing starts and query limits.

#![allow(clippy::unwrap_used)]

use crate::command::{Op, Target};
use crate::graph::GraphQuery;
use crate::heap::Heap;
use crate::limits::{Limit, GRAPH_QUERY_STARTS_MAX};
use crate::object::ObjectKind;
use crate::reply::{Rejection, Reply};
use crate::test_support::{apply_ops, create, envelope};
use crate::value::{ObjectId, Value};

/// Root "a" -> 1 -> [2, 3]; 2 -> 4; 3 -> 1 (a cycle); root "b" -> 4.
fn heap() -> Heap {
    let mut heap = Heap::new();
    let push = |target, value| Op::ListPush { target: Target::New(target), value };
    apply_ops(
        &mut heap,
        1,
        vec![
            create(1, ObjectKind::List),
            create(2, ObjectKind::List),
            create(3, ObjectKind::List),
            create(4, ObjectKind::List),
            push(1, Value::NewRef(2)),
            push(1, Value::NewRef(3)),
            push(2, Value::NewRef(4)),
            push(3, Value::NewRef(1)),
            Op::BindRoot { name: "a".to_string(), target: Target::New(1) },
            Op::BindRoot { name: "b".to_string(), target: Target::New(4) },
        ],
    );
    heap
}

fn query(roots: &[&str], ids: &[ObjectId], depth: u32, max_objects: u32) -> GraphQuery {
    GraphQuery { roots: roots.iter().map(|name| name.to_string()).collect(), ids: ids.to_vec(), depth, max_objects }
}

fn ids(heap: &Heap, query: &GraphQuery) -> (Vec<ObjectId>, bool) {
    let graph = heap.read_graph(query).unwrap();
    let ids = graph.objects.iter().map(|object| object.id).collect();
    (ids, graph.truncated)
}

#[test]
fn breadth_first_from_roots_then_ids() {
    let heap = heap();
    assert_eq!(ids(&heap, &query(&["a"], &[], 0, 100)), (vec![1], false));
    assert_eq!(ids(&heap, &query(&["a"], &[], 1, 100)), (vec![1, 2, 3], false));
    assert_eq!(ids(&heap, &query(&["a"], &[], 9, 100)), (vec![1, 2, 3, 4], false));
    assert_eq!(ids(&heap, &query(&["b"], &[3], 1, 100)), (vec![4, 3, 1], false));
}

#[test]
fn budget_truncates() {
    let heap = heap();
    assert_eq!(ids(&heap, &query(&["a"], &[], 9, 2)), (vec![1, 2], true));
    assert_eq!(ids(&heap, &query(&["a"], &[], 9, 4)), (vec![1, 2, 3, 4], false));
    assert_eq!(ids(&heap, &query(&["a"], &[], 9, 0)), (vec![], true));
}

#[test]
fn missing_starts_are_reported() {
    let heap = heap();
    let graph = heap.read_graph(&query(&["a", "nope", "a"], &[4, 77, 77], 0, 100)).unwrap();
    assert_eq!(graph.roots, vec![("a".to_string(), 1)]);
    assert_eq!(graph.missing_roots, vec!["nope".to_string()]);
    assert_eq!(graph.missing_ids, vec![77]);
    assert_eq!(graph.applied_index, 1);
    assert_eq!(graph.objects.len(), 2);
}

#[test]
fn bad_queries_are_rejected() {
    let heap = heap();
    assert!(matches!(heap.read_graph(&query(&[""], &[], 0, 1)), Err(Rejection::InvalidName { .. })));
    let many = vec![1; GRAPH_QUERY_STARTS_MAX as usize + 1];
    assert_eq!(
        heap.read_graph(&query(&[], &many, 0, 1)),
        Err(Rejection::LimitExceeded {
            what: Limit::GraphReadObjects,
            limit: GRAPH_QUERY_STARTS_MAX,
            actual: GRAPH_QUERY_STARTS_MAX + 1,
        })
    );
}

#[test]
fn byte_budget_truncates_reads_of_large_objects() {
    use crate::limits::{GRAPH_READ_BYTES_MAX, OBJECT_SIZE_BYTES_MAX};

    // Objects of just under half the object limit, so each transaction carries two.
    let half = Value::Str("x".repeat((OBJECT_SIZE_BYTES_MAX / 2 - 64) as usize));
    let per_read = GRAPH_READ_BYTES_MAX / (OBJECT_SIZE_BYTES_MAX / 2);
    let mut heap = Heap::new();
    let mut ids = Vec::new();
    for log_index in 1..=(per_read / 2 + 1) {
        let mut ops = Vec::new();
        for handle in 0..2 {
            ops.push(create(handle, ObjectKind::List));
            ops.push(Op::ListPush { target: Target::New(handle), value: half.clone() });
        }
        // Not apply_ops: validating the whole heap after every entry is quadratic here.
        let reply = heap.apply_command(log_index, &envelope(Vec::new(), ops), &mut Vec::new());
        match reply {
            Reply::Committed { created, .. } => ids.extend(created.into_iter().map(|(_, id)| id)),
            other => panic!("not committed: {other:?}"),
        }
    }
    let graph = heap.read_graph(&query(&[], &ids, 0, 10_000)).unwrap();
    assert!(graph.truncated);
    assert!(graph.objects.len() as u64 >= per_read - 1);
    assert!((graph.objects.len()) < ids.len());
}
