//! `Report`: what a run did and found, as a human summary table and as JSON (`--json`). The run
//! is clean (exit 0) only when no anomaly of any kind was found.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::checker::gc::GcSummary;
use crate::checker::greedy::GreedySummary;
use crate::checker::Anomaly;
use crate::checker::AnomalyKind;
use crate::checker::Findings;
use crate::checker::ANOMALY_DETAILS_MAX;
use crate::history::operations;
use crate::history::Event;
use crate::history::Status;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpCounts {
    pub ok: u64,
    pub failed: u64,
    pub indeterminate: u64,
}

impl OpCounts {
    pub fn of(events: &[Event]) -> Self {
        let mut counts = Self::default();
        for operation in operations(events).unwrap_or_default() {
            match operation.status {
                Status::Ok => counts.ok += 1,
                Status::Fail => counts.failed += 1,
                Status::Indeterminate => counts.indeterminate += 1,
            }
        }
        counts
    }
}

/// The leader's collector figures after a run with the gc workload (Admin `GcStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcServerStatus {
    pub leader_id: u64,
    pub objects: u64,
    pub roots: u64,
    pub held_objects: u64,
    /// Holds of ended sessions not dropped yet.
    pub ended_holds: u64,
    /// Collection cycles the leader completed since it last became leader.
    pub cycles: u64,
    /// Objects freed by the Collect entries the leader applied since it started.
    pub freed_total: u64,
    pub collect_steps: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub seed: u64,
    pub nodes: u64,
    pub duration_s: u64,
    pub nemeses: Vec<String>,
    /// The workloads whose workers ran.
    pub workloads: Vec<String>,
    /// The planted bug, if any (`stale-reads`).
    pub plant: Option<String>,
    /// How the cluster ran: `tls+token` (secured, the default) or `plaintext`; None when a
    /// saved history is checked again.
    pub security: Option<String>,
    pub ops: OpCounts,
    /// Faults injected, per nemesis.
    pub faults: BTreeMap<String, u64>,
    /// Faults injected, per finer kind (pause of the leader or a random node, partition shape).
    pub fault_kinds: BTreeMap<String, u64>,
    /// Faults not injected (a leader-targeted fault with no leader in time).
    pub faults_skipped: u64,
    /// True when every register key was verified linearizable.
    pub linearizable: bool,
    pub lost_acknowledged_writes: u64,
    pub duplicated_writes: u64,
    pub lock_violations: u64,
    /// Every anomaly kind found, with how many writes/holds/operations it covers.
    pub anomalies: BTreeMap<String, u64>,
    /// The first anomalies of each kind, described.
    pub anomaly_details: Vec<Anomaly>,
    /// The linearizability verdict of each register key.
    pub registers: BTreeMap<String, String>,
    /// What the gc checker saw, when the history has gc operations.
    pub gc: Option<GcSummary>,
    /// What the greedy-locks checker saw, when that workload ran.
    pub greedy: Option<GreedySummary>,
    /// The final leader's collector figures, when the gc workload ran and the leader answered.
    pub gc_status: Option<GcServerStatus>,
    /// Where the history (and node logs) were written, when there was an anomaly.
    pub history_dir: Option<String>,
    pub elapsed_s: f64,
    pub clean: bool,
}

impl Report {
    /// Fills the findings in (and `clean`).
    pub fn set_findings(&mut self, findings: &Findings) {
        self.linearizable = findings.linearizable();
        self.lost_acknowledged_writes = findings.count(AnomalyKind::LostWrite);
        self.duplicated_writes = findings.count(AnomalyKind::DuplicatedWrite);
        self.lock_violations = findings.lock_violations();
        self.anomalies.clear();
        self.anomaly_details.clear();
        let mut shown: BTreeMap<AnomalyKind, usize> = BTreeMap::new();
        for anomaly in &findings.anomalies {
            *self.anomalies.entry(anomaly.kind.name()).or_default() += anomaly.count;
            let count = shown.entry(anomaly.kind).or_default();
            if *count < ANOMALY_DETAILS_MAX {
                *count += 1;
                self.anomaly_details.push(anomaly.clone());
            }
        }
        self.registers = findings.registers.clone();
        self.gc = findings.gc.clone();
        self.greedy = findings.greedy.clone();
        self.clean = findings.anomalies.is_empty();
    }

