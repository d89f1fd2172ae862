//! `LifecycleCluster`: the fresh, secured three-node cluster `memory` and `gc` run against
//! (`SovereignCluster`, as `compare` starts it), each node also serving `/metrics` on a free
//! loopback port, with its memory sampled in the background (`RssSampler`). It answers what the
//! scenarios ask: a stub to the leader, the collector's figures, each node's progress and data
//! dir, when the cluster is idle, and a node restarted on its data. It also keeps the run's
//! phases on the RSS series' time axis, so the reports show what happened when.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use std::time::Instant;

use anyhow::Context;
use heap_client::ClientSecurity;
use heap_client::HeapStub;
use serde::Serialize;

use crate::channels;
use crate::leader::Discover;
use crate::lifecycle::disk_usage;
use crate::lifecycle::disk_usage::DiskUsage;
use crate::lifecycle::gc_admin::GcAdmin;
use crate::lifecycle::node_metrics;
use crate::lifecycle::node_metrics::NodeProgress;
use crate::lifecycle::rss_sampler::RssSampler;
use crate::lifecycle::settle::Observation;
use crate::lifecycle::settle::SettleTracker;
use crate::limits::LIFECYCLE_REQUEST_TIMEOUT_MS;
use crate::limits::RELOAD_TIMEOUT_MS;
use crate::limits::SETTLE_POLL_MS;
use crate::limits::SETTLE_TIMEOUT_MS;
use crate::sovereign::cluster::SovereignCluster;
use crate::sovereign::discover::SovereignDiscover;
use crate::sovereign::heap_ops::stub;
use crate::system::StartedCluster;

/// A phase of a run began `at_ms` after the sampler started (the RSS series' time axis).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseMark {
    pub at_ms: u64,
    pub phase: String,
}

/// How a wait for idleness ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Settled {
    /// False: `SETTLE_TIMEOUT_MS` passed first, and the figures taken next are of a busy cluster.
    pub settled: bool,
    pub waited_s: f64,
}

pub struct LifecycleCluster {
    nodes: SovereignCluster,
    /// Node id to its `--http-listen` address.
    metrics_addrs: BTreeMap<u64, String>,
    sampler: RssSampler,
    phases: Vec<PhaseMark>,
    pub admin: GcAdmin,
}

impl LifecycleCluster {
    /// Starts the cluster in `dir` (removed first if it exists) and waits for its leader.
    pub async fn start(server: &Path, dir: &Path) -> anyhow::Result<Self> {
        let ports = heap_testkit::free_ports(3).context("no free loopback ports for the nodes' /metrics")?;
        let metrics_addrs: BTreeMap<u64, String> =
            (1u64..).zip(ports).map(|(id, port)| (id, format!("127.0.0.1:{port}"))).collect();
        let flags = metrics_addrs.clone();
        let node_args = move |id: u64| match flags.get(&id) {
            Some(addr) => vec!["--http-listen".to_string(), addr.clone()],
            None => Vec::new(),
        };
        let nodes = SovereignCluster::start_with_node_args(server, dir, false, node_args).await?;
        let sampler = RssSampler::start(&nodes.pids());
        let admin = GcAdmin::new(nodes.endpoints(), nodes.client_security());
        Ok(Self { nodes, metrics_addrs, sampler, phases: Vec::new(), admin })
    }

    /// A phase begins: one line on stdout, and a mark on the time axis.
    pub fn phase(&mut self, phase: String) {
        println!("== {phase}");
        self.phases.push(PhaseMark { at_ms: self.sampler.elapsed_ms(), phase });
    }

    /// The phases so far, in order.
    pub fn phases(&self) -> Vec<PhaseMark> {
        self.phases.clone()
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.nodes.endpoints()
    }

    pub fn security(&self) -> ClientSecurity {
        self.nodes.client_security()
    }

    pub fn ids(&self) -> Vec<u64> {
        self.nodes.ids()
    }

    pub fn sampler(&self) -> &RssSampler {
        &self.sampler
    }

