//! The nemesis: injects the scheduled faults one at a time (each healed before the next, so the
//! cluster can always recover), records each one, and notices nodes that exit on their own (a
//! crash is an anomaly; the node is restarted so the run goes on; a node the membership nemesis
//! asked to leave exiting with status 78 is a planned departure: it is forgotten).

pub mod membership;
pub mod partition;
pub mod process;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use heap_testkit::ClusterError;
use heap_testkit::LocalCluster;

use crate::checker::Anomaly;
use crate::checker::AnomalyKind;
use crate::endpoints::Endpoints;
use crate::history::History;
use crate::netns::NetError;
use crate::netns::Network;
use crate::schedule::Action;
use crate::schedule::Fault;
use crate::schedule::Nemesis;
use crate::schedule::Schedule;
use crate::schedule::Target;

/// How long a leader-targeted fault waits for a leader before it is skipped.
pub const LEADER_WAIT_MS: u64 = 15_000;
/// Lines of a node's log quoted when it exits on its own.
const LOG_TAIL_LINES: usize = 30;

#[derive(Debug, thiserror::Error)]
pub enum NemesisError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("the partition nemesis needs network namespaces, but this run has none")]
    NoNetwork,
}

/// One fault as injected.
#[derive(Debug, Clone)]
pub struct FaultRecord {
    pub index: usize,
    pub nemesis: Nemesis,
    /// A finer kind for the report (e.g. `partition-isolate-leader`).
    pub detail_kind: String,
    /// What exactly happened, in words.
    pub detail: String,
    pub start_us: u64,
    pub end_us: u64,
    /// Why the fault was not injected, if it was not.
    pub skipped: Option<String>,
}

pub struct Chaos<'a> {
    pub cluster: &'a mut LocalCluster,
    pub network: Option<&'a mut Network>,
    history: &'a History,
    pub records: Vec<FaultRecord>,
    pub anomalies: Vec<Anomaly>,
    roster: membership::Roster,
    /// The clients' addresses, updated as members come and go.
    endpoints: Option<Arc<Endpoints>>,
}

/// The node a fault planned for node `id` of the starting cluster hits among `ids` (the nodes
/// now): `id` itself, or if it left the membership the node of the same rank (modulo).
pub fn stand_in(ids: &[u64], id: u64) -> Option<u64> {
    if ids.contains(&id) {
        return Some(id);
    }
    ids.get((id.saturating_sub(1) as usize) % ids.len().max(1)).copied()
}

impl<'a> Chaos<'a> {
    pub fn new(cluster: &'a mut LocalCluster, network: Option<&'a mut Network>, history: &'a History) -> Self {
        let roster = membership::Roster::new(cluster);
        Self { cluster, network, history, records: Vec::new(), anomalies: Vec::new(), roster, endpoints: None }
    }

    /// Keeps `endpoints` (the workers' addresses) up to date with the membership.
    pub fn with_endpoints(mut self, endpoints: Arc<Endpoints>) -> Self {
        self.endpoints = Some(endpoints);
        self
    }

    /// Injects the schedule's faults that start before `duration` has passed since `started`.
    pub async fn run(&mut self, schedule: &Schedule, started: Instant, duration: Duration) -> Result<(), NemesisError> {
        let end = started + duration;
        for fault in &schedule.faults {
            let at = started + Duration::from_millis(fault.at_ms);
            if at >= end || Instant::now() >= end {
                break;
            }
            tokio::time::sleep_until(at.into()).await;
            self.restart_crashed()?;
            let record = self.inject(fault).await?;
            self.progress(&record, started);
            self.records.push(record);
            self.restart_crashed()?;
        }
        Ok(())
    }

