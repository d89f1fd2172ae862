//! The checkers: from a history alone, every anomaly of a run. Each key is checked by the rules
//! of its model (`register` → linearizability, `counter` → bounds, `list`/`fencelog` →
//! durability, `lock`/`fencelog` → mutual exclusion and token order, `greedylog` with its
//! `greedy` sections and `greedycounter` → the greedy-lock rules of `greedy.rs`); the `gc` keys
//! together → nothing rooted or held is collected and no reference dangles.

pub mod counter;
pub mod durability;
pub mod gc;
pub mod gc_model;
pub mod greedy;
pub mod linearizable;
pub mod locks;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::history::model_of;
use crate::history::name_of;
use crate::history::operations;
use crate::history::Event;
use crate::history::Operation;

/// The process id of the reads made after the run, once every node is back and healed.
pub const FINAL_PROCESS: u64 = 0;
/// The value every register starts with (written before the workload starts).
pub const REGISTER_INITIAL: i64 = 0;
/// Anomalies of one kind described in the report; the rest are only counted.
pub const ANOMALY_DETAILS_MAX: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyKind {
    /// No legal sequential order of a register's operations (stale read, lost or duplicated write).
    NonLinearizable,
    /// The linearizability search hit its bound: not verified, counted as a failure.
    Unverified,
    /// An acknowledged write is missing at the end.
    LostWrite,
    /// A write applied more than once.
    DuplicatedWrite,
    /// A value at the end that no operation wrote.
    PhantomWrite,
    /// A write that was refused (definitely not applied) is visible.
    FailedWriteVisible,
    /// Two holders of one write lock at the same time.
    LockOverlap,
    /// Fencing tokens not increasing in grant order, or one token granted twice.
    LockTokenOrder,
    /// Fenced writes in the lock's log out of token order or under a token never granted.
    FenceOrder,
    /// A committed critical section that did not see exactly the sections committed before it.
    LostUpdate,
    /// Committed critical sections in an order real time rules out.
    SectionOrder,
    /// A counter and the list written in the same transactions disagree.
    TornTransaction,
    /// A key has no final read, so its durability could not be checked.
    MissingFinalRead,
    /// The history itself is inconsistent (a recorder bug).
    MalformedHistory,
    /// Nodes that applied the same index hold different objects.
    ReplicaDivergence,
    /// A heap-server process exited without being killed.
    NodeCrashed,
    /// An object that was rooted or held (and so had to exist) was found missing.
    CollectedWhileLive,
    /// A read returned an object referencing one that does not exist.
    DanglingReference,
}

impl AnomalyKind {
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }

    pub fn is_lock_violation(self) -> bool {
        matches!(
            self,
            AnomalyKind::LockOverlap
                | AnomalyKind::LockTokenOrder
                | AnomalyKind::FenceOrder
                | AnomalyKind::LostUpdate
                | AnomalyKind::SectionOrder
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub key: String,
    /// How many writes, holds or operations this one finding covers.
    pub count: u64,
    pub detail: String,
}

impl Anomaly {
    pub fn new(kind: AnomalyKind, key: &str, count: u64, detail: impl Into<String>) -> Self {
        Self { kind, key: key.to_string(), count, detail: detail.into() }
    }
}

/// What the checkers found in one history.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Findings {
    /// Register keys checked for linearizability, with the verdict in words.
    pub registers: BTreeMap<String, String>,
    pub anomalies: Vec<Anomaly>,
    /// What the gc checker saw, when the history has gc operations.
    pub gc: Option<gc::GcSummary>,
    /// What the greedy-locks checker saw, when the history has critical sections.
    pub greedy: Option<greedy::GreedySummary>,
}

impl Findings {
    pub fn count(&self, kind: AnomalyKind) -> u64 {
        self.anomalies.iter().filter(|a| a.kind == kind).map(|a| a.count).sum()
    }

    pub fn linearizable(&self) -> bool {
        self.count(AnomalyKind::NonLinearizable) == 0 && self.count(AnomalyKind::Unverified) == 0
    }

    pub fn lock_violations(&self) -> u64 {
        self.anomalies.iter().filter(|a| a.kind.is_lock_violation()).map(|a| a.count).sum()
    }
}

