//! The gc checker on hand-made histories: a clean one, a held object that vanished, a rooted one
//! that vanished, unknown and refused detaches, a refused re-attach, creation holds, dangling
//! references, and a mutation test: every object a clean history's reads show and the checker
//! says had to exist, moved to "missing", is reported.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::history::History;
use crate::history_gc::GcEdge;
use crate::history_gc::GcObject;
use crate::history_gc::GcRoot;

/// A history written one operation at a time, each invoked 10 µs after the previous one and
/// completed 5 µs after its invocation (never, when indeterminate).
#[derive(Default)]
struct Script {
    ops: Vec<Operation>,
    clock_us: u64,
}

impl Script {
    fn op(&mut self, process: u64, status: Status, op: Op) -> &mut Self {
        let invoke_us = self.clock_us + 10;
        self.clock_us = invoke_us;
        let complete_us = (status != Status::Indeterminate).then_some(invoke_us + 5);
        let op_id = self.ops.len() as u64 + 1;
        self.ops.push(Operation { op_id, process, key: "gc:w0".into(), invoke_us, complete_us, status, op });
        self
    }

    fn ok(&mut self, process: u64, op: Op) -> &mut Self {
        self.op(process, Status::Ok, op)
    }

    fn check(&self) -> (Vec<Anomaly>, GcSummary) {
        check(&self.ops)
    }
}

/// An acknowledged build: `linked` objects from `ids`, then the unlinked ones.
fn build(root: &str, ids: &[u64], linked: u32, edges: &[(u32, &str, u32)]) -> Op {
    let edges =
        edges.iter().map(|(from, field, to)| GcEdge { from: *from, field: field.to_string(), to: *to }).collect();
    let unlinked = ids.len() as u32 - linked;
    Op::GcBuild { root: root.into(), linked, unlinked, edges, created: Some(ids.to_vec()) }
}

/// A read of `roots` (those in `bound` found, naming the given id) and `ids`: `present` objects
/// with their references; every other asked-for id missing.
fn read(roots: &[&str], bound: &[(&str, u64)], ids: &[u64], present: &[(u64, &[u64])]) -> Op {
    let objects: Vec<GcObject> = present.iter().map(|(id, refs)| GcObject { id: *id, refs: refs.to_vec() }).collect();
    let seen = GcSeen {
        roots: bound.iter().map(|(name, id)| GcRoot { name: name.to_string(), id: *id }).collect(),
        missing_roots: roots.iter().filter(|r| !bound.iter().any(|(b, _)| b == *r)).map(|r| r.to_string()).collect(),
        missing_ids: ids.iter().filter(|id| !present.iter().any(|(p, _)| p == *id)).copied().collect(),
        objects,
        truncated: false,
    };
    let roots = roots.iter().map(|r| r.to_string()).collect();
    Op::GcRead { roots, ids: ids.to_vec(), depth: 16, seen: Some(seen) }
}

fn hold(ids: &[u64]) -> Op {
    Op::GcHold { ids: ids.to_vec(), missing: Some(Vec::new()) }
}

fn release(ids: &[u64]) -> Op {
    Op::GcRelease { ids: ids.to_vec() }
}

fn unbind(root: &str) -> Op {
    Op::GcUnbind { root: root.into() }
}

fn bind(root: &str, id: u64, unknown_object: bool) -> Op {
    Op::GcBind { root: root.into(), id, unknown_object }
}

fn cut(from: u64, field: &str) -> Op {
    Op::GcCut { from, field: field.into(), unknown_object: false }
}

/// Anomalies by kind, and the object ids each kind names.
fn kinds(anomalies: &[Anomaly]) -> BTreeMap<AnomalyKind, u64> {
    let mut kinds = BTreeMap::new();
    for anomaly in anomalies {
        *kinds.entry(anomaly.kind).or_default() += anomaly.count;
    }
    kinds
}

