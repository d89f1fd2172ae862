//! The consensus gate: every Raft message from the network passes here before openraft sees it.
//! It checks that the connection may speak for the node the message claims to come from (its
//! certificate names that node) and that the message is plausible for this node's current term
//! and membership (`consensus_guard`, pure). A refused message is logged and answered with the
//! reason; openraft never sees it, so it can neither persist nor act on it.

use std::collections::BTreeSet;

use openraft::async_runtime::WatchReceiver;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::VoteRequest;
use raft_store::NodeId;
use raft_store::SnapshotMeta;
use raft_store::TypeConfig;
use raft_store::Vote;

use crate::consensus_guard;
use crate::consensus_guard::LocalView;
use crate::context::HeapRaft;
use crate::node_stream::PeerInfo;

#[derive(Debug, thiserror::Error)]
pub enum GateRefusal {
    #[error("the connection's certificate does not name node {claimed}, which the message claims to come from; only node {claimed} may send it")]
    NotThatNode { claimed: NodeId },
    #[error(transparent)]
    Implausible(#[from] consensus_guard::Refusal),
}

pub struct ConsensusGate {
    raft: HeapRaft,
    self_id: NodeId,
    /// The `--peers` of first start: members until the cluster has a membership of its own.
    /// `None` for a node started with `--join`: until the leader's first entries give it the
    /// membership, any node whose certificate proves the id it claims may reach it (only a
    /// member's leader can send it a log).
    configured_peers: Option<BTreeSet<NodeId>>,
}

fn claimed_node(vote: &Vote) -> NodeId {
    vote.leader_id().node_id
}

impl ConsensusGate {
    pub fn new(raft: HeapRaft, self_id: NodeId, configured_peers: Option<BTreeSet<NodeId>>) -> Self {
        Self { raft, self_id, configured_peers }
    }

    /// Runs `check` against this node's current term and membership.
    fn with_view<R>(&self, check: impl FnOnce(&LocalView) -> R) -> R {
        let receiver = self.raft.metrics();
        let metrics = receiver.borrow_watched();
        let membership = metrics.membership_config.membership();
        let formed = membership.nodes().next().is_some();
        let is_member = |id: NodeId| {
            if formed {
                membership.get_node(&id).is_some()
            } else {
                self.configured_peers.as_ref().is_none_or(|peers| peers.contains(&id))
            }
        };
        check(&LocalView { self_id: self.self_id, current_term: metrics.current_term, is_member: &is_member })
    }

    /// The sender the connection proved (when secured), after checking it may claim `claimed`.
    fn proven(&self, peer: &PeerInfo, claimed: NodeId) -> Result<Option<NodeId>, GateRefusal> {
        if !peer.may_speak_for(claimed) {
            return Err(GateRefusal::NotThatNode { claimed });
        }
        Ok(peer.secured.then_some(claimed))
    }

    pub fn vote(&self, peer: &PeerInfo, rpc: &VoteRequest<TypeConfig>) -> Result<(), GateRefusal> {
        let sender = self.proven(peer, claimed_node(&rpc.vote))?;
        Ok(self.with_view(|view| consensus_guard::check_vote(view, sender, rpc))?)
    }

    pub fn append_entries(&self, peer: &PeerInfo, rpc: &AppendEntriesRequest<TypeConfig>) -> Result<(), GateRefusal> {
        let sender = self.proven(peer, claimed_node(&rpc.vote))?;
        Ok(self.with_view(|view| consensus_guard::check_append_entries(view, sender, rpc))?)
    }

    pub fn snapshot(&self, peer: &PeerInfo, vote: &Vote, meta: &SnapshotMeta) -> Result<(), GateRefusal> {
        let sender = self.proven(peer, claimed_node(vote))?;
        Ok(self.with_view(|view| consensus_guard::check_snapshot(view, sender, vote, meta))?)
    }
}
