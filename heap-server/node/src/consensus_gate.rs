//! The consensus gate: every Raft message from the network passes here before openraft sees it.
//! It checks that the connection may speak for the node the message claims to come from (its
//! certificate names that node) and that the message is plausible for this node's current term
//! and membership (`consensus_guard`, pure). A refused message is logged and answered with the
//! reason; openraft never sees it, so it can neither persist nor act on it.
//!
//! A node that lags behind a membership change can hold a membership without the node that now
//! leads (added after it fell behind): it would refuse that leader's log for ever. So leader
//! traffic from a node outside the membership is counted, and `member_check` asks the members
//! this node knows for theirs; a newer membership they report is admitted here (`admit_newer`)
//! for the leader's appends and snapshots until the node's own log catches up. Votes are judged
//! on the node's own membership only.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::sync::RwLock;
use std::time::Instant;

use openraft::async_runtime::WatchReceiver;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::TransferLeaderRequest;
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
    /// A newer membership (its log index, its node ids) that members reported, for leader traffic.
    newer: RwLock<Option<(u64, BTreeSet<NodeId>)>>,
    /// Appends and snapshots refused because their sender was not a member: a signal to ask.
    not_member_refusals: AtomicU64,
    /// When leader traffic (an append or a snapshot) was last admitted, or the gate was made.
    /// With pre-vote a follower the leader stopped talking to keeps naming that leader, so a
    /// removed follower learns of its removal from this silence (`member_check`).
    leader_traffic_at: Mutex<Instant>,
}

fn claimed_node(vote: &Vote) -> NodeId {
    vote.leader_id().node_id
}

impl ConsensusGate {
    pub fn new(raft: HeapRaft, self_id: NodeId, configured_peers: Option<BTreeSet<NodeId>>) -> Self {
        Self {
            raft,
            self_id,
            configured_peers,
            newer: RwLock::new(None),
            not_member_refusals: AtomicU64::new(0),
            leader_traffic_at: Mutex::new(Instant::now()),
        }
    }

    /// Admits the members of a newer membership (at log `index`) that other members reported,
    /// for leader traffic, until this node's own membership reaches that index.
    pub fn admit_newer(&self, index: u64, members: BTreeSet<NodeId>) {
        if let Ok(mut newer) = self.newer.write() {
            if newer.as_ref().is_none_or(|(known, _)| index > *known) {
                tracing::info!(index, ?members, "admitting a newer membership the cluster reports (this node lags)");
                *newer = Some((index, members));
            }
        }
    }

    /// How many appends and snapshots were refused because their sender was not a member.
    pub fn not_member_refusals(&self) -> u64 {
        self.not_member_refusals.load(Ordering::Relaxed)
    }

    /// Milliseconds since leader traffic was last admitted (or since the gate was made).
    pub fn millis_since_leader_traffic(&self) -> u64 {
        let at = self.leader_traffic_at.lock().map_or_else(|poisoned| *poisoned.into_inner(), |at| *at);
        u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Counts a refusal of leader traffic for a sender outside the membership, and notes the time
    /// of admitted leader traffic.
    fn note(&self, result: Result<(), GateRefusal>) -> Result<(), GateRefusal> {
        match &result {
            Err(GateRefusal::Implausible(consensus_guard::Refusal::NotMember { .. })) => {
                self.not_member_refusals.fetch_add(1, Ordering::Relaxed);
            }
            Ok(()) => {
                if let Ok(mut at) = self.leader_traffic_at.lock() {
                    *at = Instant::now();
                }
            }
            Err(_) => {}
        }
        result
    }

    /// Runs `check` against this node's current term and membership (and, for leader traffic, a
    /// newer membership the cluster reported).
    fn with_view<R>(&self, leader_traffic: bool, check: impl FnOnce(&LocalView) -> R) -> R {
        let receiver = self.raft.metrics();
        let metrics = receiver.borrow_watched();
        let membership = metrics.membership_config.membership();
        let own_index = metrics.membership_config.log_id().as_ref().map_or(0, |log_id| log_id.index);
        let newer = self.newer.read().ok().and_then(|newer| newer.clone()).filter(|(index, _)| *index > own_index);
        let formed = membership.nodes().next().is_some();
        let is_member = |id: NodeId| {
            if leader_traffic && newer.as_ref().is_some_and(|(_, members)| members.contains(&id)) {
                return true;
            }
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
        Ok(self.with_view(false, |view| consensus_guard::check_vote(view, sender, rpc))?)
    }

    pub fn transfer_leader(&self, peer: &PeerInfo, rpc: &TransferLeaderRequest<TypeConfig>) -> Result<(), GateRefusal> {
        let sender = self.proven(peer, claimed_node(rpc.from_leader()))?;
        self.note(
            self.with_view(true, |view| consensus_guard::check_transfer_leader(view, sender, rpc)).map_err(Into::into),
        )
    }

    pub fn append_entries(&self, peer: &PeerInfo, rpc: &AppendEntriesRequest<TypeConfig>) -> Result<(), GateRefusal> {
        let sender = self.proven(peer, claimed_node(&rpc.vote))?;
        self.note(
            self.with_view(true, |view| consensus_guard::check_append_entries(view, sender, rpc)).map_err(Into::into),
        )
    }

    pub fn snapshot(&self, peer: &PeerInfo, vote: &Vote, meta: &SnapshotMeta) -> Result<(), GateRefusal> {
        let sender = self.proven(peer, claimed_node(vote))?;
        self.note(
            self.with_view(true, |view| consensus_guard::check_snapshot(view, sender, vote, meta)).map_err(Into::into),
        )
    }
}
