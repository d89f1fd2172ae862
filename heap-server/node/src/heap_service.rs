//! The client-facing `Heap` gRPC service. Any node accepts requests: commands go through the
//! `Proposer`, linearizable reads through the router's read index; when another node leads, the
//! client's request goes there once, the same way for both (`forward.rs`). A session request that
//! is still pending (a queued lock, a wait) is finished by the node that proposed it, when it
//! applies the request's final reply.
//!
//! Every request is authenticated first (`auth.rs`: the token names a credential with a role) and
//! refused unless the role allows it; sessions are bound to the credential that opened them (the
//! state machine checks the caller on every session request).

use std::sync::Arc;
use std::time::Duration;

use heap_machine as hm;
use openraft::async_runtime::WatchReceiver;
use proto::heap as pb;
use proto::heap::heap_server::Heap;
use tonic::metadata::AsciiMetadataValue;
use tonic::Request;
use tonic::Response;
use tonic::Status;

use crate::auth::require;
use crate::auth::Credential;
use crate::auth::Role;
use crate::context::NodeContext;
use crate::convert;
use crate::forward::authorization_of;
use crate::forward::forward;
use crate::forward::is_forwarded;
use crate::forward::Forwardable;
use crate::limits::CLIENT_REQUEST_TIMEOUT_MS;
use crate::limits::PENDING_WAIT_MS_MAX;
use crate::limits::WATCH_BUFFER_MESSAGES;
use crate::machine_adapter::HeapMachine;
use crate::node_stream::PeerInfo;
use crate::proposer::now_ms;
use crate::proposer::Proposal;
use crate::proposer::Proposer;
use crate::router::Route;
use crate::router::Router;
use crate::watch;

/// Who sent a request, as authenticated, and what forwarding it needs.
struct Caller {
    credential: Credential,
    /// The client's token header, sent on with the request if it is forwarded.
    authorization: Option<AsciiMetadataValue>,
    /// False for a request another node forwarded here: it is never forwarded again.
    may_forward: bool,
}

impl Caller {
    /// The credential as the state machine checks it on session requests.
    fn machine_caller(&self) -> hm::Caller {
        hm::Caller { name: self.credential.name.clone(), admin: self.credential.is_admin() }
    }
}

pub struct HeapService {
    node: Arc<NodeContext>,
    router: Arc<Router>,
    proposer: Arc<Proposer>,
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

impl HeapService {
    pub fn new(node: Arc<NodeContext>, router: Arc<Router>, proposer: Arc<Proposer>) -> Self {
        Self { node, router, proposer }
    }

    /// Sends the client's request to the leader at `addr` (see `forward.rs`).
    async fn forward<R: Forwardable>(
        &self,
        addr: &str,
        request: R,
        caller: &Caller,
    ) -> Result<Response<R::Answer>, Status> {
        forward(self.router.heap_client(addr)?, request, caller.authorization.clone()).await
    }

    /// Authenticates the request and checks that its credential's role allows `what`.
    fn caller<T>(&self, request: &Request<T>, needed: Role, what: &str) -> Result<Caller, Status> {
        let credential = self.node.authenticator.authenticate(request.metadata())?;
        require(&credential, needed, what)?;
        Ok(Caller { credential, authorization: authorization_of(request), may_forward: !is_forwarded(request) })
    }

    /// A linearizable read of this node's state machine: served here when this node is the
    /// leader (after a read-index round), otherwise forwarded once to the leader.
    async fn leader_read<Req: Forwardable, Local>(
        &self,
        request: Request<Req>,
        what: &str,
        local: Local,
    ) -> Result<Response<Req::Answer>, Status>
    where
        Local: FnOnce(&HeapMachine, u64) -> Req::Answer,
    {
        let caller = self.caller(&request, Role::Read, what)?;
        let request = request.into_inner();
        if let Route::Forward(addr) = self.router.linearizable(caller.may_forward).await? {
            return self.forward(&addr, request, &caller).await;
        }
        self.node.store.read(local).map(Response::new).map_err(internal)
    }

    /// Waits (bounded) until this node has applied `index`, for local reads.
    async fn wait_applied(&self, index: u64) -> Result<(), Status> {
        let timeout = Duration::from_millis(CLIENT_REQUEST_TIMEOUT_MS);
        self.node.raft.wait(Some(timeout)).applied_index_at_least(Some(index), "local read").await.map(|_| ()).map_err(
            |e| {
                Status::unavailable(format!(
                    "node {} has not applied index {index} within {CLIENT_REQUEST_TIMEOUT_MS} ms ({e}); retry or read from another node",
                    self.node.id
                ))
            },
        )
    }

