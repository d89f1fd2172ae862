//! Tests of the register linearizability checker: known linearizable and known non-linearizable
//! histories (stale reads, lost writes, duplicated writes, indeterminate operations), and random
//! small histories checked against a brute-force search over every order.

use super::*;
use crate::history::Op;
use crate::history::Operation;
use crate::history::Status;

/// Shorthand: an operation from `invoke` to `complete` (None = indeterminate).
fn call(op_id: u64, invoke_us: u64, complete_us: Option<u64>, op: RegisterOp) -> Call {
    Call { op_id, invoke_us, complete_us, op }
}

fn linearizable(calls: &[Call]) -> bool {
    match check(0, calls, DEFAULT_BOUNDS) {
        Verdict::Linearizable { .. } => true,
        Verdict::Violation { .. } => false,
        Verdict::Unknown { reason, .. } => panic!("small history not decided: {reason}"),
    }
}

use RegisterOp::*;

#[test]
fn sequential_and_concurrent_histories_linearize() {
    assert!(linearizable(&[]));
    assert!(linearizable(&[
        call(1, 0, Some(1), Write(1)),
        call(2, 2, Some(3), Read(1)),
        call(3, 4, Some(5), Cas { expected: 1, new: 2 }),
        call(4, 6, Some(7), Read(2)),
    ]));
    // A read concurrent with a write may see either value.
    assert!(linearizable(&[
        call(1, 0, Some(10), Write(1)),
        call(2, 1, Some(2), Read(0)),
        call(3, 3, Some(4), Read(1))
    ]));
}

#[test]
fn a_stale_read_is_a_violation() {
    // The write completed before the read began, yet the read saw the old value.
    let verdict = check(0, &[call(1, 0, Some(1), Write(1)), call(2, 2, Some(3), Read(0))], DEFAULT_BOUNDS);
    assert!(matches!(verdict, Verdict::Violation { op_id: 2, .. }), "{verdict:?}");
}

#[test]
fn a_lost_write_is_a_violation() {
    // Both writes acknowledged in order, then the first value comes back: the second was lost.
    assert!(!linearizable(&[
        call(1, 0, Some(1), Write(1)),
        call(2, 2, Some(3), Write(2)),
        call(3, 4, Some(5), Read(1)),
    ]));
}

#[test]
fn a_duplicated_write_is_a_violation() {
    // Value 1 reappears after 2 was read: write 1 was applied a second time.
    assert!(!linearizable(&[
        call(1, 0, Some(1), Write(1)),
        call(2, 2, Some(3), Write(2)),
        call(3, 4, Some(5), Read(2)),
        call(4, 6, Some(7), Read(1)),
    ]));
}

#[test]
fn two_successful_cas_from_one_value_are_a_violation() {
    assert!(!linearizable(&[
        call(1, 0, Some(5), Cas { expected: 0, new: 1 }),
        call(2, 0, Some(5), Cas { expected: 0, new: 2 }),
    ]));
}

#[test]
fn indeterminate_operations_may_happen_late_or_never() {
    // Never observed: fine.
    assert!(linearizable(&[call(1, 0, None, Write(1)), call(2, 5, Some(6), Read(0))]));
    // Observed long after its client gave up: fine, it stays open to the end.
    assert!(linearizable(&[call(1, 0, None, Write(1)), call(2, 5, Some(6), Read(0)), call(3, 7, Some(8), Read(1))]));
    // But once seen it cannot be unseen.
    assert!(!linearizable(&[call(1, 0, None, Write(1)), call(2, 5, Some(6), Read(1)), call(3, 7, Some(8), Read(0))]));
}

#[test]
fn the_search_bound_gives_unknown() {
    // Many concurrent writes and a read that none explains: the search has to try every order.
    let mut calls: Vec<Call> = (1..=12).map(|i| call(i, 0, Some(100), Write(i as i64))).collect();
    calls.push(call(99, 101, Some(102), Read(1000)));
    let bounds = Bounds { steps_max: 1_000, cache_entries_max: 1_000_000 };
    assert!(matches!(check(0, &calls, bounds), Verdict::Unknown { .. }));
}

fn operation(op_id: u64, invoke_us: u64, complete_us: Option<u64>, status: Status, op: Op) -> Operation {
    Operation { op_id, process: op_id, key: "register:x".into(), invoke_us, complete_us, status, op }
}

#[test]
fn prepare_drops_failures_and_closes_observed_indeterminate_writes() {
    let ops = [
        operation(1, 0, Some(1), Status::Fail, Op::Write { value: 7 }),
        operation(2, 0, None, Status::Indeterminate, Op::Write { value: 1 }),
        operation(3, 0, None, Status::Indeterminate, Op::Write { value: 2 }),
        operation(4, 5, Some(9), Status::Ok, Op::Read { value: Some(1) }),
        operation(5, 5, None, Status::Indeterminate, Op::Read { value: None }),
    ];
    let Prepared::Calls(calls) = prepare(0, &ops) else { panic!("prepared") };
    assert_eq!(calls, vec![call(2, 0, Some(9), Write(1)), call(4, 5, Some(9), Read(1))]);
}