    async fn inject(&mut self, fault: &Fault) -> Result<FaultRecord, NemesisError> {
        let start_us = self.history.now_us();
        let mut record = FaultRecord {
            index: fault.index,
            nemesis: fault.nemesis,
            detail_kind: fault.nemesis.name().to_string(),
            detail: String::new(),
            start_us,
            end_us: start_us,
            skipped: None,
        };
        let hold = Duration::from_millis(fault.hold_ms);
        let outcome = match &fault.action {
            Action::Kill(target) => match self.resolve(target).await {
                Ok(id) => process::kill(self.cluster, id, hold).await.map(|d| (d, None)),
                Err(reason) => Ok((String::new(), Some(reason))),
            },
            Action::Pause(target) => match self.resolve(target).await {
                Ok(id) => {
                    record.detail_kind =
                        format!("pause-{}", if *target == Target::Leader { "leader" } else { "random" });
                    process::pause(self.cluster, id, hold).await.map(|d| (d, None))
                }
                Err(reason) => Ok((String::new(), Some(reason))),
            },
            Action::Partition(shape) => {
                let Some(network) = self.network.as_deref_mut() else {
                    return Err(NemesisError::NoNetwork);
                };
                match partition::sides(self.cluster, shape)
                    .await
                    .map(|(kind, minority)| (kind, partition::stand_ins(&self.cluster.ids(), &minority)))
                {
                    Ok((kind, minority)) => {
                        record.detail_kind = format!("partition-{kind}");
                        partition::hold(network, self.cluster, &minority, hold).await.map(|d| (d, None))
                    }
                    Err(reason) => Ok((String::new(), Some(reason))),
                }
            }
            Action::RestartAll => process::restart_all(self.cluster, hold).await.map(|d| (d, None)),
            Action::Membership(change) => {
                record.detail_kind = change.kind().to_string();
                let scene = membership::Scene {
                    cluster: self.cluster,
                    network: self.network.as_deref_mut(),
                    roster: &mut self.roster,
                    endpoints: self.endpoints.as_deref(),
                };
                membership::change(scene, *change, hold).await
            }
        };
        let (detail, skipped) = outcome?;
        record.detail = detail;
        record.skipped = skipped;
        record.end_us = self.history.now_us();
        Ok(record)
    }

    /// The node a target names now; Err(reason) when there is no leader in time.
    async fn resolve(&self, target: &Target) -> Result<u64, String> {
        match target {
            Target::Node(id) => stand_in(&self.cluster.ids(), *id).ok_or_else(|| "skipped: no node".to_string()),
            Target::Leader => self
                .cluster
                .wait_for_majority_leader(Duration::from_millis(LEADER_WAIT_MS))
                .await
                .map_err(|e| format!("skipped: {e}")),
        }
    }

    fn progress(&self, record: &FaultRecord, started: Instant) {
        let (ok, fail, info) = self.history.completions();
        let what = match &record.skipped {
            Some(reason) => reason.clone(),
            None => record.detail.clone(),
        };
        eprintln!(
            "[{:>7.1} s] fault #{:<4} {:<11} {what}  (ops so far: {ok} ok, {fail} failed, {info} indeterminate)",
            started.elapsed().as_secs_f64(),
            record.index,
            record.nemesis.name(),
        );
    }

    /// Restarts nodes that exited without being killed, recording each as a crash; forgets nodes
    /// that left the membership as the membership nemesis asked.
    fn restart_crashed(&mut self) -> Result<(), NemesisError> {
        let mut exits = std::mem::take(&mut self.roster.other_exits);
        exits.extend(self.cluster.exited());
        for (id, status) in exits {
            if self.roster.departed(id, &status) {
                eprintln!("chaos: node {id}, removed from the membership, exited by itself ({status})");
                self.cluster.forget_node(id);
                if let Some(network) = self.network.as_deref_mut() {
                    network.remove_node(id);
                }
                if let Some(endpoints) = &self.endpoints {
                    endpoints.set(self.cluster.endpoints());
                }
                continue;
            }
            let detail = format!(
                "node {id} exited on its own ({status}); its log ends:\n{}",
                self.cluster.log_tail(id, LOG_TAIL_LINES)
            );
            eprintln!("chaos: {detail}");
            self.anomalies.push(Anomaly::new(AnomalyKind::NodeCrashed, &format!("node:{id}"), 1, detail));
            self.cluster.start(id)?;
        }
        Ok(())
    }

    /// Ends every fault: resumes paused nodes, restarts dead ones, heals the network.
    pub fn heal_all(&mut self) -> Result<(), NemesisError> {
        if let Some(network) = self.network.as_deref_mut() {
            network.heal()?;
        }
        for id in self.cluster.ids() {
            if self.cluster.is_paused(id) {
                self.cluster.resume(id)?;
            }
        }
        self.restart_crashed()?;
        self.cluster.start_all()?;
        Ok(())
    }

    /// Faults injected per nemesis, and per finer kind.
    pub fn counts(&self) -> (BTreeMap<String, u64>, BTreeMap<String, u64>, u64) {
        let mut by_nemesis = BTreeMap::new();
        let mut by_kind = BTreeMap::new();
        let mut skipped = 0;
        for record in &self.records {
            if record.skipped.is_some() {
                skipped += 1;
                continue;
            }
            *by_nemesis.entry(record.nemesis.name().to_string()).or_default() += 1;
            *by_kind.entry(record.detail_kind.clone()).or_default() += 1;
        }
        (by_nemesis, by_kind, skipped)
    }
}
