//! The gc checker: from the history alone, that the garbage collector never freed an object
//! that had to exist and never left a reference dangling. Every look at the heap is checked
//! against `gc_model`'s `must_exist` for its interval: a read's missing ids, a hold's answer
//! "missing", and a refusal saying an object does not exist (a re-attach's BindRoot, a cut's
//! SetField). A read that returns an object referencing one it did not return, although the
//! walk went deep enough and was not cut short, found a dangling reference. A root certain to be
//! bound must not be missing. Objects of acknowledged builds seen missing are counted: they are
//! the proof that collection really ran.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::collections::VecDeque;

use serde::Serialize;

use crate::checker::describe;
use crate::checker::gc_model::Anchor;
use crate::checker::gc_model::Model;
use crate::checker::gc_model::Observation;
use crate::checker::Anomaly;
use crate::checker::AnomalyKind;
use crate::checker::FINAL_PROCESS;
use crate::history::model_of;
use crate::history::operations;
use crate::history::Event;
use crate::history::Op;
use crate::history::Operation;
use crate::history::Status;
use crate::history_gc::GcSeen;

/// The history model of the gc workload's keys (`gc:<worker>`, `gc:final`).
pub const GC_MODEL: &str = "gc";

/// What the gc checker saw, for the report: enough to tell a run that exercised the collector
/// from one that checked nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcSummary {
    /// Subgraph builds acknowledged, and the objects they created.
    pub builds: u64,
    pub objects: u64,
    /// Ids held by acknowledged holds, acknowledged re-attaches, acknowledged releases.
    pub holds: u64,
    pub reattached: u64,
    pub released: u64,
    /// Graph reads that returned.
    pub reads: u64,
    /// (read, object) pairs where the object had to exist and was found; of those, the ones
    /// only a session hold kept (detached from every root).
    pub live_checked: u64,
    pub held_checked: u64,
    /// Objects of acknowledged builds that the workers found missing during the run (a read, a
    /// hold's answer, a refusal): collected while the faults went on.
    pub freed_observed: u64,
    /// Objects first found missing by the final reads, after the workers' sessions ended.
    pub freed_at_end: u64,
}

/// Checks the operations of the gc keys (all of them together: a re-attach may name another
/// key's object). Returns the anomalies and the summary.
pub fn check(ops: &[Operation]) -> (Vec<Anomaly>, GcSummary) {
    let model = Model::new(ops);
    let mut checker = Checker {
        model: &model,
        ops,
        anomalies: Vec::new(),
        summary: GcSummary::default(),
        freed: BTreeSet::new(),
        freed_at_end: BTreeSet::new(),
    };
    checker.summary.builds = model.builds.len() as u64;
    checker.summary.objects = model.builds.iter().map(|b| b.ids.len() as u64).sum();
    for operation in ops {
        checker.check_operation(operation);
    }
    checker.summary.freed_observed = checker.freed.len() as u64;
    checker.summary.freed_at_end = checker.freed_at_end.difference(&checker.freed).count() as u64;
    (checker.anomalies, checker.summary)
}

/// The gc operations of a whole history (keys of model `gc`), in invocation order.
pub fn gc_operations(events: &[Event]) -> Vec<Operation> {
    operations(events).unwrap_or_default().into_iter().filter(|o| model_of(&o.key) == GC_MODEL).collect()
}

/// Every object of the history that had to exist once everything ended: reachable through
/// references nobody may have cut from roots nobody may have removed (holds end with their
/// sessions). The replicas must agree on these.
pub fn rooted_at_end(events: &[Event]) -> Vec<u64> {
    let ops = gc_operations(events);
    let model = Model::new(&ops);
    let end_us = ops.iter().map(|o| o.complete_us.unwrap_or(o.invoke_us)).max().unwrap_or(0) + 1;
    let end =
        Observation { op_id: 0, process: FINAL_PROCESS, invoke_us: end_us, complete_us: end_us, in_session: false };
    (0..model.builds.len()).flat_map(|build| model.must_exist(build, &end).into_keys()).collect()
}

struct Checker<'a> {
    model: &'a Model,
    ops: &'a [Operation],
    anomalies: Vec<Anomaly>,
    summary: GcSummary,
    /// Objects the workers found missing; objects the final reads found missing.
    freed: BTreeSet<u64>,
    freed_at_end: BTreeSet<u64>,
}

