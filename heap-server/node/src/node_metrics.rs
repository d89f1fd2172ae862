//! `NodeMetrics`: what the node records for `/metrics` beyond what Raft and the state machine
//! hold. A leaf (it imports no module of the node), so `context.rs` can hold it and `metrics.rs`,
//! which renders everything from the context, can read it.

use std::path::PathBuf;
use std::sync::Arc;

use raft_store::Histogram;

/// What the node records for its metrics beyond what Raft and the state machine hold.
#[derive(Default)]
pub struct NodeMetrics {
    /// From a command's proposal to its reply on this node (leader only; followers forward).
    pub proposal_latency: Histogram,
    /// Each fdatasync and fsync of the Raft log, recorded by raft-store (`LogStore::sync_latency`).
    pub log_sync_latency: Arc<Histogram>,
    /// The data dir whose file system's space is reported.
    pub data_dir: PathBuf,
}

impl NodeMetrics {
    pub fn new(data_dir: PathBuf, log_sync_latency: Arc<Histogram>) -> Self {
        Self { proposal_latency: Histogram::default(), log_sync_latency, data_dir }
    }
}