#[test]
fn prepare_reports_reads_of_unwritten_or_failed_values() {
    let ops = [
        operation(1, 0, Some(1), Status::Fail, Op::Write { value: 7 }),
        operation(2, 2, Some(3), Status::Ok, Op::Read { value: Some(7) }),
    ];
    assert!(matches!(prepare(0, &ops), Prepared::Violation { op_id: 2, .. }));
    let ops = [operation(2, 2, Some(3), Status::Ok, Op::Read { value: Some(8) })];
    assert!(matches!(prepare(0, &ops), Prepared::Violation { op_id: 2, .. }));
}

/// Every order (and every subset of indeterminate operations) tried: the reference.
fn brute_force(initial: i64, calls: &[Call]) -> bool {
    fn search(state: i64, remaining: &mut Vec<Call>) -> bool {
        if remaining.iter().all(|c| c.complete_us.is_none()) {
            return true;
        }
        for i in 0..remaining.len() {
            let candidate = remaining[i];
            // Minimal: no other pending completed operation returned before it was invoked.
            if remaining.iter().any(|d| d.complete_us.is_some_and(|end| end < candidate.invoke_us)) {
                continue;
            }
            if let Some(next) = apply(state, candidate.op) {
                remaining.remove(i);
                let found = search(next, remaining);
                remaining.insert(i, candidate);
                if found {
                    return true;
                }
            }
        }
        false
    }
    search(initial, &mut calls.to_vec())
}

/// A random small history of a real register execution, sometimes corrupted.
fn random_history(prng: &mut Prng) -> Vec<Operation> {
    let count = prng.between(1, 7);
    let mut ops = Vec::new();
    // (linearization point, index)
    let mut points = Vec::new();
    for index in 0..count {
        let invoke = prng.below(20);
        let complete = invoke + prng.below(10);
        let point = prng.between(invoke, complete);
        points.push((point, index));
        let op = match prng.below(3) {
            0 => Op::Read { value: None },
            1 => Op::Write { value: index as i64 + 1 },
            _ => Op::Cas { expected: 0, new: index as i64 + 1 },
        };
        ops.push(operation(index + 1, invoke, Some(complete), Status::Ok, op));
    }
    points.sort_unstable();
    let mut state = 0;
    for (_, index) in points {
        let op = &mut ops[index as usize];
        let indeterminate = prng.percent(20);
        let applied = !indeterminate || prng.percent(50);
        match &mut op.op {
            Op::Read { value } => *value = Some(state),
            Op::Write { value } if applied => state = *value,
            Op::Cas { expected, new } => {
                // Half the time expect the current value (success), else a failed CAS.
                if prng.percent(50) {
                    *expected = state;
                }
                if *expected == state && applied {
                    state = *new;
                } else if !indeterminate {
                    op.status = Status::Fail;
                }
            }
            _ => {}
        }
        if indeterminate && op.status == Status::Ok {
            op.status = Status::Indeterminate;
            op.complete_us = None;
            if let Op::Read { value } = &mut op.op {
                *value = None;
            }
        }
    }
    // Corrupt a read now and then.
    if prng.percent(30) {
        if let Some(read) = ops.iter_mut().find(|o| o.status == Status::Ok && matches!(o.op, Op::Read { .. })) {
            read.op = Op::Read { value: Some(prng.below(count + 1) as i64) };
        }
    }
    ops
}

/// Without `prepare`'s pruning: every non-failed operation, indeterminate ones open.
fn raw_calls(ops: &[Operation]) -> Vec<Call> {
    ops.iter()
        .filter_map(|o| {
            let op = match (&o.op, o.status) {
                (_, Status::Fail) => return None,
                (Op::Read { value: Some(v) }, Status::Ok) => Read(*v),
                (Op::Read { .. }, _) => return None,
                (Op::Write { value }, _) => Write(*value),
                (Op::Cas { expected, new }, _) => Cas { expected: *expected, new: *new },
                _ => return None,
            };
            Some(call(o.op_id, o.invoke_us, o.complete_us, op))
        })
        .collect()
}

#[test]
fn random_histories_agree_with_brute_force_with_and_without_pruning() {
    let mut prng = Prng::new(2024);
    let (mut yes, mut no) = (0, 0);
    for round in 0..3_000 {
        let ops = random_history(&mut prng);
        let raw = raw_calls(&ops);
        let expected = brute_force(0, &raw);
        assert_eq!(linearizable(&raw), expected, "round {round}: WGL disagrees with brute force on {ops:#?}");
        let prepared = match prepare(0, &ops) {
            Prepared::Calls(calls) => linearizable(&calls),
            Prepared::Violation { .. } => false,
        };
        assert_eq!(prepared, expected, "round {round}: pruning changed the verdict on {ops:#?}");
        if expected {
            yes += 1;
        } else {
            no += 1;
        }
    }
    assert!(yes > 500 && no > 300, "the generator covers both verdicts: {yes} linearizable, {no} not");
}
