//! The Raft transport server: receives votes and snapshots from peers and hands them to the local
//! openraft instance once the consensus gate has passed them (entries arrive over the append
//! link, `append_link.rs`). One snapshot install runs at a time; a second is refused.

use std::sync::Arc;

use futures::StreamExt;
use proto::raft::raft_transport_server::RaftTransport;
use proto::raft::RaftMessage;
use proto::raft::SnapshotChunk;
use raft_store::check_received_snapshot;
use raft_store::Snapshot;
use raft_store::SnapshotMeta;
use raft_store::Vote;
use raft_store::SNAPSHOT_SIZE_BYTES_MAX;
use tokio::sync::Semaphore;
use tonic::Request;
use tonic::Response;
use tonic::Status;
use tonic::Streaming;

use crate::consensus_gate::ConsensusGate;
use crate::context::HeapRaft;
use crate::limits::SNAPSHOT_INSTALLS_MAX;
use crate::node_stream::PeerInfo;
use crate::wire::decode_raft;
use crate::wire::encode_raft;

pub struct RaftService {
    raft: HeapRaft,
    gate: Arc<ConsensusGate>,
    installs: Semaphore,
}

impl RaftService {
    pub fn new(raft: HeapRaft, gate: Arc<ConsensusGate>) -> Self {
        Self { raft, gate, installs: Semaphore::new(SNAPSHOT_INSTALLS_MAX) }
    }
}

fn bad_request(e: impl std::fmt::Display) -> Status {
    Status::invalid_argument(e.to_string())
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

/// What the connection proved about the caller (always present: every connection is a
/// `NodeStream`).
fn peer_of<T>(request: &Request<T>) -> Result<PeerInfo, Status> {
    request.extensions().get::<PeerInfo>().cloned().ok_or_else(|| Status::internal("no connection info on a request"))
}

fn refused(peer: &PeerInfo, what: &str, reason: impl std::fmt::Display) -> Status {
    tracing::warn!(remote = %peer.remote_addr, %reason, "refused a {what}");
    Status::permission_denied(format!("{what} refused: {reason}"))
}

#[tonic::async_trait]
impl RaftTransport for RaftService {
    async fn vote(&self, request: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let peer = peer_of(&request)?;
        let rpc = decode_raft(&request.into_inner().payload).map_err(bad_request)?;
        self.gate.vote(&peer, &rpc).map_err(|e| refused(&peer, "vote request", e))?;
        let reply = self.raft.vote(rpc).await.map_err(internal)?;
        Ok(Response::new(RaftMessage { payload: encode_raft(&reply).map_err(internal)? }))
    }

    async fn install_snapshot(
        &self,
        request: Request<Streaming<SnapshotChunk>>,
    ) -> Result<Response<RaftMessage>, Status> {
        let peer = peer_of(&request)?;
        let Ok(_install) = self.installs.try_acquire() else {
            return Err(Status::resource_exhausted(format!(
                "{SNAPSHOT_INSTALLS_MAX} snapshot install is in progress on this node; retry when it ends"
            )));
        };
        let mut chunks = request.into_inner();
        let first = chunks
            .next()
            .await
            .ok_or_else(|| Status::invalid_argument("empty snapshot stream: the first chunk must carry the meta"))??;
        let (vote, meta): (Vote, SnapshotMeta) = decode_raft(&first.meta).map_err(bad_request)?;
        // Checked before any data is read: a refused sender streams nothing into memory.
        self.gate.snapshot(&peer, &vote, &meta).map_err(|e| refused(&peer, "snapshot", e))?;
        let mut data = first.data;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            if data.len() + chunk.data.len() > SNAPSHOT_SIZE_BYTES_MAX {
                return Err(Status::resource_exhausted(format!(
                    "snapshot larger than {SNAPSHOT_SIZE_BYTES_MAX} bytes; refused"
                )));
            }
            data.extend_from_slice(&chunk.data);
        }
        // A corrupt or mislabeled snapshot must be refused here: inside Raft, a failed install is
        // a storage error and stops the node.
        let (meta, data) = tokio::task::spawn_blocking(move || {
            let checked = check_received_snapshot(&meta, &data);
            checked.map(|()| (meta, data))
        })
        .await
        .map_err(internal)?
        .map_err(|e| refused(&peer, "snapshot", e))?;
        let reply = self.raft.install_full_snapshot(vote, Snapshot { meta, snapshot: data }).await.map_err(internal)?;
        Ok(Response::new(RaftMessage { payload: encode_raft(&reply).map_err(internal)? }))
    }
}
