//! What every part of a running node shares: its identity, its Raft instance, its state machine
//! store and its security material. A leaf module (it imports no other module of the node), so the services, the
//! router and the leader's duties depend on it and never on `node.rs`, which wires them together.

use raft_store::LogReader;
use raft_store::StateMachineStore;
use raft_store::TypeConfig;

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::disk_guard::DiskGuard;
use crate::gc::stats::GcStats;
use crate::gc::trigger::GcTrigger;
use crate::machine_adapter::FeedEvent;
use crate::machine_adapter::HeapMachine;
use crate::node_metrics::NodeMetrics;
use crate::tls::NodeTls;

pub type HeapStore = StateMachineStore<HeapMachine>;
pub type HeapRaft = openraft::Raft<TypeConfig, HeapStore>;

/// What request handlers share: this node's identity, its Raft and its state machine.
pub struct NodeContext {
    pub id: u64,
    pub addr: String,
    pub raft: HeapRaft,
    pub store: HeapStore,
    /// A read handle on the Raft log (the store itself belongs to Raft): its size and growth.
    pub log: LogReader,
    /// Which objects each applied entry changed (see `machine_adapter::FeedEvent`).
    pub changes: tokio::sync::broadcast::Sender<FeedEvent>,
    /// This node's TLS material (`None` on a plaintext test cluster).
    pub tls: Option<Arc<NodeTls>>,
    /// Who may call the heap service, and in which role.
    pub authenticator: Authenticator,
    /// What the node records for `/metrics` beyond Raft's and the heap's own state.
    pub metrics: NodeMetrics,
    /// The data dir's free space: warns when low, refuses new writes when lower (`disk_guard.rs`).
    pub disk: Arc<DiskGuard>,
    /// The collector's figures on this node (`gc/stats.rs`; the machine adapter records steps).
    pub gc_stats: Arc<GcStats>,
    /// How `heapctl gc run` asks this node's collector for a cycle (`gc/trigger.rs`).
    pub gc_trigger: GcTrigger,
    /// TEST ONLY (`--unsafe-stale-reads`): `Read` is served from local state without confirming
    /// leadership. The planted bug the chaos tests must catch; false in every real deployment.
    pub unsafe_stale_reads: bool,
}
