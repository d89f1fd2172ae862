//! `Proposer`: puts one heap command through Raft and returns the state machine's reply. On a
//! follower the command is forwarded to the leader over the internal `Propose` RPC (one hop); the
//! leader stamps it with its clock (`Envelope.leader_time_ms`), the only way time enters the heap.

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
use std::time::SystemTime;

use heap_machine as hm;
use openraft::errors::ClientWriteError;
use openraft::errors::RaftError;
use proto::raft::RaftMessage;
use raft_store::Request as RaftRequest;
use tonic::Status;

use crate::limits::CLIENT_REQUEST_TIMEOUT_MS;
use crate::node::NodeContext;
use crate::router::Route;
use crate::router::Router;
use crate::wire::decode_raft;
use crate::wire::encode_raft;

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub struct Proposer {
    node: Arc<NodeContext>,
    router: Arc<Router>,
}

impl Proposer {
    pub fn new(node: Arc<NodeContext>, router: Arc<Router>) -> Self {
        Self { node, router }
    }

    /// Commits `command` and returns the reply; `may_forward` is false for a command that was
    /// forwarded to this node already.
    pub async fn propose(&self, command: hm::Command, may_forward: bool) -> Result<hm::Reply, Status> {
        self.propose_at(command, may_forward).await.map(|(reply, _)| reply)
    }

    /// Like `propose`, also returning the log index the command was applied at, so a node that
    /// answers from its own state can first wait until it has applied that far.
    pub async fn propose_at(&self, command: hm::Command, may_forward: bool) -> Result<(hm::Reply, u64), Status> {
        let deadline = Instant::now() + Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS);
        loop {
            let envelope = hm::Envelope { leader_time_ms: now_ms(), command: command.clone() };
            let payload = hm::encode_envelope(&envelope);
            if payload.len() as u64 > hm::TRANSACTION_SIZE_BYTES_MAX {
                return Err(Status::invalid_argument(format!(
                    "the request is {} bytes encoded, over the limit of {}; split the transaction",
                    payload.len(),
                    hm::TRANSACTION_SIZE_BYTES_MAX
                )));
            }
            match self.node.raft.client_write(RaftRequest { payload }).await {
                Ok(written) => {
                    let reply = hm::decode_reply(&written.data.payload)
                        .map_err(|e| Status::internal(format!("undecodable state machine reply: {e}")))?;
                    return Ok((reply, written.log_id.index));
                }
                Err(RaftError::APIError(ClientWriteError::ForwardToLeader(leader))) => {
                    match self.router.route(may_forward, leader, deadline).await? {
                        Route::Local => continue,
                        Route::Forward(addr) => return self.forward(&addr, &command).await,
                    }
                }
                Err(RaftError::APIError(ClientWriteError::LogEntryDiscarded(_))) => {
                    return Err(Status::unavailable(
                        "the leader changed while committing; the outcome is unknown: read before retrying \
                         (or retry in a session, which makes the retry exactly-once)",
                    ))
                }
                Err(RaftError::APIError(e)) => return Err(Status::failed_precondition(e.to_string())),
                Err(RaftError::Fatal(e)) => {
                    return Err(Status::internal(format!("node {} stopped: {e}", self.node.id)))
                }
            }
        }
    }

    async fn forward(&self, addr: &str, command: &hm::Command) -> Result<(hm::Reply, u64), Status> {
        let payload = encode_raft(command).map_err(|e| Status::internal(e.to_string()))?;
        let reply = self.router.raft_client(addr)?.propose(RaftMessage { payload }).await?;
        decode_raft(&reply.into_inner().payload)
            .map_err(|e| Status::internal(format!("undecodable reply from the leader at {addr}: {e}")))
    }
}
