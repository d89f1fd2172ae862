//! The Raft transport server: receives votes and snapshots from peers and hands them to the local
//! openraft instance once the consensus gate has passed them (entries arrive over the append
//! link, `append_link.rs`). One snapshot install runs at a time; a second is refused, and so is a
//! stream that passes the node's `--snapshot-size-bytes-max` (before the bytes past it are held).

use std::sync::Arc;

use futures::StreamExt;
use proto::raft::raft_transport_server::RaftTransport;
use proto::raft::RaftMessage;
use proto::raft::SnapshotChunk;
use raft_store::check_received_snapshot;
use raft_store::Snapshot;
use raft_store::SnapshotMeta;
use raft_store::Vote;
use raft_store::SNAPSHOT_SIZE_BYTES_CEILING;
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
    /// The largest snapshot accepted from a peer (`--snapshot-size-bytes-max`).
    snapshot_size_bytes_max: u64,
}

impl RaftService {
    pub fn new(raft: HeapRaft, gate: Arc<ConsensusGate>, snapshot_size_bytes_max: u64) -> Self {
        Self { raft, gate, installs: Semaphore::new(SNAPSHOT_INSTALLS_MAX), snapshot_size_bytes_max }
    }

    /// Refuses a snapshot stream once `received_bytes` plus the next chunk would pass the bound,
    /// so what a peer streams into this node's memory stays within it.
    fn check_stream_size(&self, peer: &PeerInfo, received_bytes: usize, chunk_bytes: usize) -> Result<(), Status> {
        let size_bytes_max = self.snapshot_size_bytes_max;
        // usize is at most 64 bits on every supported target.
        if (received_bytes as u64).saturating_add(chunk_bytes as u64) <= size_bytes_max {
            return Ok(());
        }
        tracing::warn!(
            remote = %peer.remote_addr,
            received_bytes,
            size_bytes_max,
            "refused a snapshot stream over --snapshot-size-bytes-max; if the heap's snapshot is this large, \
             raise the setting on every node"
        );
        Err(Status::resource_exhausted(format!(
            "snapshot refused: the stream passed {size_bytes_max} bytes, this node's --snapshot-size-bytes-max; \
             if the heap's snapshot is really this large, raise --snapshot-size-bytes-max on every node (at most \
             {SNAPSHOT_SIZE_BYTES_CEILING})"
        )))
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

    async fn pre_vote(&self, request: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let peer = peer_of(&request)?;
        let rpc = decode_raft(&request.into_inner().payload).map_err(bad_request)?;
        // The same checks as a vote: a forged pre-vote changes nothing, but its answer tells the
        // sender about this node's log, which only members may learn.
        self.gate.vote(&peer, &rpc).map_err(|e| refused(&peer, "pre-vote request", e))?;
        let reply = self.raft.pre_vote(rpc).await.map_err(internal)?;
        Ok(Response::new(RaftMessage { payload: encode_raft(&reply).map_err(internal)? }))
    }

    async fn transfer_leader(&self, request: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let peer = peer_of(&request)?;
        let rpc = decode_raft(&request.into_inner().payload).map_err(bad_request)?;
        self.gate.transfer_leader(&peer, &rpc).map_err(|e| refused(&peer, "leadership transfer", e))?;
        let reply = self.raft.handle_transfer_leader(rpc).await.map_err(internal)?;
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
        self.check_stream_size(&peer, 0, first.data.len())?;
        let mut data = first.data;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            self.check_stream_size(&peer, data.len(), chunk.data.len())?;
            data.extend_from_slice(&chunk.data);
        }
        // A corrupt or mislabeled snapshot must be refused here: inside Raft, a failed install is
        // a storage error and stops the node.
        let size_bytes_max = self.snapshot_size_bytes_max;
        let (meta, data) = tokio::task::spawn_blocking(move || {
            let checked = check_received_snapshot(&meta, &data, size_bytes_max);
            checked.map(|()| (meta, data))
        })
        .await
        .map_err(internal)?
        .map_err(|e| refused(&peer, "snapshot", e))?;
        let reply =
            self.raft.install_full_snapshot(vote, Snapshot { meta, snapshot: data.into() }).await.map_err(internal)?;
        Ok(Response::new(RaftMessage { payload: encode_raft(&reply).map_err(internal)? }))
    }
}
