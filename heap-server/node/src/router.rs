//! Where a request that must run on the leader goes: this node, or the leader at some address.
//! Also caches the lazily connected channels to other nodes' heap services (for `forward.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use openraft::async_runtime::WatchReceiver;
use openraft::errors::ForwardToLeader;
use openraft::errors::LinearizableReadError;
use openraft::errors::RaftError;
use openraft::raft::ReadPolicy;
use proto::admin::admin_client::AdminClient;
use proto::heap::heap_client::HeapClient;
use proto::security::CLUSTER_SERVER_NAME;
use raft_store::TypeConfig;
use tonic::transport::Channel;
use tonic::Status;

use crate::context::NodeContext;
use crate::limits::CLIENT_MESSAGE_SIZE_BYTES_MAX;
use crate::limits::CLIENT_REQUEST_TIMEOUT_MS;
use crate::limits::PEER_CONNECT_TIMEOUT_MS;
use crate::tls::peer_endpoint;

/// Pause between attempts while a request waits for a leader to emerge (bounded by the deadline).
const LEADER_RETRY_INTERVAL_MS: u64 = 10;
/// Pause before a linearizable read asks again for a majority that did not answer in time.
const QUORUM_RETRY_INTERVAL_MS: u64 = 20;
/// Peers whose channels one node caches (the cluster's members, with room for address changes).
const CACHED_CHANNELS_MAX: usize = 64;

pub enum Route {
    /// This node is the leader: serve here.
    Local,
    /// Forward to the leader at this address.
    Forward(String),
}

pub fn not_leader(node: u64, leader: &ForwardToLeader<TypeConfig>) -> Status {
    match (&leader.leader_id, &leader.leader_node) {
        (Some(id), Some(addr)) => Status::unavailable(format!(
            "node {node} is not the leader; the leader is node {id} at {}; retry there",
            addr.addr
        )),
        _ => Status::unavailable(format!("node {node} knows no leader (an election is running); retry shortly")),
    }
}

pub struct Router {
    node: Arc<NodeContext>,
    channels: Mutex<BTreeMap<String, Channel>>,
}

impl Router {
    pub fn new(node: Arc<NodeContext>) -> Self {
        Self { node, channels: Mutex::new(BTreeMap::new()) }
    }

    fn channel(&self, addr: &str) -> Result<Channel, Status> {
        let mut channels = self.channels.lock().map_err(|_| Status::internal("channel cache lock poisoned"))?;
        if let Some(channel) = channels.get(addr) {
            return Ok(channel.clone());
        }
        if channels.len() >= CACHED_CHANNELS_MAX {
            channels.clear();
        }
        // Any member may lead: the leader's certificate must name the cluster.
        let channel = peer_endpoint(self.node.tls.as_deref(), addr, CLUSTER_SERVER_NAME)
            .map_err(Status::internal)?
            .connect_timeout(Duration::from_millis(PEER_CONNECT_TIMEOUT_MS))
            .timeout(Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS))
            .tcp_nodelay(true)
            .connect_lazy();
        channels.insert(addr.to_string(), channel.clone());
        Ok(channel)
    }

    pub fn heap_client(&self, addr: &str) -> Result<HeapClient<Channel>, Status> {
        Ok(HeapClient::new(self.channel(addr)?)
            .max_decoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX)
            .max_encoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX))
    }

    /// An `Admin` stub toward `addr`, for forwarding a membership change: not cached (changes are
    /// rare) and allowed `timeout` (a new node's catch-up) rather than a client request's bound.
    pub fn admin_client(&self, addr: &str, timeout: Duration) -> Result<AdminClient<Channel>, Status> {
        let channel = peer_endpoint(self.node.tls.as_deref(), addr, CLUSTER_SERVER_NAME)
            .map_err(Status::internal)?
            .connect_timeout(Duration::from_millis(PEER_CONNECT_TIMEOUT_MS))
            .timeout(timeout)
            .connect_lazy();
        Ok(AdminClient::new(channel))
    }

    /// The leader's address if another node leads now, from this node's current view (no wait):
    /// for local reads this node cannot answer yet.
    pub fn known_leader_elsewhere(&self) -> Option<String> {
        let receiver = self.node.raft.metrics();
        let metrics = receiver.borrow_watched();
        let leader = metrics.current_leader.filter(|id| *id != self.node.id)?;
        let addr = metrics.membership_config.nodes().find(|(id, _)| **id == leader).map(|(_, node)| node.addr.clone());
        addr
    }

    /// Decides where a request that must run on the leader goes, waiting (bounded) for an
    /// election to finish when no leader is known. `may_forward` is false for requests that were
    /// forwarded here already: they are never forwarded twice.
    pub async fn route(
        &self,
        may_forward: bool,
        leader: ForwardToLeader<TypeConfig>,
        deadline: Instant,
    ) -> Result<Route, Status> {
        if let (Some(id), Some(node)) = (leader.leader_id, &leader.leader_node) {
            if id != self.node.id {
                if !may_forward {
                    return Err(not_leader(self.node.id, &leader));
                }
                return Ok(Route::Forward(node.addr.clone()));
            }
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(not_leader(self.node.id, &leader));
        }
        // Wait until some leader is known, then the caller tries again. The pause bounds the retry
        // rate while this node is between terms (it may briefly name itself before it can serve).
        let _ = self.node.raft.wait(Some(remaining)).metrics(|m| m.current_leader.is_some(), "a leader is known").await;
        tokio::time::sleep(Duration::from_millis(LEADER_RETRY_INTERVAL_MS)).await;
        Ok(Route::Local)
    }

    /// Waits until this node may serve a linearizable read (read index confirmed and applied), or
    /// says where to forward it.
    pub async fn linearizable(&self, may_forward: bool) -> Result<Route, Status> {
        let deadline = Instant::now() + Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS);
        loop {
            match self.node.raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
                Ok(_) => return Ok(Route::Local),
                Err(RaftError::APIError(LinearizableReadError::ForwardToLeader(leader))) => {
                    match self.route(may_forward, leader, deadline).await? {
                        Route::Local => continue,
                        forward => return Ok(forward),
                    }
                }
                Err(RaftError::APIError(LinearizableReadError::QuorumNotEnough(e))) => {
                    // One heartbeat round that a majority did not answer in time (on a loaded
                    // machine a follower can be late): a read changes nothing, so try again until
                    // the deadline rather than fail a request a later round would serve.
                    if Instant::now() + Duration::from_millis(QUORUM_RETRY_INTERVAL_MS) >= deadline {
                        return Err(Status::unavailable(format!("{e}; a majority is unreachable, retry later")));
                    }
                    tokio::time::sleep(Duration::from_millis(QUORUM_RETRY_INTERVAL_MS)).await;
                }
                // A read changes nothing: the client may retry it on another node.
                Err(RaftError::Fatal(e)) => {
                    return Err(Status::unavailable(format!(
                        "node {} has stopped ({e}); retry on another node",
                        self.node.id
                    )))
                }
            }
        }
    }
}
