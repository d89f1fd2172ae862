//! The collector as the `Admin` service shows it (admin token): `GcStatus` and `GcRun`, asked of
//! any node in turn (a follower forwards to the leader), and a cycle waited for to its end even
//! when it outlives the `GcRun` call (the leader gives a cycle 60 s; one over 10 million objects
//! may take longer) or the leader changes under it (a new leader's counts start from zero); and
//! `GcPause`, which is each node's own, so it is asked of every node.

use std::time::Duration;
use std::time::Instant;

use heap_client::admin_stub;
use heap_client::ClientSecurity;
use proto::admin as pb;
use serde::Serialize;

use crate::leader::leader_may_have_changed;
use crate::limits::CONNECT_TIMEOUT_MS;
use crate::limits::GC_CYCLE_WAIT_MS;
use crate::limits::GC_PAUSE_TIMEOUT_MS;
use crate::limits::GC_RUN_TIMEOUT_MS;
use crate::limits::GC_STATUS_TIMEOUT_MS;
use crate::limits::LEADER_WAIT_MS;
use crate::limits::POLL_INTERVAL_MS;

/// A long wait for a cycle prints a line this often.
const WAIT_NOTICE_INTERVAL_MS: u64 = 10_000;

/// `GcStatusResponse`, as the reports keep it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcFigures {
    pub leader_id: u64,
    pub applied_index: u64,
    pub objects: u64,
    pub roots: u64,
    pub unreferenced: u64,
    pub held_objects: u64,
    pub cycles: u64,
    pub cycle_running: bool,
    pub last_cycle_ms: u64,
    pub last_mark_ms: u64,
    pub live_objects: u64,
    pub live_bytes: u64,
    pub last_cycle_garbage: u64,
    pub last_cycle_freed: u64,
    pub freed_total: u64,
    pub collect_steps: u64,
    pub longest_step_us: u64,
    pub last_step_us: u64,
    pub longest_step_cpu_us: u64,
    /// The leader's collector is paused (`GcPause`).
    pub paused: bool,
}

impl From<pb::GcStatusResponse> for GcFigures {
    fn from(status: pb::GcStatusResponse) -> Self {
        Self {
            leader_id: status.leader_id,
            applied_index: status.applied_index,
            objects: status.objects,
            roots: status.roots,
            unreferenced: status.unreferenced,
            held_objects: status.held_objects,
            cycles: status.cycles,
            cycle_running: status.cycle_running,
            last_cycle_ms: status.last_cycle_ms,
            last_mark_ms: status.last_mark_ms,
            live_objects: status.live_objects,
            live_bytes: status.live_bytes,
            last_cycle_garbage: status.last_cycle_garbage,
            last_cycle_freed: status.last_cycle_freed,
            freed_total: status.freed_total,
            collect_steps: status.collect_steps,
            longest_step_us: status.longest_step_us,
            last_step_us: status.last_step_us,
            longest_step_cpu_us: status.longest_step_cpu_us,
            paused: status.paused,
        }
    }
}

pub struct GcAdmin {
    endpoints: Vec<String>,
    security: ClientSecurity,
}

impl GcAdmin {
    pub fn new(endpoints: Vec<String>, security: ClientSecurity) -> Self {
        Self { endpoints, security }
    }

    /// One pass over the endpoints: the first answer, or every endpoint's error.
    async fn status_once(&self) -> anyhow::Result<GcFigures> {
        let timeout = Duration::from_millis(GC_STATUS_TIMEOUT_MS);
        let mut errors = Vec::new();
        for addr in &self.endpoints {
            let mut stub = admin_stub(&self.security, addr, Duration::from_millis(CONNECT_TIMEOUT_MS), timeout)?;
            match tokio::time::timeout(timeout, stub.gc_status(pb::GcStatusRequest {})).await {
                Ok(Ok(answer)) => return Ok(answer.into_inner().into()),
                Ok(Err(status)) => errors.push(format!("{addr}: {:?}: {}", status.code(), status.message())),
                Err(_) => errors.push(format!("{addr}: no answer within {GC_STATUS_TIMEOUT_MS} ms")),
            }
        }
        anyhow::bail!("GcStatus failed on every node ({})", errors.join("; "))
    }

