//! `Proposer`: puts one heap command through Raft and returns the state machine's reply, or says
//! which leader to forward the client's request to (`forward.rs` does that, once). The leader
//! stamps each command with its clock (`Envelope.leader_time_ms`), the only way time enters the
//! heap.

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
use std::time::SystemTime;

use heap_machine as hm;
use openraft::async_runtime::WatchReceiver;
use openraft::errors::ClientWriteError;
use openraft::errors::RaftError;
use raft_store::Request as RaftRequest;
use tonic::Status;

use crate::context::NodeContext;
use crate::disk_guard::DiskLevel;
use crate::limits::CLIENT_REQUEST_TIMEOUT_MS;
use crate::router::Route;
use crate::router::Router;

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Where a proposed command ended.
pub enum Proposal {
    /// Committed and applied here: the state machine's reply and the entry's log index (a node
    /// that answers from its own state first waits until it has applied that far).
    Applied { reply: hm::Reply, log_index: u64 },
    /// Another node leads: forward the client's request to the leader at this address.
    Forward(String),
}

pub struct Proposer {
    node: Arc<NodeContext>,
    router: Arc<Router>,
}

impl Proposer {
    pub fn new(node: Arc<NodeContext>, router: Arc<Router>) -> Self {
        Self { node, router }
    }

    /// Commits `command` on this node if it leads (waiting, bounded, for an election to end).
    /// `may_forward` is false for a request forwarded here already: then a follower answers "not
    /// the leader" instead of `Proposal::Forward`.
    pub async fn propose(&self, command: hm::Command, may_forward: bool) -> Result<Proposal, Status> {
        let deadline = Instant::now() + Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS);
        loop {
            // Only the leader refuses for a low disk (its log grows with every write; see
            // disk_guard.rs); a follower forwards. The leadership check only when refusing.
            if self.node.disk.level() == DiskLevel::Refusing && self.leads() {
                self.node.disk.admit(&command)?;
            }
            let envelope = hm::Envelope { leader_time_ms: now_ms(), command: command.clone() };
            let payload = hm::encode_envelope(&envelope);
            if payload.len() as u64 > hm::TRANSACTION_SIZE_BYTES_MAX {
                return Err(Status::invalid_argument(format!(
                    "the request is {} bytes encoded, over the limit of {}; split the transaction",
                    payload.len(),
                    hm::TRANSACTION_SIZE_BYTES_MAX
                )));
            }
            let proposed = Instant::now();
            match self.node.raft.client_write(RaftRequest { payload }).await {
                Ok(written) => {
                    self.node.metrics.proposal_latency.observe(proposed.elapsed());
                    let reply = hm::decode_reply(&written.data.payload)
                        .map_err(|e| Status::internal(format!("undecodable state machine reply: {e}")))?;
                    return Ok(Proposal::Applied { reply, log_index: written.log_id.index });
                }
                Err(RaftError::APIError(ClientWriteError::ForwardToLeader(leader))) => {
                    match self.router.route(may_forward, leader, deadline).await? {
                        Route::Local => continue,
                        Route::Forward(addr) => return Ok(Proposal::Forward(addr)),
                    }
                }
                Err(RaftError::APIError(ClientWriteError::LogEntryDiscarded(_))) => {
                    return Err(Status::unavailable(
                        "the leader changed while committing; the outcome is unknown: read before retrying \
                         (or retry in a session, which makes the retry exactly-once)",
                    ))
                }
                Err(RaftError::APIError(e)) => return Err(Status::failed_precondition(e.to_string())),
                // Unavailable, so the client goes to another node; the entry may or may not have
                // been replicated before Raft stopped, so the outcome is unknown.
                Err(RaftError::Fatal(e)) => {
                    return Err(Status::unavailable(format!(
                        "node {} has stopped ({e}); the outcome is unknown: read before retrying elsewhere (or \
                         retry in a session, which makes the retry exactly-once)",
                        self.node.id
                    )))
                }
            }
        }
    }

    /// Whether this node believes it leads (a stale belief only moves one refusal to or from
    /// the new leader).
    fn leads(&self) -> bool {
        self.node.raft.metrics().borrow_watched().current_leader == Some(self.node.id)
    }

    /// Commits `command` only if this node leads (the leader's own duties: Grace, Tick).
    pub async fn propose_here(&self, command: hm::Command) -> Result<hm::Reply, Status> {
        match self.propose(command, false).await? {
            Proposal::Applied { reply, .. } => Ok(reply),
            // `route` refuses to forward when `may_forward` is false; kept total all the same.
            Proposal::Forward(addr) => {
                Err(Status::unavailable(format!("node {} is not the leader (the leader is at {addr})", self.node.id)))
            }
        }
    }
}
