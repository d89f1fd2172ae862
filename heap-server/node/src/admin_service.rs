//! The operators' `Admin` gRPC service: membership (`membership.rs`), backups
//! (`backup_stream.rs`) and the collector (`gc/`). Every call needs a credential with the admin
//! role. Any node accepts a call: a membership or collector call is forwarded once to the
//! leader (as `forward.rs` does for the heap service), with the caller's token, and
//! authenticated again there; a backup is served by the leader only (the client asks `Members`
//! where it is); a collector pause acts on the node that receives it (heapctl asks every node).

use std::sync::Arc;
use std::time::Duration;

use proto::admin as pb;
use proto::admin::admin_client::AdminClient;
use proto::admin::admin_server::Admin;
use tonic::transport::Channel;
use tonic::Request;
use tonic::Response;
use tonic::Status;

use crate::auth::require;
use crate::auth::Role;
use crate::backup_stream::snapshot_save;
use crate::backup_stream::SnapshotSaveStream;
use crate::context::NodeContext;
use crate::forward::authorization_of;
use crate::forward::is_forwarded;
use crate::forward::mark_forwarded;
use crate::gc;
use crate::gc::status::gc_status;
use crate::gc::sweep::paused_status;
use crate::gc::GC_PAUSE_DRAIN_TIMEOUT_MS;
use crate::gc::GC_RUN_TIMEOUT_MS;
use crate::limits::CLIENT_REQUEST_TIMEOUT_MS;
use crate::membership;
use crate::membership::MEMBER_CATCH_UP_TIMEOUT_MS;
use crate::router::Route;
use crate::router::Router;

/// How long a forwarded membership change may take at the leader: a new node's catch-up and
/// the change's commit.
const ADMIN_FORWARD_TIMEOUT_MS: u64 = MEMBER_CATCH_UP_TIMEOUT_MS + CLIENT_REQUEST_TIMEOUT_MS;

pub struct AdminService {
    node: Arc<NodeContext>,
    router: Arc<Router>,
}

/// Where a call runs: here (this node leads) or at the leader, reached through this stub.
enum Place {
    Here,
    Leader(AdminClient<Channel>),
}

impl AdminService {
    pub fn new(node: Arc<NodeContext>, router: Arc<Router>) -> Self {
        Self { node, router }
    }

    /// Authenticates the call as an admin's and finds where it runs (confirming leadership).
    async fn place<T>(&self, request: &Request<T>, what: &str) -> Result<Place, Status> {
        let credential = self.node.authenticator.authenticate(request.metadata())?;
        require(&credential, Role::Admin, what)?;
        match self.router.linearizable(!is_forwarded(request)).await? {
            Route::Local => Ok(Place::Here),
            Route::Forward(addr) => {
                let timeout = Duration::from_millis(ADMIN_FORWARD_TIMEOUT_MS);
                Ok(Place::Leader(self.router.admin_client(&addr, timeout)?))
            }
        }
    }

    /// The members view after a change (or on its own), from this node, the leader.
    fn members_here(&self) -> Response<pb::MembersResponse> {
        Response::new(membership::members_view(&self.node.raft))
    }

    /// A cycle on this node, the leader: refused while the collector is paused, ended early if a
    /// pause comes while it runs (the cycle proposes nothing more, so it would never finish).
    async fn gc_run_here(&self) -> Result<pb::GcRunResponse, Status> {
        let trigger = &self.node.gc_trigger;
        if trigger.is_paused() {
            return Err(paused_status(self.node.id));
        }
        let already_running = self.node.gc_stats.figures().cycle_running;
        let number = trigger.request();
        let timeout = Duration::from_millis(GC_RUN_TIMEOUT_MS);
        tokio::select! {
            served = tokio::time::timeout(timeout, trigger.served(number)) => {
                if served.is_err() {
                    return Err(Status::deadline_exceeded(format!(
                        "the collection cycle did not finish within {GC_RUN_TIMEOUT_MS} ms (leadership may \
                         have moved, or the heap is very large); see `heapctl gc status` and retry"
                    )));
                }
            }
            () = trigger.until_paused() => return Err(paused_status(self.node.id)),
        }
        let status = gc_status(&self.node)?;
        Ok(pb::GcRunResponse { already_running, status: Some(status) })
    }

    /// Pauses or resumes this node's collector; a pause answers once no Collect proposed before
    /// it is in flight, so nothing this node proposes commits after the answer.
    async fn gc_pause_here(&self, paused: bool) -> Result<pb::GcPauseResponse, Status> {
        let trigger = &self.node.gc_trigger;
        let was_paused = trigger.set_paused(paused);
        let node_id = self.node.id;
        tracing::info!(node_id, paused, was_paused, "collector pause set by an operator");
        if paused {
            let drain = Duration::from_millis(GC_PAUSE_DRAIN_TIMEOUT_MS);
            if tokio::time::timeout(drain, trigger.drained()).await.is_err() {
                return Err(Status::deadline_exceeded(format!(
                    "the collector of node {node_id} is paused, but a Collect entry it proposed before is still \
                     uncommitted after {GC_PAUSE_DRAIN_TIMEOUT_MS} ms (is there a quorum?); it may still commit, \
                     nothing more will be proposed; run `heapctl gc pause` again to check"
                )));
            }
        }
        Ok(pb::GcPauseResponse { node_id, paused, was_paused, leads: gc::leads(&self.node) })
    }
}