    /// The collector's status from the leader, retried while there is none (an election).
    pub async fn status(&self) -> anyhow::Result<GcFigures> {
        let started = Instant::now();
        loop {
            match self.status_once().await {
                Ok(figures) => return Ok(figures),
                Err(error) if started.elapsed() > Duration::from_millis(LEADER_WAIT_MS) => {
                    return Err(error.context(format!(
                        "no node answered GcStatus for {LEADER_WAIT_MS} ms; check the nodes' logs in the work dir"
                    )))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await,
            }
        }
    }

    /// Pauses (`true`) or resumes the collector on every node (the bench's endpoints are all of
    /// them); fails naming each node that did not answer.
    pub async fn set_paused(&self, paused: bool) -> anyhow::Result<()> {
        let timeout = Duration::from_millis(GC_PAUSE_TIMEOUT_MS);
        let mut errors = Vec::new();
        for addr in &self.endpoints {
            let mut stub = admin_stub(&self.security, addr, Duration::from_millis(CONNECT_TIMEOUT_MS), timeout)?;
            match tokio::time::timeout(timeout, stub.gc_pause(pb::GcPauseRequest { paused })).await {
                Ok(Ok(_)) => {}
                Ok(Err(status)) => errors.push(format!("{addr}: {:?}: {}", status.code(), status.message())),
                Err(_) => errors.push(format!("{addr}: no answer within {GC_PAUSE_TIMEOUT_MS} ms")),
            }
        }
        anyhow::ensure!(
            errors.is_empty(),
            "GcPause (paused {paused}) failed on {} of {} nodes ({}); see the nodes' logs in the work dir",
            errors.len(),
            self.endpoints.len(),
            errors.join("; ")
        );
        Ok(())
    }

    /// Runs a collection cycle now and returns the status after it. A cycle that outlives the
    /// call is waited for by the leader's cycle count; when the leader changes meanwhile (its
    /// counts are its own) the new leader is asked for a cycle of its own. Bounded by
    /// `GC_CYCLE_WAIT_MS` in all.
    pub async fn run_cycle(&self) -> anyhow::Result<GcFigures> {
        let started = Instant::now();
        loop {
            let before = self.status().await?;
            match self.call_gc_run().await? {
                Some(figures) => return Ok(figures),
                None => {
                    if let Some(figures) = self.wait_for_cycle_after(&before, started).await? {
                        return Ok(figures);
                    }
                }
            }
            eprintln!("GcRun: the leader changed from node {} during the cycle; asking the new one", before.leader_id);
        }
    }

    /// One `GcRun` call: the status after its cycle, or None if the call ended before the cycle
    /// did (the leader's or this call's deadline; or the node answering lost the leader).
    async fn call_gc_run(&self) -> anyhow::Result<Option<GcFigures>> {
        let timeout = Duration::from_millis(GC_RUN_TIMEOUT_MS);
        let mut errors = Vec::new();
        for addr in &self.endpoints {
            let mut stub = admin_stub(&self.security, addr, Duration::from_millis(CONNECT_TIMEOUT_MS), timeout)?;
            match tokio::time::timeout(timeout, stub.gc_run(pb::GcRunRequest {})).await {
                Ok(Ok(answer)) => return Ok(answer.into_inner().status.map(GcFigures::from)),
                Ok(Err(status)) if status.code() == tonic::Code::DeadlineExceeded => return Ok(None),
                Ok(Err(status)) if leader_may_have_changed(&status) => {
                    errors.push(format!("{addr}: {:?}: {}", status.code(), status.message()))
                }
                Ok(Err(status)) => anyhow::bail!("GcRun failed at {addr}: {:?}: {}", status.code(), status.message()),
                Err(_) => return Ok(None),
            }
        }
        eprintln!("GcRun: no node took the call ({}); waiting for a cycle instead", errors.join("; "));
        Ok(None)
    }

    /// Waits until the leader of `before` has completed a cycle more and runs none; None if the
    /// leader changed first. Prints a line now and then, so a long wait is seen.
    async fn wait_for_cycle_after(&self, before: &GcFigures, started: Instant) -> anyhow::Result<Option<GcFigures>> {
        let mut shown = Instant::now();
        loop {
            let figures = self.status().await?;
            if figures.leader_id != before.leader_id {
                return Ok(None);
            }
            if figures.cycles > before.cycles && !figures.cycle_running {
                return Ok(Some(figures));
            }
            if started.elapsed() > Duration::from_millis(GC_CYCLE_WAIT_MS) {
                anyhow::bail!(
                    "the collection cycle did not end within {GC_CYCLE_WAIT_MS} ms ({figures:?}); see the leader's log"
                );
            }
            if shown.elapsed() > Duration::from_millis(WAIT_NOTICE_INTERVAL_MS) {
                eprintln!(
                    "waiting for a collection cycle on leader {}: {} done, one running: {}",
                    figures.leader_id, figures.cycles, figures.cycle_running
                );
                shown = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        }
    }
}