/// Runs every checker over the history.
pub fn check(events: &[Event]) -> Findings {
    let mut findings = Findings::default();
    let operations = match operations(events) {
        Ok(operations) => operations,
        Err(e) => {
            findings.anomalies.push(Anomaly::new(AnomalyKind::MalformedHistory, "", 1, e.to_string()));
            return findings;
        }
    };
    let mut by_key: BTreeMap<&str, Vec<Operation>> = BTreeMap::new();
    let mut gc_ops = Vec::new();
    for operation in &operations {
        if model_of(&operation.key) == gc::GC_MODEL {
            gc_ops.push(operation.clone());
        } else {
            by_key.entry(operation.key.as_str()).or_default().push(operation.clone());
        }
    }
    if !gc_ops.is_empty() {
        let (anomalies, summary) = gc::check(&gc_ops);
        findings.anomalies.extend(anomalies);
        findings.gc = Some(summary);
    }
    for (key, ops) in &by_key {
        match model_of(key) {
            "register" => {
                let verdict = check_register(key, ops, &mut findings.anomalies);
                findings.registers.insert(key.to_string(), verdict);
                findings.anomalies.extend(durability::check_register(key, ops));
            }
            "counter" => findings.anomalies.extend(counter::check(key, ops)),
            "list" => findings.anomalies.extend(durability::check_list(key, ops)),
            "fencelog" => {
                findings.anomalies.extend(durability::check_list(key, ops));
                let lock_key = format!("lock:{}", name_of(key));
                let lock_ops = by_key.get(lock_key.as_str()).map(Vec::as_slice).unwrap_or_default();
                findings.anomalies.extend(locks::check_fence_log(key, ops, lock_ops));
            }
            "lock" => findings.anomalies.extend(locks::check(key, ops)),
            greedy::LOG_MODEL => check_greedy(name_of(key), ops, &by_key, &mut findings),
            // Checked with the lock's log, which every run reads back at the end.
            greedy::COUNTER_MODEL => {}
            greedy::SECTION_MODEL if !by_key.contains_key(greedy::log_key(name_of(key)).as_str()) => {
                findings.anomalies.push(Anomaly::new(
                    AnomalyKind::MissingFinalRead,
                    key,
                    1,
                    "sections ran under this lock, but its log was never read at the end",
                ))
            }
            greedy::SECTION_MODEL => {}
            other => findings.anomalies.push(Anomaly::new(
                AnomalyKind::MalformedHistory,
                key,
                1,
                format!("unknown model {other:?}"),
            )),
        }
    }
    findings.anomalies.extend(durability::check_counters_match_lists(&by_key));
    findings
}

/// The greedy-lock rules for lock `lock`, whose log's operations are `log_ops`; the summary is
/// kept when sections ran.
fn check_greedy(lock: &str, log_ops: &[Operation], by_key: &BTreeMap<&str, Vec<Operation>>, findings: &mut Findings) {
    let ops_of = |key: String| by_key.get(key.as_str()).map(Vec::as_slice).unwrap_or_default();
    let sections = ops_of(greedy::section_key(lock));
    let (anomalies, summary) = greedy::check(lock, sections, ops_of(greedy::counter_key(lock)), log_ops);
    findings.anomalies.extend(anomalies);
    if !sections.is_empty() {
        findings.greedy.get_or_insert_with(Default::default).add(&summary);
    }
}

fn check_register(key: &str, ops: &[Operation], anomalies: &mut Vec<Anomaly>) -> String {
    use linearizable::Prepared;
    use linearizable::Verdict;
    let calls = match linearizable::prepare(REGISTER_INITIAL, ops) {
        Prepared::Calls(calls) => calls,
        Prepared::Violation { op_id, reason } => {
            let detail = format!("operation {op_id}: {reason}; {}", describe(ops, op_id));
            anomalies.push(Anomaly::new(AnomalyKind::NonLinearizable, key, 1, detail.clone()));
            return format!("not linearizable: {detail}");
        }
    };
    match linearizable::check(REGISTER_INITIAL, &calls, linearizable::DEFAULT_BOUNDS) {
        Verdict::Linearizable { steps } => format!("linearizable ({} operations, {steps} search steps)", calls.len()),
        Verdict::Violation { op_id, reason, .. } => {
            let detail = format!("{reason}; {}", describe(ops, op_id));
            anomalies.push(Anomaly::new(AnomalyKind::NonLinearizable, key, 1, detail.clone()));
            format!("not linearizable: {detail}")
        }
        Verdict::Unknown { reason, .. } => {
            anomalies.push(Anomaly::new(AnomalyKind::Unverified, key, 1, reason.clone()));
            format!("unknown: {reason}")
        }
    }
}

/// One operation in words, for anomaly details.
pub fn describe(ops: &[Operation], op_id: u64) -> String {
    match ops.iter().find(|o| o.op_id == op_id) {
        Some(o) => format!(
            "operation {} of process {}: {:?} {:?}, invoked at {} us, completed at {}",
            o.op_id,
            o.process,
            o.op,
            o.status,
            o.invoke_us,
            o.complete_us.map_or("never (indeterminate)".to_string(), |t| format!("{t} us"))
        ),
        None => format!("operation {op_id}"),
    }
}

/// The last successful final read of a key (process `FINAL_PROCESS`), if any.
pub fn final_read(ops: &[Operation]) -> Option<&Operation> {
    ops.iter()
        .filter(|o| o.process == FINAL_PROCESS && o.status == crate::history::Status::Ok)
        .max_by_key(|o| o.complete_us)
}
