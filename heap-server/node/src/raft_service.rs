//! The Raft transport server: receives votes and snapshots from peers and hands them to the local
//! openraft instance (entries arrive over the append link, `append_link.rs`).

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

use crate::context::HeapRaft;
use crate::wire::decode_raft;
use crate::wire::encode_raft;

pub struct RaftService {
    raft: HeapRaft,
}

impl RaftService {
    pub fn new(raft: HeapRaft) -> Self {
        Self { raft }
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
    async fn vote(&self, request: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let rpc = decode_raft(&request.into_inner().payload).map_err(bad_request)?;
        let reply = self.raft.vote(rpc).await.map_err(internal)?;
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