const CYCLE: &[(u32, &str, u32)] = &[(0, "next", 1), (1, "next", 2), (2, "back", 0)];
const CHAIN: &[(u32, &str, u32)] = &[(0, "next", 1), (1, "next", 2)];
const RING: &[(u64, &[u64])] = &[(10, &[11]), (11, &[12]), (12, &[10])];
const IDS: &[u64] = &[10, 11, 12];

/// Build a ring, hold one object, unbind, read, re-attach, release, read; then a second
/// subgraph unbound and collected. Nothing had to exist that was missing.
fn clean_script() -> Script {
    let mut script = Script::default();
    script
        .ok(1, build("r1", IDS, 3, CYCLE))
        .ok(1, read(&["r1"], &[("r1", 10)], IDS, RING))
        .ok(1, hold(&[11]))
        .ok(1, unbind("r1"))
        .ok(1, read(&["r1"], &[], IDS, RING))
        .ok(1, bind("again", 11, false))
        .ok(1, release(&[11]))
        .ok(1, read(&["r1", "again"], &[("again", 11)], IDS, RING))
        .ok(1, build("r2", &[20, 21], 2, &[(0, "next", 1)]))
        .ok(1, unbind("r2"))
        .ok(1, read(&["r2"], &[], &[20, 21], &[]));
    script
}

#[test]
fn a_clean_history_has_no_anomaly_and_shows_what_it_checked() {
    let (anomalies, summary) = clean_script().check();
    assert_eq!(anomalies, vec![]);
    assert_eq!((summary.builds, summary.objects, summary.reads), (2, 5, 4));
    assert_eq!((summary.holds, summary.reattached, summary.released), (1, 1, 1));
    // Read 2 and read 8 by the roots, read 5 by the hold alone (the cycle keeps 10 and 12).
    assert_eq!(summary.live_checked, 9);
    assert_eq!(summary.held_checked, 3);
    assert_eq!(summary.freed_observed, 2, "the unbound second subgraph was collected");
}

#[test]
fn a_held_object_that_vanished_is_reported_with_what_held_it() {
    let mut script = Script::default();
    script
        .ok(1, build("r1", IDS, 3, CHAIN))
        .ok(1, hold(&[11]))
        .ok(1, unbind("r1"))
        .ok(1, read(&["r1"], &[], IDS, &[]))
        .ok(1, release(&[11]));
    let (anomalies, _) = script.check();
    // Object 10 was let go with the root; 11 is held and reaches 12.
    assert_eq!(kinds(&anomalies), BTreeMap::from([(AnomalyKind::CollectedWhileLive, 2)]));
    assert!(anomalies.iter().any(|a| a.detail.starts_with("object 11 ") && a.detail.contains("held by")));
    assert!(anomalies.iter().any(|a| a.detail.starts_with("object 12 ")), "12 is reachable from the held 11");
}

#[test]
fn a_hold_counts_only_while_its_session_is_proven_alive() {
    // No request of process 1 answered after the read: its session may have expired unseen, and
    // with it the hold. Another process's answer proves nothing about process 1.
    let mut script = Script::default();
    script
        .ok(1, build("r1", IDS, 3, CHAIN))
        .ok(1, hold(&[11]))
        .ok(1, unbind("r1"))
        .ok(1, read(&["r1"], &[], IDS, &[]))
        .ok(2, release(&[11]))
        // Nor does a close: it is answered "done" for a session already gone too.
        .ok(1, Op::GcClose);
    assert_eq!(script.check().0, vec![]);
}

#[test]
fn a_rooted_object_that_vanished_is_reported_and_so_is_the_dangling_reference() {
    let mut script = Script::default();
    script.ok(1, build("r1", IDS, 3, CHAIN)).ok(1, read(&["r1"], &[("r1", 10)], IDS, &[(10, &[11]), (11, &[12])]));
    let (anomalies, _) = script.check();
    let expected = BTreeMap::from([(AnomalyKind::DanglingReference, 1), (AnomalyKind::CollectedWhileLive, 1)]);
    assert_eq!(kinds(&anomalies), expected);
    let vanished = anomalies.iter().find(|a| a.kind == AnomalyKind::CollectedWhileLive).unwrap();
    assert!(vanished.detail.starts_with("object 12 ") && vanished.detail.contains("root r1"), "{vanished:?}");
    assert_eq!(vanished.key, "gc:r1");
}