impl Checker<'_> {
    fn check_operation(&mut self, operation: &Operation) {
        let Some(observation) = Observation::of(operation) else {
            return;
        };
        match (&operation.op, operation.status) {
            (Op::GcRead { roots, ids, depth, seen: Some(seen) }, Status::Ok) => {
                self.summary.reads += 1;
                self.check_read(&observation, roots, ids, *depth, seen);
            }
            (Op::GcHold { ids, missing: Some(missing) }, Status::Ok) => {
                self.summary.holds += ids.iter().filter(|id| !missing.contains(id)).count() as u64;
                self.check_missing(&observation, missing, "the hold answered that it does not exist");
            }
            (Op::GcBind { id, unknown_object, .. }, status) => match status {
                Status::Ok => self.summary.reattached += 1,
                Status::Fail if *unknown_object => {
                    self.check_missing(&observation, &[*id], "binding a root to it was refused: unknown object");
                }
                _ => {}
            },
            (Op::GcCut { from, unknown_object: true, .. }, Status::Fail) => {
                self.check_missing(&observation, &[*from], "cutting its reference was refused: unknown object");
            }
            (Op::GcRelease { .. }, Status::Ok) => self.summary.released += 1,
            _ => {}
        }
    }

    fn check_read(&mut self, observation: &Observation, roots: &[String], ids: &[u64], depth: u32, seen: &GcSeen) {
        self.check_missing(observation, &seen.missing_ids, "the read did not find it");
        let present: BTreeSet<u64> = seen.objects.iter().map(|o| o.id).collect();
        let builds: BTreeSet<usize> = ids.iter().filter_map(|id| self.model.build_of(*id)).collect();
        for build in builds {
            for (id, anchor) in self.model.must_exist(build, observation) {
                if ids.contains(&id) && present.contains(&id) {
                    self.summary.live_checked += 1;
                    if matches!(anchor, Anchor::Hold { .. }) {
                        self.summary.held_checked += 1;
                    }
                }
            }
        }
        for name in seen.missing_roots.iter().filter(|name| roots.contains(name)) {
            if let Some(bound_by) = self.model.root_certain(name, observation) {
                let detail = format!(
                    "root {name} missing from {}, though bound by {} and never unbound",
                    describe(self.ops, observation.op_id),
                    describe(self.ops, bound_by)
                );
                self.anomalies.push(Anomaly::new(AnomalyKind::LostWrite, &format!("gc:{name}"), 1, detail));
            }
        }
        for (from, to) in dangling(seen, ids, depth) {
            let detail = format!(
                "object {from} references object {to}, which is not there: {}",
                describe(self.ops, observation.op_id)
            );
            self.anomalies.push(Anomaly::new(AnomalyKind::DanglingReference, &self.key_of(from), 1, detail));
        }
    }

    /// Reports each of `missing` that had to exist through `observation`.
    fn check_missing(&mut self, observation: &Observation, missing: &[u64], how: &str) {
        let mut must_exist: BTreeMap<usize, BTreeMap<u64, Anchor>> = BTreeMap::new();
        for id in missing {
            let Some(build) = self.model.build_of(*id) else {
                continue;
            };
            if observation.process == FINAL_PROCESS {
                self.freed_at_end.insert(*id);
            } else {
                self.freed.insert(*id);
            }
            let anchors = must_exist.entry(build).or_insert_with(|| self.model.must_exist(build, observation));
            let Some(anchor) = anchors.get(id).cloned() else {
                continue;
            };
            let detail = format!(
                "object {id} (created by {}) vanished while {}: {how}, at {}",
                describe(self.ops, self.model.builds[build].op_id),
                self.kept_by(&anchor),
                describe(self.ops, observation.op_id)
            );
            self.anomalies.push(Anomaly::new(AnomalyKind::CollectedWhileLive, &self.key_of(*id), 1, detail));
        }
    }

    /// Why an object had to exist, in words with the operations that show it.
    fn kept_by(&self, anchor: &Anchor) -> String {
        match anchor {
            Anchor::Root { name, op_id } => format!(
                "reachable from root {name} (bound by {}) through references nobody cut",
                describe(self.ops, *op_id)
            ),
            Anchor::Hold { process, op_id, proof_op_id } => format!(
                "held by the session of process {process} (from {}), not released, the session alive until {}",
                describe(self.ops, *op_id),
                describe(self.ops, *proof_op_id)
            ),
        }
    }

    /// The anomaly key of object `id`: its build's root.
    fn key_of(&self, id: u64) -> String {
        match self.model.build_of(id) {
            Some(build) => format!("{GC_MODEL}:{}", self.model.builds[build].root),
            None => format!("{GC_MODEL}:object-{id}"),
        }
    }
}

/// References a read shows to objects it did not return, although its walk followed them. The
/// walk (heap-machine `graph.rs`) starts at the roots' objects and the requested ids that exist,
/// goes breadth-first over existing objects, and follows the references of every object fewer
/// than `depth` hops from a start; the same walk over the returned objects gives each one's hop
/// count, so every reference of an object under `depth` hops must lead to a returned object.
/// None when the walk was cut short by its budget.
pub fn dangling(seen: &GcSeen, requested: &[u64], depth: u32) -> Vec<(u64, u64)> {
    if seen.truncated {
        return Vec::new();
    }
    let refs: BTreeMap<u64, &Vec<u64>> = seen.objects.iter().map(|o| (o.id, &o.refs)).collect();
    let mut hops: BTreeMap<u64, u32> = BTreeMap::new();
    let mut queue: VecDeque<u64> = VecDeque::new();
    for id in seen.roots.iter().map(|r| r.id).chain(requested.iter().copied()) {
        if refs.contains_key(&id) && !hops.contains_key(&id) {
            hops.insert(id, 0);
            queue.push_back(id);
        }
    }
    let mut found = Vec::new();
    // Each returned object enters the queue at most once.
    while let Some(id) = queue.pop_front() {
        let level = hops[&id];
        if level >= depth {
            continue;
        }
        for to in refs[&id].iter() {
            if !refs.contains_key(to) {
                found.push((id, *to));
            } else if !hops.contains_key(to) {
                hops.insert(*to, level + 1);
                queue.push_back(*to);
            }
        }
    }
    found
}

#[cfg(test)]
#[path = "gc_test.rs"]
mod tests;