    /// Waits until this node has applied the final reply of a pending session request, for at
    /// most `PENDING_WAIT_MS_MAX`; then answers `Pending` (the client sends the request again).
    /// `log_index` is where the request was applied: until this node has applied that far, its
    /// view of the session (even "unknown session") is not yet the request's.
    async fn finish_pending(&self, session_id: u64, sequence: u64, log_index: u64) -> Result<hm::Reply, Status> {
        let mut applied = self.node.store.subscribe_applied();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(PENDING_WAIT_MS_MAX);
        loop {
            if *applied.borrow_and_update() < log_index {
                match tokio::time::timeout_at(deadline, applied.changed()).await {
                    Ok(Ok(())) => continue,
                    Ok(Err(_)) => return Err(Status::unavailable("the node is shutting down; retry elsewhere")),
                    Err(_) => return Ok(hm::Reply::Pending),
                }
            }
            let state = self
                .node
                .store
                .read(|machine, _| machine.heap.request_state(session_id, sequence).into_owned())
                .map_err(internal)?;
            match state {
                hm::OwnedRequestState::Final(reply) => return Ok(reply),
                hm::OwnedRequestState::UnknownSession => {
                    return Ok(hm::Reply::Rejected(hm::Rejection::SessionExpired { session_id }))
                }
                // Pending, or not applied on this node yet: wait for the next apply.
                hm::OwnedRequestState::Pending | hm::OwnedRequestState::NotApplied => {}
            }
            match tokio::time::timeout_at(deadline, applied.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(Status::unavailable("the node is shutting down; retry elsewhere")),
                Err(_) => return Ok(hm::Reply::Pending),
            }
        }
    }
}

/// The role a session command needs: reading (keep-alive, close, read locks and their release
/// without a commit, holds) or writing (transactions, write locks, commits at release, wait and notify,
/// which work on write locks).
fn session_role(command: &hm::SessionCommand) -> (Role, &'static str) {
    use hm::SessionCommand as C;
    match command {
        C::KeepAlive => (Role::Read, "KeepAlive"),
        C::Close => (Role::Read, "Close"),
        C::Lock { mode: hm::LockMode::Read, .. } => (Role::Read, "a read lock"),
        C::Unlock { commit: None, .. } => (Role::Read, "Unlock"),
        C::Lock { mode: hm::LockMode::Write, .. } => (Role::Write, "a write lock"),
        C::Unlock { commit: Some(_), .. } => (Role::Write, "a commit at unlock"),
        C::Transaction(_) => (Role::Write, "a transaction"),
        C::Wait { .. } | C::WaitAs { .. } => (Role::Write, "Wait"),
        C::Notify { .. } => (Role::Write, "Notify"),
        // Holding what one reads is part of reading: it keeps those objects from the collector.
        C::Hold { .. } => (Role::Read, "Hold"),
        C::Release { .. } => (Role::Read, "Release"),
    }
}

#[tonic::async_trait]
impl Heap for HeapService {
    async fn commit(&self, request: Request<pb::CommitRequest>) -> Result<Response<pb::CommitResponse>, Status> {
        let caller = self.caller(&request, Role::Write, "Commit")?;
        let request = request.into_inner();
        let transaction = convert::transaction_from_pb(request.transaction.as_ref())
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        match self.proposer.propose(hm::Command::Transaction(transaction), caller.may_forward).await? {
            Proposal::Applied { reply, .. } => Ok(Response::new(convert::reply_to_pb(reply))),
            Proposal::Forward(leader) => self.forward(&leader, request, &caller).await,
        }
    }

