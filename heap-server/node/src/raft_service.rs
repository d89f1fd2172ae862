//! The Raft transport server: receives votes, entries and snapshots from peers and hands them to
//! the local openraft instance.

use std::sync::Arc;

use futures::StreamExt;
use proto::raft::raft_transport_server::RaftTransport;
use proto::raft::RaftMessage;
use proto::raft::SnapshotChunk;
use raft_store::Snapshot;
use raft_store::SnapshotMeta;
use raft_store::Vote;
use raft_store::SNAPSHOT_SIZE_BYTES_MAX;
use tonic::Request;
use tonic::Response;
use tonic::Status;
use tonic::Streaming;

use crate::node::HeapRaft;
use crate::proposer::Proposer;
use crate::wire::decode_raft;
use crate::wire::encode_raft;

pub struct RaftService {
    raft: HeapRaft,
    proposer: Arc<Proposer>,
}

impl RaftService {
    pub fn new(raft: HeapRaft, proposer: Arc<Proposer>) -> Self {
        Self { raft, proposer }
    }
}

fn bad_request(e: impl std::fmt::Display) -> Status {
    Status::invalid_argument(e.to_string())
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

#[tonic::async_trait]
impl RaftTransport for RaftService {
    async fn propose(&self, request: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let command: heap_machine::Command = decode_raft(&request.into_inner().payload).map_err(bad_request)?;
        // Forwarded once already: if this node is not the leader, the sender retries elsewhere.
        // The answer is (reply, log index) so the sender can wait until it has applied as far.
        let applied = self.proposer.propose_at(command, false).await?;
        Ok(Response::new(RaftMessage { payload: encode_raft(&applied).map_err(internal)? }))
    }

    async fn vote(&self, request: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let rpc = decode_raft(&request.into_inner().payload).map_err(bad_request)?;
        let reply = self.raft.vote(rpc).await.map_err(internal)?;
        Ok(Response::new(RaftMessage { payload: encode_raft(&reply).map_err(internal)? }))
    }

    async fn append_entries(&self, request: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let rpc = decode_raft(&request.into_inner().payload).map_err(bad_request)?;
        let reply = self.raft.append_entries(rpc).await.map_err(internal)?;
        Ok(Response::new(RaftMessage { payload: encode_raft(&reply).map_err(internal)? }))
    }

    async fn install_snapshot(
        &self,
        request: Request<Streaming<SnapshotChunk>>,
    ) -> Result<Response<RaftMessage>, Status> {
        let mut chunks = request.into_inner();
        let first = chunks
            .next()
            .await
            .ok_or_else(|| Status::invalid_argument("empty snapshot stream: the first chunk must carry the meta"))??;
        let (vote, meta): (Vote, SnapshotMeta) = decode_raft(&first.meta).map_err(bad_request)?;
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
        let reply = self.raft.install_full_snapshot(vote, Snapshot { meta, snapshot: data }).await.map_err(internal)?;
        Ok(Response::new(RaftMessage { payload: encode_raft(&reply).map_err(internal)? }))
    }
}
