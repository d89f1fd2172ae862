//! The client-facing `Heap` gRPC service. Any node accepts requests: writes and linearizable reads
//! run on the leader, so a follower forwards them there (one hop; a forwarded request that lands on
//! a non-leader is answered "unavailable, retry" rather than forwarded again).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;
use std::time::SystemTime;

use heap_machine as hm;
use openraft::async_runtime::WatchReceiver;
use openraft::errors::ClientWriteError;
use openraft::errors::ForwardToLeader;
use openraft::errors::LinearizableReadError;
use openraft::errors::RaftError;
use openraft::raft::ReadPolicy;
use proto::heap as pb;
use proto::heap::heap_client::HeapClient;
use proto::heap::heap_server::Heap;
use raft_store::Request as RaftRequest;
use raft_store::TypeConfig;
use tonic::transport::Channel;
use tonic::transport::Endpoint;
use tonic::Request;
use tonic::Response;
use tonic::Status;

use crate::convert;
use crate::limits::CLIENT_MESSAGE_SIZE_BYTES_MAX;
use crate::limits::CLIENT_REQUEST_TIMEOUT_MS;
use crate::limits::PEER_CONNECT_TIMEOUT_MS;
use crate::node::NodeContext;

/// Pause between attempts while a request waits for a leader to emerge (bounded by the deadline).
const LEADER_RETRY_INTERVAL_MS: u64 = 10;

/// Marks a request a follower forwarded to the leader, so it is never forwarded twice.
const FORWARDED_HEADER: &str = "x-sovereign-forwarded";

pub struct HeapService {
    node: Arc<NodeContext>,
    leader_clients: Mutex<BTreeMap<String, HeapClient<Channel>>>,
}

enum Route {
    /// This node is the leader (or the request was forwarded here): serve it.
    Local,
    /// Forward to the leader at this address.
    Forward(String),
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn not_leader(node: u64, leader: &ForwardToLeader<TypeConfig>) -> Status {
    match (&leader.leader_id, &leader.leader_node) {
        (Some(id), Some(addr)) => Status::unavailable(format!(
            "node {node} is not the leader; the leader is node {id} at {}; retry there",
            addr.addr
        )),
        _ => Status::unavailable(format!("node {node} knows no leader (an election is running); retry shortly")),
    }
}

impl HeapService {
    pub fn new(node: Arc<NodeContext>) -> Self {
        Self { node, leader_clients: Mutex::new(BTreeMap::new()) }
    }

    fn client_for(&self, addr: &str) -> Result<HeapClient<Channel>, Status> {
        let mut clients = self.leader_clients.lock().map_err(|_| Status::internal("client cache lock poisoned"))?;
        if let Some(client) = clients.get(addr) {
            return Ok(client.clone());
        }
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| Status::internal(format!("invalid leader address {addr:?}: {e}")))?
            .connect_timeout(Duration::from_millis(PEER_CONNECT_TIMEOUT_MS))
            .timeout(Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS))
            .tcp_nodelay(true);
        let client = HeapClient::new(endpoint.connect_lazy())
            .max_decoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX)
            .max_encoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX);
        clients.insert(addr.to_string(), client.clone());
        Ok(client)
    }

    /// Decides where a request that must run on the leader goes, waiting (bounded) for an
    /// election to finish when no leader is known.
    async fn route(
        &self,
        forwarded: bool,
        leader: ForwardToLeader<TypeConfig>,
        deadline: Instant,
    ) -> Result<Route, Status> {
        if let (Some(id), Some(node)) = (leader.leader_id, &leader.leader_node) {
            if id != self.node.id {
                if forwarded {
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

    fn forward<T>(request: T) -> Request<T> {
        let mut request = Request::new(request);
        request.metadata_mut().insert(FORWARDED_HEADER, tonic::metadata::MetadataValue::from_static("1"));
        request
    }

    /// Waits (bounded) until this node has applied `index`, for local reads.
    async fn wait_applied(&self, index: u64) -> Result<(), Status> {
        let timeout = Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS);
        self.node
            .raft
            .wait(Some(timeout))
            .applied_index_at_least(Some(index), "local read")
            .await
            .map(|_| ())
            .map_err(|e| {
                Status::unavailable(format!(
                    "node {} has not applied index {index} within {CLIENT_REQUEST_TIMEOUT_MS} ms ({e}); retry or read from another node",
                    self.node.id
                ))
            })
    }

    /// Waits until this node may serve a linearizable read, or says where to forward it.
    async fn linearizable(&self, forwarded: bool) -> Result<Route, Status> {
        let deadline = Instant::now() + Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS);
        loop {
            match self.node.raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
                Ok(_) => return Ok(Route::Local),
                Err(RaftError::APIError(LinearizableReadError::ForwardToLeader(leader))) => {
                    match self.route(forwarded, leader, deadline).await? {
                        Route::Local => continue,
                        forward => return Ok(forward),
                    }
                }
                Err(RaftError::APIError(LinearizableReadError::QuorumNotEnough(e))) => {
                    return Err(Status::unavailable(format!("{e}; a majority is unreachable, retry later")))
                }
                Err(RaftError::Fatal(e)) => {
                    return Err(Status::internal(format!("node {} stopped: {e}", self.node.id)))
                }
            }
        }
    }
}

