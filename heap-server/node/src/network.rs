//! The Raft transport client: openraft's `RaftNetworkV2`. AppendEntries goes over the append link
//! (`append_link`); votes and snapshots over gRPC, one lazily connected channel per peer; both
//! over TLS with this node's certificate on a secured cluster, checking the peer's node name. Messages are openraft types encoded with bincode.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use openraft::errors::NetworkError;
use openraft::errors::RPCError;
use openraft::errors::ReplicationClosed;
use openraft::errors::StreamingError;
use openraft::errors::Unreachable;
use openraft::network::RPCOption;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use openraft::raft::SnapshotResponse;
use openraft::raft::TransferLeaderRequest;
use openraft::raft::TransferLeaderResponse;
use openraft::raft::VoteRequest;
use openraft::raft::VoteResponse;
use openraft::AnyError;
use openraft::EntryPayload;
use openraft::OptionalSend;
use openraft::RaftNetworkFactory;
use openraft::RaftNetworkV2;
use proto::raft::raft_transport_client::RaftTransportClient;
use proto::raft::RaftMessage;
use proto::raft::SnapshotChunk;
use proto::security::node_server_name;
use raft_store::Entry;
use raft_store::LogId;
use raft_store::Node;
use raft_store::NodeId;
use raft_store::Snapshot;
use raft_store::SnapshotData;
use raft_store::TypeConfig;
use raft_store::Vote;
use tonic::transport::Channel;

use crate::append_link::AppendLink;
use crate::append_link::LinkError;
use crate::limits::APPEND_ENTRIES_PAYLOAD_BYTES_MAX;
use crate::limits::APPEND_ENTRIES_TIMEOUT_MS;
use crate::limits::PEER_CONNECT_TIMEOUT_MS;
use crate::limits::RAFT_MESSAGE_SIZE_BYTES_MAX;
use crate::limits::SNAPSHOT_CHUNK_SIZE_BYTES;
use crate::limits::VOTE_RPC_TIMEOUT_MS_MIN;
use crate::tls::peer_endpoint;
use crate::tls::NodeTls;
use crate::wire::decode_raft;
use crate::wire::encode_raft;

/// Builds one `PeerConnection` per target node.
#[derive(Clone, Default)]
pub struct PeerNetwork {
    /// This node's TLS material; `None` on a plaintext test cluster.
    tls: Option<Arc<NodeTls>>,
}

impl PeerNetwork {
    pub fn new(tls: Option<Arc<NodeTls>>) -> Self {
        Self { tls }
    }
}

impl RaftNetworkFactory<TypeConfig> for PeerNetwork {
    type Network = PeerConnection;

    async fn new_client(&mut self, target: NodeId, node: &Node) -> Self::Network {
        PeerConnection::new(target, node, self.tls.as_deref())
    }
}

/// The transport to one peer. The channel reconnects by itself after failures.
pub struct PeerConnection {
    target: NodeId,
    client: Result<RaftTransportClient<Channel>, String>,
    link: AppendLink,
}

impl PeerConnection {
    fn new(target: NodeId, node: &Node, tls: Option<&NodeTls>) -> Self {
        let client = peer_endpoint(tls, &node.addr, &node_server_name(target)).map(|endpoint| {
            let channel = endpoint
                .connect_timeout(Duration::from_millis(PEER_CONNECT_TIMEOUT_MS))
                .tcp_nodelay(true)
                .connect_lazy();
            RaftTransportClient::new(channel)
                .max_decoding_message_size(RAFT_MESSAGE_SIZE_BYTES_MAX)
                .max_encoding_message_size(RAFT_MESSAGE_SIZE_BYTES_MAX)
        });
        let link_tls = tls.map(|tls| Arc::clone(&tls.link_client));
        Self { target, client, link: AppendLink::new(target, node.addr.clone(), link_tls) }
    }

    fn client(&self) -> Result<RaftTransportClient<Channel>, Unreachable<TypeConfig>> {
        self.client.clone().map_err(|e| Unreachable::new(&AnyError::error(e)))
    }
}

impl PeerConnection {
    /// One request/response RPC: encode, send within `ttl`, decode.
    async fn unary<Req, Resp, Call, Fut>(
        &self,
        rpc: &Req,
        ttl: Duration,
        call: Call,
    ) -> Result<Resp, RPCError<TypeConfig>>
    where
        Req: serde::Serialize,
        Resp: serde::de::DeserializeOwned,
        Call: FnOnce(RaftTransportClient<Channel>, RaftMessage) -> Fut,
        Fut: Future<Output = Result<tonic::Response<RaftMessage>, tonic::Status>>,
    {
        let client = self.client()?;
        let payload = encode_raft(rpc).map_err(codec_error)?;
        let reply = tokio::time::timeout(ttl, call(client, RaftMessage { payload }))
            .await
            .map_err(|_| timeout_error(self.target, ttl))?
            .map_err(|s| rpc_error(self.target, s))?;
        decode_raft(&reply.into_inner().payload).map_err(codec_error)
    }
}