#[tonic::async_trait]
impl Admin for AdminService {
    type SnapshotSaveStream = SnapshotSaveStream;

    async fn gc_status(&self, request: Request<pb::GcStatusRequest>) -> Result<Response<pb::GcStatusResponse>, Status> {
        match self.place(&request, "reading the collector's status").await? {
            Place::Here => Ok(Response::new(gc_status(&self.node)?)),
            Place::Leader(mut leader) => {
                let authorization = authorization_of(&request);
                leader.gc_status(mark_forwarded(request.into_inner(), authorization)).await
            }
        }
    }

    async fn gc_run(&self, request: Request<pb::GcRunRequest>) -> Result<Response<pb::GcRunResponse>, Status> {
        match self.place(&request, "running a collection cycle").await? {
            Place::Here => self.gc_run_here().await.map(Response::new),
            Place::Leader(mut leader) => {
                let authorization = authorization_of(&request);
                leader.gc_run(mark_forwarded(request.into_inner(), authorization)).await
            }
        }
    }

    async fn gc_pause(&self, request: Request<pb::GcPauseRequest>) -> Result<Response<pb::GcPauseResponse>, Status> {
        let credential = self.node.authenticator.authenticate(request.metadata())?;
        let paused = request.into_inner().paused;
        require(&credential, Role::Admin, if paused { "pausing the collector" } else { "resuming the collector" })?;
        // Not forwarded: the pause is this node's, so it holds when this node leads later.
        self.gc_pause_here(paused).await.map(Response::new)
    }

    async fn members(&self, request: Request<pb::MembersRequest>) -> Result<Response<pb::MembersResponse>, Status> {
        match self.place(&request, "listing the members").await? {
            Place::Here => Ok(self.members_here()),
            Place::Leader(mut leader) => {
                let authorization = authorization_of(&request);
                leader.members(mark_forwarded(request.into_inner(), authorization)).await
            }
        }
    }

    async fn add_member(
        &self,
        request: Request<pb::AddMemberRequest>,
    ) -> Result<Response<pb::MembersResponse>, Status> {
        match self.place(&request, "adding a member").await? {
            Place::Here => {
                let add = request.into_inner();
                membership::add(&self.node.raft, add.id, &add.addr).await?;
                Ok(self.members_here())
            }
            Place::Leader(mut leader) => {
                let authorization = authorization_of(&request);
                leader.add_member(mark_forwarded(request.into_inner(), authorization)).await
            }
        }
    }

    async fn remove_member(
        &self,
        request: Request<pb::RemoveMemberRequest>,
    ) -> Result<Response<pb::MembersResponse>, Status> {
        match self.place(&request, "removing a member").await? {
            Place::Here => {
                membership::remove(&self.node.raft, request.into_inner().id).await?;
                Ok(self.members_here())
            }
            Place::Leader(mut leader) => {
                let authorization = authorization_of(&request);
                leader.remove_member(mark_forwarded(request.into_inner(), authorization)).await
            }
        }
    }

    async fn replace_member(
        &self,
        request: Request<pb::ReplaceMemberRequest>,
    ) -> Result<Response<pb::MembersResponse>, Status> {
        match self.place(&request, "replacing a member").await? {
            Place::Here => {
                let replace = request.into_inner();
                membership::replace(&self.node.raft, replace.old_id, replace.new_id, &replace.new_addr).await?;
                Ok(self.members_here())
            }
            Place::Leader(mut leader) => {
                let authorization = authorization_of(&request);
                leader.replace_member(mark_forwarded(request.into_inner(), authorization)).await
            }
        }
    }

    async fn transfer_leader(
        &self,
        request: Request<pb::TransferLeaderRequest>,
    ) -> Result<Response<pb::MembersResponse>, Status> {
        match self.place(&request, "handing leadership over").await? {
            Place::Here => {
                membership::transfer_leader(&self.node.raft, request.into_inner().id).await?;
                Ok(self.members_here())
            }
            Place::Leader(mut leader) => {
                let authorization = authorization_of(&request);
                leader.transfer_leader(mark_forwarded(request.into_inner(), authorization)).await
            }
        }
    }

    async fn snapshot_save(
        &self,
        request: Request<pb::SnapshotSaveRequest>,
    ) -> Result<Response<SnapshotSaveStream>, Status> {
        let credential = self.node.authenticator.authenticate(request.metadata())?;
        require(&credential, Role::Admin, "a backup")?;
        // A stream is not forwarded: on another node this answers "not the leader; the leader is
        // node N at ADDR" (the client asks Members where the leader is); here it is the read index.
        self.router.linearizable(false).await?;
        snapshot_save(Arc::clone(&self.node)).await.map(Response::new)
    }
}