#[tonic::async_trait]
impl Heap for HeapService {
    async fn commit(&self, request: Request<pb::CommitRequest>) -> Result<Response<pb::CommitResponse>, Status> {
        let forwarded = request.metadata().contains_key(FORWARDED_HEADER);
        let request = request.into_inner();
        let transaction = convert::transaction_from_pb(request.transaction.clone())
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let deadline = Instant::now() + Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS);
        loop {
            let envelope =
                hm::Envelope { leader_time_ms: now_ms(), command: hm::Command::Transaction(transaction.clone()) };
            let payload = hm::encode_envelope(&envelope);
            if payload.len() as u64 > hm::TRANSACTION_SIZE_BYTES_MAX {
                return Err(Status::invalid_argument(format!(
                    "the transaction is {} bytes encoded, over the limit of {}; split it",
                    payload.len(),
                    hm::TRANSACTION_SIZE_BYTES_MAX
                )));
            }
            match self.node.raft.client_write(RaftRequest { payload }).await {
                Ok(written) => {
                    let reply = hm::decode_reply(&written.data.payload)
                        .map_err(|e| Status::internal(format!("undecodable state machine reply: {e}")))?;
                    return Ok(Response::new(convert::reply_to_pb(reply)));
                }
                Err(RaftError::APIError(ClientWriteError::ForwardToLeader(leader))) => {
                    match self.route(forwarded, leader, deadline).await? {
                        Route::Local => continue,
                        Route::Forward(addr) => {
                            return self.client_for(&addr)?.commit(Self::forward(request)).await;
                        }
                    }
                }
                Err(RaftError::APIError(ClientWriteError::LogEntryDiscarded(_))) => {
                    return Err(Status::unavailable(
                        "the leader changed while committing; the outcome is unknown: read before retrying",
                    ))
                }
                Err(RaftError::APIError(e)) => return Err(Status::failed_precondition(e.to_string())),
                Err(RaftError::Fatal(e)) => {
                    return Err(Status::internal(format!("node {} stopped: {e}", self.node.id)))
                }
            }
        }
    }

    async fn read(&self, request: Request<pb::ReadRequest>) -> Result<Response<pb::ReadResponse>, Status> {
        let forwarded = request.metadata().contains_key(FORWARDED_HEADER);
        let request = request.into_inner();
        if request.local {
            self.wait_applied(request.min_applied_index).await?;
        } else if let Route::Forward(addr) = self.linearizable(forwarded).await? {
            return self.client_for(&addr)?.read(Self::forward(request)).await;
        }
        let query = hm::GraphQuery {
            roots: request.roots,
            ids: request.ids,
            depth: request.depth,
            // 0 asks for the server's maximum.
            max_objects: if request.max_objects == 0 { hm::GRAPH_READ_OBJECTS_MAX as u32 } else { request.max_objects },
        };
        let response = self
            .node
            .store
            .read(|machine, applied_index| {
                machine.heap.read_graph(&query).map(|graph| convert::graph_to_pb(graph, applied_index))
            })
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(|rejection| Status::invalid_argument(rejection.to_string()))?;
        Ok(Response::new(response))
    }

    async fn list_roots(
        &self,
        request: Request<pb::ListRootsRequest>,
    ) -> Result<Response<pb::ListRootsResponse>, Status> {
        let forwarded = request.metadata().contains_key(FORWARDED_HEADER);
        let request = request.into_inner();
        if let Route::Forward(addr) = self.linearizable(forwarded).await? {
            return self.client_for(&addr)?.list_roots(Self::forward(request)).await;
        }
        let response = self
            .node
            .store
            .read(|machine, applied_index| pb::ListRootsResponse {
                applied_index,
                roots: machine.heap.roots().into_iter().map(|(name, id)| pb::RootBinding { name, id }).collect(),
            })
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(response))
    }

    async fn status(&self, _request: Request<pb::StatusRequest>) -> Result<Response<pb::StatusResponse>, Status> {
        let metrics = self.node.raft.metrics().borrow_watched().clone();
        let index = |id: Option<raft_store::LogId>| id.map(|id| id.index).unwrap_or(0);
        Ok(Response::new(pb::StatusResponse {
            node_id: self.node.id,
            addr: self.node.addr.clone(),
            leader_id: metrics.current_leader.unwrap_or(0),
            term: metrics.current_term,
            state: format!("{:?}", metrics.state),
            members: metrics
                .membership_config
                .nodes()
                .map(|(id, node)| pb::Member { id: *id, addr: node.addr.clone() })
                .collect(),
            last_applied: index(metrics.last_applied),
            last_log_index: metrics.last_log_index.unwrap_or(0),
            committed: index(metrics.cluster_committed),
            snapshot_index: index(metrics.snapshot),
            purged_index: index(metrics.purged),
        }))
    }
}