    pub fn faults_total(&self) -> u64 {
        self.faults.values().sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.clean { "CLEAN" } else { "ANOMALIES FOUND" };
        writeln!(f, "==== chaos report: {verdict} ====")?;
        writeln!(f, "{:<28} {}", "seed", self.seed)?;
        writeln!(
            f,
            "{:<28} {} nodes, {} s of faults, {:.1} s in all",
            "run", self.nodes, self.duration_s, self.elapsed_s
        )?;
        writeln!(f, "{:<28} {}", "nemeses", self.nemeses.join(","))?;
        if !self.workloads.is_empty() {
            writeln!(f, "{:<28} {}", "workloads", self.workloads.join(","))?;
        }
        if let Some(plant) = &self.plant {
            writeln!(f, "{:<28} {plant} (planted bug)", "plant")?;
        }
        if let Some(security) = &self.security {
            writeln!(f, "{:<28} {security}", "security")?;
        }
        writeln!(
            f,
            "{:<28} {} ok, {} failed, {} indeterminate",
            "operations", self.ops.ok, self.ops.failed, self.ops.indeterminate
        )?;
        writeln!(f, "{:<28} {} injected, {} skipped", "faults", self.faults_total(), self.faults_skipped)?;
        for (kind, count) in &self.fault_kinds {
            writeln!(f, "  {kind:<26} {count}")?;
        }
        writeln!(f, "{:<28} {}", "linearizable", self.linearizable)?;
        writeln!(f, "{:<28} {}", "lost acknowledged writes", self.lost_acknowledged_writes)?;
        writeln!(f, "{:<28} {}", "duplicated writes", self.duplicated_writes)?;
        writeln!(f, "{:<28} {}", "lock violations", self.lock_violations)?;
        if let Some(gc) = &self.gc {
            writeln!(
                f,
                "{:<28} {} builds ({} objects), {} holds, {} re-attached, {} reads",
                "gc workload", gc.builds, gc.objects, gc.holds, gc.reattached, gc.reads
            )?;
            writeln!(
                f,
                "{:<28} {} live objects found ({} kept only by a hold); collected: {} seen during the run, {} \
                 more at the end",
                "gc checked", gc.live_checked, gc.held_checked, gc.freed_observed, gc.freed_at_end
            )?;
        }
        if let Some(greedy) = &self.greedy {
            writeln!(
                f,
                "{:<28} {} ok, {} failed, {} indeterminate sections ({} taken locally, {} vanished holders)",
                "greedy locks",
                greedy.sections_ok,
                greedy.sections_failed,
                greedy.sections_indeterminate,
                greedy.local_acquisitions,
                greedy.vanished
            )?;
            writeln!(
                f,
                "{:<28} {} committed sections in {} logs, {} handoffs between sessions, {} sections after a \
                 vanished holder",
                "greedy checked",
                greedy.committed,
                greedy.locks,
                greedy.session_handoffs,
                greedy.taken_over_after_vanish
            )?;
        }
        if let Some(status) = &self.gc_status {
            writeln!(
                f,
                "{:<28} leader {}: {} freed in {} collect steps, {} cycles, {} objects left",
                "gc status", status.leader_id, status.freed_total, status.collect_steps, status.cycles, status.objects
            )?;
        }
        if self.anomalies.is_empty() {
            writeln!(f, "{:<28} none", "anomalies")?;
        } else {
            writeln!(f, "anomalies by kind:")?;
            for (kind, count) in &self.anomalies {
                writeln!(f, "  {kind:<26} {count}")?;
            }
            for anomaly in &self.anomaly_details {
                writeln!(f, "  - [{}] {}: {}", anomaly.kind.name(), anomaly.key, anomaly.detail)?;
            }
        }
        for (key, verdict) in &self.registers {
            writeln!(f, "  {key:<26} {verdict}")?;
        }
        if let Some(dir) = &self.history_dir {
            writeln!(f, "{:<28} {dir}", "history and node logs")?;
        }
        Ok(())
    }
}