    /// Fails, with the end of its log, if a node exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        Ok(self.nodes.check_running()?)
    }

    /// A heap stub to the current leader whose requests wait up to `LIFECYCLE_REQUEST_TIMEOUT_MS`.
    pub async fn leader_stub(&self) -> anyhow::Result<HeapStub> {
        let security = self.security();
        let discover = SovereignDiscover { security: security.clone() };
        let leader = discover.find_leader(&self.endpoints()).await?;
        let timeout = Duration::from_millis(LIFECYCLE_REQUEST_TIMEOUT_MS);
        let channel = channels::connect(&security, &leader, 1, timeout).await?.remove(0);
        Ok(stub(channel, &security.interceptor()?))
    }

    /// The leader's id, as the collector's status names it.
    pub async fn leader_id(&self) -> anyhow::Result<u64> {
        let leader = self.admin.status().await?.leader_id;
        anyhow::ensure!(leader != 0, "the cluster has no leader; check the nodes' logs in the work dir");
        Ok(leader)
    }

    /// Every node's progress from its `/metrics`.
    pub async fn progress(&self) -> anyhow::Result<BTreeMap<u64, NodeProgress>> {
        let mut progress = BTreeMap::new();
        for (id, addr) in &self.metrics_addrs {
            progress.insert(*id, node_metrics::fetch(addr).await.with_context(|| format!("node {id}"))?);
        }
        Ok(progress)
    }

    pub fn disk_usage(&self, id: u64) -> anyhow::Result<DiskUsage> {
        disk_usage::measure(&self.nodes.node_data_dir(id))
    }

    /// Waits (bounded by `SETTLE_TIMEOUT_MS`) until the cluster is idle (`settle.rs`); a node
    /// that does not answer its metrics yet counts as busy.
    pub async fn wait_idle(&mut self) -> anyhow::Result<Settled> {
        let started = Instant::now();
        let mut tracker = SettleTracker::default();
        while started.elapsed() < Duration::from_millis(SETTLE_TIMEOUT_MS) {
            self.check_running()?;
            if let Ok(progress) = self.progress().await {
                let rss_bytes = self.sampler.readings().into_iter().map(|(id, r)| (id, r.rss_bytes)).collect();
                if tracker.observe(Observation { progress, rss_bytes }, Instant::now()) {
                    return Ok(Settled { settled: true, waited_s: started.elapsed().as_secs_f64() });
                }
            }
            tokio::time::sleep(Duration::from_millis(SETTLE_POLL_MS)).await;
        }
        eprintln!(
            "warning: the cluster did not settle within {SETTLE_TIMEOUT_MS} ms; the figures are of a busy cluster"
        );
        Ok(Settled { settled: false, waited_s: started.elapsed().as_secs_f64() })
    }

    /// Restarts node `id` (SIGTERM, then start on the same data) and waits until it has applied
    /// `index`; returns whether it exited by itself and how long reloading and catching up took.
    pub async fn restart_and_catch_up(&mut self, id: u64, index: u64) -> anyhow::Result<(bool, Duration)> {
        self.sampler.set_pid(id, None);
        let (pid, clean) = tokio::task::block_in_place(|| self.nodes.restart(id))?;
        let started = Instant::now();
        self.sampler.set_pid(id, Some(pid));
        let addr = self.metrics_addrs.get(&id).with_context(|| format!("node {id} has no metrics port"))?.clone();
        loop {
            self.check_running()?;
            if node_metrics::fetch(&addr).await.is_ok_and(|progress| progress.applied_index >= index) {
                return Ok((clean, started.elapsed()));
            }
            if started.elapsed() > Duration::from_millis(RELOAD_TIMEOUT_MS) {
                anyhow::bail!("node {id} did not apply index {index} within {RELOAD_TIMEOUT_MS} ms of its restart");
            }
            tokio::time::sleep(Duration::from_millis(SETTLE_POLL_MS)).await;
        }
    }

    /// Restarts every node, one after another, and waits for a leader: what a node knows of
    /// the collector (its counters, its longest step) starts from zero again.
    pub async fn restart_all(&mut self) -> anyhow::Result<()> {
        for id in self.ids() {
            self.sampler.set_pid(id, None);
            let (pid, _) = tokio::task::block_in_place(|| self.nodes.restart(id))?;
            self.sampler.set_pid(id, Some(pid));
        }
        self.nodes.wait_for_leader().await?;
        Ok(())
    }

    /// Kills the nodes and removes their data.
    pub fn stop(self) -> anyhow::Result<()> {
        Ok(self.nodes.stop()?)
    }
}