#[test]
fn an_unknown_detach_may_have_happened_so_nothing_is_claimed() {
    let mut script = Script::default();
    script
        .ok(1, build("r1", IDS, 3, CHAIN))
        .op(1, Status::Indeterminate, unbind("r1"))
        .ok(2, read(&["r1"], &[], IDS, &[]))
        .ok(2, build("r2", &[20, 21, 22], 3, CHAIN))
        .op(2, Status::Indeterminate, cut(20, "next"))
        .ok(2, read(&["r2"], &[("r2", 20)], &[20, 21, 22], &[(20, &[])]));
    assert_eq!(script.check().0, vec![]);
}

#[test]
fn a_refused_detach_detached_nothing() {
    let mut script = Script::default();
    script
        .ok(1, build("r1", IDS, 3, CHAIN))
        .op(1, Status::Fail, cut(10, "next"))
        .ok(1, read(&["r1"], &[("r1", 10)], IDS, &[(10, &[])]));
    assert_eq!(kinds(&script.check().0), BTreeMap::from([(AnomalyKind::CollectedWhileLive, 2)]));
}

#[test]
fn a_reattach_refused_for_an_unknown_object_while_it_was_held_is_reported() {
    let mut script = Script::default();
    script.ok(1, build("r1", IDS, 3, CHAIN)).ok(1, hold(&[11])).ok(1, unbind("r1")).op(
        1,
        Status::Fail,
        bind("again", 11, true),
    );
    let (anomalies, _) = script.check();
    assert_eq!(kinds(&anomalies), BTreeMap::from([(AnomalyKind::CollectedWhileLive, 1)]));
    assert!(anomalies[0].detail.contains("binding a root to it was refused"), "{:?}", anomalies[0]);

    // Once the session is closed, the hold is gone and the same refusal is allowed.
    let mut script = Script::default();
    script.ok(1, build("r1", IDS, 3, CHAIN)).ok(1, hold(&[11])).ok(1, unbind("r1")).ok(1, Op::GcClose).op(
        2,
        Status::Fail,
        bind("again", 11, true),
    );
    assert_eq!(script.check().0, vec![]);
}

#[test]
fn a_creation_hold_keeps_an_unlinked_object_until_released() {
    let mut script = Script::default();
    script
        .ok(1, build("r1", &[10, 11, 19], 2, &[(0, "next", 1)]))
        .ok(1, read(&[], &[], &[19], &[]))
        .ok(1, release(&[19]))
        .ok(1, read(&[], &[], &[19], &[]));
    let (anomalies, summary) = script.check();
    assert_eq!(kinds(&anomalies), BTreeMap::from([(AnomalyKind::CollectedWhileLive, 1)]), "only the first read");
    assert!(anomalies[0].detail.starts_with("object 19 "));
    assert_eq!(summary.freed_observed, 1);
}

#[test]
fn objects_first_missing_at_the_final_reads_are_counted_apart() {
    let mut script = Script::default();
    script
        .ok(1, build("r1", IDS, 3, CHAIN))
        .ok(1, unbind("r1"))
        .ok(1, read(&[], &[], &[10], &[]))
        .ok(FINAL_PROCESS, read(&["r1"], &[], IDS, &[]));
    let (anomalies, summary) = script.check();
    assert_eq!(anomalies, vec![]);
    assert_eq!((summary.freed_observed, summary.freed_at_end), (1, 2));
}