/// How long a vote or pre-vote waits: openraft's soft deadline, at least `VOTE_RPC_TIMEOUT_MS_MIN`.
fn vote_ttl(option: &RPCOption) -> Duration {
    option.soft_ttl().max(Duration::from_millis(VOTE_RPC_TIMEOUT_MS_MIN))
}

/// A transport failure: connection-level problems make openraft back off, others are retried.
fn rpc_error(target: NodeId, status: tonic::Status) -> RPCError<TypeConfig> {
    match status.code() {
        tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::DeadlineExceeded => {
            RPCError::Unreachable(Unreachable::new(&AnyError::error(format!("node {target}: {status}"))))
        }
        _ => RPCError::Network(NetworkError::new(&AnyError::error(format!("node {target}: {status}")))),
    }
}

/// A link failure: no answer makes openraft back off; an answer it cannot use is retried.
fn link_error(error: LinkError) -> RPCError<TypeConfig> {
    if error.is_unreachable() {
        RPCError::Unreachable(Unreachable::new(&AnyError::error(error.to_string())))
    } else {
        RPCError::Network(NetworkError::new(&AnyError::error(error.to_string())))
    }
}

fn timeout_error(target: NodeId, ttl: Duration) -> RPCError<TypeConfig> {
    RPCError::Unreachable(Unreachable::new(&AnyError::error(format!(
        "node {target} did not answer within {} ms",
        ttl.as_millis()
    ))))
}

fn codec_error(e: impl std::fmt::Display) -> RPCError<TypeConfig> {
    RPCError::Network(NetworkError::new(&AnyError::error(e.to_string())))
}

/// The bytes an entry adds to an AppendEntries message, at least (its payload).
fn entry_payload_bytes(entry: &Entry) -> usize {
    match &entry.payload {
        EntryPayload::Blank => 0,
        EntryPayload::Normal(request) => request.payload.len(),
        EntryPayload::Membership(membership) => encode_raft(membership).map_or(0, |bytes| bytes.len()),
    }
}

/// Cuts `rpc` to the entries whose payloads fit `APPEND_ENTRIES_PAYLOAD_BYTES_MAX` (at least one),
/// so a batch of many large transactions never exceeds the transport's message limit. Returns the
/// last entry sent when entries were cut off.
fn limit_append_bytes(mut rpc: AppendEntriesRequest<TypeConfig>) -> (AppendEntriesRequest<TypeConfig>, Option<LogId>) {
    let mut total_bytes = 0usize;
    let mut keep = rpc.entries.len();
    for (i, entry) in rpc.entries.iter().enumerate() {
        total_bytes += entry_payload_bytes(entry);
        if i > 0 && total_bytes > APPEND_ENTRIES_PAYLOAD_BYTES_MAX {
            keep = i;
            break;
        }
    }
    if keep == rpc.entries.len() {
        return (rpc, None);
    }
    rpc.entries.truncate(keep);
    let last = rpc.entries.last().map(|entry| entry.log_id);
    (rpc, last)
}

/// The chunks of `data` to send, `SNAPSHOT_CHUNK_SIZE_BYTES` each, the first one carrying `meta`.
/// Read lazily (a snapshot file a chunk at a time, off the async threads), so a leader holds one
/// chunk per follower, never the image. A read error ends the stream short: the follower refuses
/// the cut snapshot and the leader sends it again later.
fn snapshot_chunks(meta: Vec<u8>, data: SnapshotData, target: u64) -> impl Stream<Item = SnapshotChunk> + Send {
    let chunk_count = data.len().div_ceil(SNAPSHOT_CHUNK_SIZE_BYTES as u64).max(1);
    futures::stream::unfold((0u64, Some(meta), data), move |(i, meta, data)| async move {
        if i == chunk_count {
            return None;
        }
        let offset = i * SNAPSHOT_CHUNK_SIZE_BYTES as u64;
        let reading = data.clone();
        let read = tokio::task::spawn_blocking(move || reading.read_chunk(offset, SNAPSHOT_CHUNK_SIZE_BYTES)).await;
        match read {
            Ok(Ok(chunk)) => Some((SnapshotChunk { meta: meta.unwrap_or_default(), data: chunk }, (i + 1, None, data))),
            Ok(Err(error)) => {
                tracing::warn!(%error, target, offset, "cannot read the snapshot to send; the follower gets it later");
                None
            }
            Err(error) => {
                tracing::warn!(%error, target, offset, "the snapshot reader stopped; the follower gets it later");
                None
            }
        }
    })
}