    async fn read(&self, request: Request<pb::ReadRequest>) -> Result<Response<pb::ReadResponse>, Status> {
        let caller = self.caller(&request, Role::Read, "Read")?;
        let may_forward = caller.may_forward;
        let request = request.into_inner();
        if request.local {
            // A follower learns of new commits only with the leader's next message, which can be
            // a heartbeat away; the leader has applied everything it acknowledged. So a local read
            // this node cannot answer yet goes (once) to the leader instead of waiting here.
            let applied = self.node.store.last_applied().map_err(internal)?.map(|id| id.index).unwrap_or(0);
            // Only a read this node cannot answer yet looks up the leader (one metrics borrow).
            let leader_addr = if applied < request.min_applied_index && may_forward {
                self.router.known_leader_elsewhere()
            } else {
                None
            };
            match leader_addr {
                Some(addr) => return self.forward(&addr, request, &caller).await,
                None => self.wait_applied(request.min_applied_index).await?,
            }
        } else if self.node.unsafe_stale_reads {
            // The planted bug (`--unsafe-stale-reads`, test-only): no read-index round, no
            // forwarding. A deposed or isolated leader, or a lagging follower, answers with
            // whatever it has applied, which the chaos tests' checker must report as stale.
        } else if let Route::Forward(addr) = self.router.linearizable(may_forward).await? {
            return self.forward(&addr, request, &caller).await;
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
            .map_err(internal)?
            .map_err(|rejection| Status::invalid_argument(rejection.to_string()))?;
        Ok(Response::new(response))
    }

    async fn list_roots(
        &self,
        request: Request<pb::ListRootsRequest>,
    ) -> Result<Response<pb::ListRootsResponse>, Status> {
        self.leader_read(request, "ListRoots", |machine, applied_index| pb::ListRootsResponse {
            applied_index,
            roots: machine.heap.roots().into_iter().map(|(name, id)| pb::RootBinding { name, id }).collect(),
        })
        .await
    }

    async fn status(&self, request: Request<pb::StatusRequest>) -> Result<Response<pb::StatusResponse>, Status> {
        // A node's certificate admits it too: a joining node checks its id against the members.
        let from_node = request.extensions().get::<PeerInfo>().is_some_and(PeerInfo::is_cluster_node);
        if !from_node {
            self.caller(&request, Role::Read, "Status")?;
        }
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
            disk_free_bytes: self.node.disk.free_bytes(),
            disk_warning: self.node.disk.warning().unwrap_or_default(),
            membership_index: metrics.membership_config.log_id().as_ref().map_or(0, |log_id| log_id.index),
        }))
    }

    async fn allocate_ids(
        &self,
        request: Request<pb::AllocateIdsRequest>,
    ) -> Result<Response<pb::AllocateIdsResponse>, Status> {
        let caller = self.caller(&request, Role::Write, "AllocateIds")?;
        let request = request.into_inner();
        let command = hm::Command::AllocateIds { count: request.count };
        let reply = match self.proposer.propose(command, caller.may_forward).await? {
            Proposal::Applied { reply, .. } => reply,
            Proposal::Forward(leader) => return self.forward(&leader, request, &caller).await,
        };
        match reply {
            hm::Reply::IdRange { first, count } => Ok(Response::new(pb::AllocateIdsResponse { first, count })),
            hm::Reply::Rejected(rejection) => Err(Status::invalid_argument(rejection.to_string())),
            other => Err(internal(format!("unexpected reply to AllocateIds: {other:?}"))),
        }
    }

    type WatchStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::Changes, Status>> + Send>>;

    async fn watch(&self, request: Request<pb::WatchRequest>) -> Result<Response<Self::WatchStream>, Status> {
        self.caller(&request, Role::Read, "Watch")?;
        let (sender, receiver) = tokio::sync::mpsc::channel(WATCH_BUFFER_MESSAGES);
        tokio::spawn(watch::pump(self.node.changes.subscribe(), self.node.store.subscribe_applied(), sender));
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver))))
    }

    async fn open_session(
        &self,
        request: Request<pb::OpenSessionRequest>,
    ) -> Result<Response<pb::OpenSessionResponse>, Status> {
        // Readers may hold sessions too: read locks make multi-object reads consistent.
        let caller = self.caller(&request, Role::Read, "OpenSession")?;
        let request = request.into_inner();
        let command = hm::Command::OpenSession {
            client: request.client.clone(),
            ttl_ms: request.ttl_ms,
            owner: caller.credential.name.clone(),
        };
        let reply = match self.proposer.propose(command, caller.may_forward).await? {
            Proposal::Applied { reply, .. } => reply,
            Proposal::Forward(leader) => return self.forward(&leader, request, &caller).await,
        };
        match reply {
            hm::Reply::SessionOpened { session_id, ttl_ms } => {
                Ok(Response::new(pb::OpenSessionResponse { session_id, ttl_ms }))
            }
            hm::Reply::Rejected(rejection) => Err(Status::invalid_argument(rejection.to_string())),
            other => Err(internal(format!("unexpected reply to OpenSession: {other:?}"))),
        }
    }

    async fn session(&self, request: Request<pb::SessionRequest>) -> Result<Response<pb::SessionResponse>, Status> {
        let caller = self.caller(&request, Role::Read, "Session")?;
        let request = request.into_inner();
        let command = convert::session_request_from_pb(&request, caller.machine_caller())
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let (needed, what) = session_role(&command.command);
        require(&caller.credential, needed, what)?;
        let (session_id, sequence) = (command.session_id, command.sequence);
        let reply = match self.proposer.propose(hm::Command::Session(command), caller.may_forward).await? {
            Proposal::Applied { reply: hm::Reply::Pending, log_index } => {
                self.finish_pending(session_id, sequence, log_index).await?
            }
            Proposal::Applied { reply, .. } => reply,
            Proposal::Forward(leader) => return self.forward(&leader, request, &caller).await,
        };
        Ok(Response::new(convert::session_reply_to_pb(reply)))
    }

    async fn list_locks(
        &self,
        request: Request<pb::ListLocksRequest>,
    ) -> Result<Response<pb::ListLocksResponse>, Status> {
        self.leader_read(request, "ListLocks", |machine, applied_index| pb::ListLocksResponse {
            applied_index,
            locks: machine.heap.locks().iter().map(convert::lock_info_to_pb).collect(),
        })
        .await
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let now = now_ms();
        self.leader_read(request, "ListSessions", |machine, applied_index| pb::ListSessionsResponse {
            applied_index,
            sessions: machine
                .heap
                .sessions()
                .into_iter()
                .map(|s| pb::SessionInfo {
                    id: s.id,
                    client: s.client,
                    ttl_ms: s.ttl_ms,
                    expires_in_ms: s.expires_at_ms.saturating_sub(now),
                    owner: s.owner,
                })
                .collect(),
        })
        .await
    }
}