#[test]
fn a_reference_is_dangling_only_where_the_walk_followed_it() {
    let seen = GcSeen {
        roots: vec![GcRoot { name: "r".into(), id: 1 }],
        objects: vec![GcObject { id: 1, refs: vec![2] }, GcObject { id: 2, refs: vec![3] }],
        ..Default::default()
    };
    assert_eq!(dangling(&seen, &[], 1), vec![], "object 2 is at the depth limit: its references were not followed");
    assert_eq!(dangling(&seen, &[], 2), vec![(2, 3)]);
    assert_eq!(dangling(&seen, &[2], 1), vec![(2, 3)], "asked for by id, object 2 is a start");
    let truncated = GcSeen { truncated: true, ..seen };
    assert_eq!(dangling(&truncated, &[], 2), vec![], "a walk cut short proves nothing");
}

/// The mutation test: every (read, object) the clean history's reads show and the model says
/// had to exist, turned into "missing", must be reported (and nothing else changes).
#[test]
fn every_live_object_made_missing_in_a_clean_history_is_reported() {
    let clean = clean_script();
    let model = Model::new(&clean.ops);
    let mut mutants = 0;
    for (index, operation) in clean.ops.iter().enumerate() {
        let Op::GcRead { seen: Some(seen), .. } = &operation.op else { continue };
        let observation = Observation::of(operation).unwrap();
        let live: BTreeSet<u64> =
            (0..model.builds.len()).flat_map(|build| model.must_exist(build, &observation).into_keys()).collect();
        for object in seen.objects.iter().filter(|o| live.contains(&o.id)) {
            let mut mutant = clean.ops.clone();
            let Op::GcRead { seen: Some(seen), .. } = &mut mutant[index].op else { unreachable!() };
            seen.objects.retain(|o| o.id != object.id);
            seen.missing_ids.push(object.id);
            let (anomalies, _) = check(&mutant);
            let prefix = format!("object {} ", object.id);
            assert!(
                anomalies.iter().any(|a| a.kind == AnomalyKind::CollectedWhileLive && a.detail.starts_with(&prefix)),
                "object {} removed from read op {} went unnoticed: {anomalies:?}",
                object.id,
                operation.op_id
            );
            mutants += 1;
        }
    }
    assert_eq!(mutants, 9, "every live object of every read was mutated");
}

/// Recorded through `History` and checked by `checker::check`: the gc keys reach this checker,
/// and every gc operation survives the JSON lines round trip.
#[test]
fn gc_histories_reach_the_checker_and_round_trip_through_json_lines() {
    let history = History::new();
    // Timestamps are in microseconds: the next operation must start after this one completed,
    // or the checker rightly takes the two as concurrent and can prove nothing (this test failed
    // once in CI when six operations fell into one microsecond).
    let record = |op: Op, result: Op| {
        let pending = history.invoke(1, "gc:w0", op);
        history.ok(pending, result);
        let completed_us = history.now_us();
        while history.now_us() <= completed_us {
            std::hint::spin_loop();
        }
    };
    let built = build("r1", IDS, 3, CHAIN);
    let Op::GcBuild { root, linked, unlinked, edges, .. } = built.clone() else { unreachable!() };
    record(Op::GcBuild { root, linked, unlinked, edges, created: None }, built);
    record(hold(&[11]), hold(&[11]));
    record(cut(10, "next"), cut(10, "next"));
    record(read(&["r1"], &[], IDS, &[]), read(&["r1"], &[("r1", 10)], IDS, &[(10, &[])]));
    record(Op::GcRelease { ids: vec![11] }, Op::GcRelease { ids: vec![11] });
    record(Op::GcClose, Op::GcClose);
    let events = history.events();
    let findings = crate::checker::check(&events);
    assert_eq!(kinds(&findings.anomalies), BTreeMap::from([(AnomalyKind::CollectedWhileLive, 2)]));
    assert_eq!(findings.gc.map(|gc| gc.builds), Some(1));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    History::write_jsonl(&events, &path).unwrap();
    assert_eq!(History::read_jsonl(&path).unwrap(), events);
}