impl RaftNetworkV2<TypeConfig> for PeerConnection {
    type SnapshotData = SnapshotData;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        // Not openraft's TTL (3/4 of the heartbeat interval, 37 ms by default): under load a
        // follower's fsync alone can take longer, and a timeout counts as unreachable, which makes
        // openraft back off for hundreds of milliseconds (it capped throughput and set p99).
        let ttl = Duration::from_millis(APPEND_ENTRIES_TIMEOUT_MS);
        let (rpc, sent_last) = limit_append_bytes(rpc);
        let response = self.link.append_entries(&rpc, ttl).await.map_err(link_error)?;
        // A cut batch that the follower took whole is a partial success of the batch openraft sent:
        // it sends the rest next.
        Ok(match (response, sent_last) {
            (AppendEntriesResponse::Success, Some(last)) => AppendEntriesResponse::PartialSuccess(Some(last)),
            (response, _) => response,
        })
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&rpc, vote_ttl(&option), |mut client, message| async move { client.vote(message).await }).await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&rpc, vote_ttl(&option), |mut client, message| async move { client.pre_vote(message).await }).await
    }

    async fn transfer_leader(
        &mut self,
        rpc: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.unary(&rpc, option.soft_ttl(), |mut client, message| async move { client.transfer_leader(message).await })
            .await
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let mut client = self.client()?;
        let meta = encode_raft(&(vote, snapshot.meta.clone()))
            .map_err(|e| NetworkError::new(&AnyError::error(e.to_string())))?;
        let send = client.install_snapshot(snapshot_chunks(meta, snapshot.snapshot, self.target));
        let target = self.target;
        tokio::select! {
            closed = cancel => Err(StreamingError::Closed(closed)),
            reply = send => {
                let reply = reply.map_err(|s| match rpc_error(target, s) {
                    RPCError::Unreachable(u) => StreamingError::Unreachable(u),
                    other => StreamingError::Network(NetworkError::new(&AnyError::error(other.to_string()))),
                })?;
                decode_raft(&reply.into_inner().payload)
                    .map_err(|e| StreamingError::Network(NetworkError::new(&AnyError::error(e.to_string()))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use openraft::entry::RaftEntry;
    use openraft::vote::RaftLeaderIdExt;
    use raft_store::Request;

    use super::*;

    fn request(entry_bytes: &[usize]) -> AppendEntriesRequest<TypeConfig> {
        let leader = openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(1, 1);
        let entries = entry_bytes
            .iter()
            .enumerate()
            .map(|(i, bytes)| Entry::new_normal(LogId::new(leader, i as u64 + 1), Request { payload: vec![7; *bytes] }))
            .collect();
        AppendEntriesRequest { vote: Vote::new_committed(1, 1), prev_log_id: None, leader_commit: None, entries }
    }

    #[test]
    fn a_batch_within_the_byte_bound_is_sent_whole() {
        let (rpc, last) = limit_append_bytes(request(&[1000; 256]));
        assert_eq!(rpc.entries.len(), 256);
        assert_eq!(last, None, "nothing cut: the follower's Success stands");
    }

    #[test]
    fn a_batch_over_the_byte_bound_is_cut_after_the_crossing_entry() {
        let mib = 1024 * 1024;
        let (rpc, last) = limit_append_bytes(request(&[4 * mib, 4 * mib, 4 * mib, 4 * mib, 4 * mib, 4 * mib]));
        assert_eq!(rpc.entries.len(), 4, "16 MiB fit; the fifth entry would cross the bound");
        assert_eq!(last.map(|id| id.index), Some(4), "Success becomes PartialSuccess up to the last entry sent");
        assert!(encode_raft(&rpc).unwrap().len() < RAFT_MESSAGE_SIZE_BYTES_MAX);
    }

    #[test]
    fn one_entry_larger_than_the_bound_is_still_sent_alone() {
        let (rpc, last) = limit_append_bytes(request(&[APPEND_ENTRIES_PAYLOAD_BYTES_MAX + 1, 10]));
        assert_eq!(rpc.entries.len(), 1, "progress needs at least one entry per message");
        assert_eq!(last.map(|id| id.index), Some(1));
    }
}
