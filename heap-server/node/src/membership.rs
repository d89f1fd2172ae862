//! Membership changes, run on the leader: add a node (a learner first, a voter once it has caught
//! up), remove one, replace one; and the members view with each member's replication progress.
//!
//! Each change is checked first against the membership in force (`plan_*`, pure), so a change
//! that cannot be meant (removing the last voter, re-adding a member at another address) is refused
//! with a reason before anything is proposed. Every change is idempotent: after a timeout or a
//! leader change the operator runs the same command again.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Duration;

use openraft::async_runtime::WatchReceiver;
use openraft::errors::ClientWriteError;
use openraft::errors::RaftError;
use openraft::impls::BasicNode;
use openraft::ChangeMembers;
use proto::admin as pb;
use raft_store::TypeConfig;
use tonic::Status;

use crate::context::HeapRaft;
use crate::limits::PEERS_MAX;
use crate::replication::matched_indexes;

/// How long a new node may take to catch up before it is promoted; after this the change is
/// refused and the node stays a learner (run the command again once it runs and is reachable).
pub const MEMBER_CATCH_UP_TIMEOUT_MS: u64 = 60_000;
/// A learner within this many entries of the leader's last log index counts as caught up: the
/// rest arrives in the next heartbeats, and waiting for an exact match under write load could
/// take for ever.
pub const MEMBER_CATCH_UP_LAG_ENTRIES_MAX: u64 = 1_000;
/// Longest address accepted for a member (HOST:PORT).
pub const MEMBER_ADDR_BYTES_MAX: usize = 256;

/// The membership in force: every node with its address, and which of them vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members {
    pub nodes: BTreeMap<u64, String>,
    pub voters: BTreeSet<u64>,
}

/// What adding a node takes, given the membership in force.
#[derive(Debug, PartialEq, Eq)]
pub enum AddPlan {
    /// It is a voter at that address already: nothing to do.
    AlreadyVoter,
    /// Add it as a learner (or keep it one), wait for it to catch up, then make it a voter.
    CatchUpThenPromote,
}

/// A change that cannot be meant; the message says what to do instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("node ids start at 1")]
    ZeroId,
    #[error("invalid address {0:?}: give HOST:PORT (at most {MEMBER_ADDR_BYTES_MAX} bytes), the new node's --listen address as the members reach it")]
    BadAddr(String),
    #[error("node {id} is already a member at {current}; to move it, remove it and add it again at {requested}")]
    OtherAddr { id: u64, current: String, requested: String },
    #[error("node {0} is not a member (heapctl member list shows the members)")]
    NotMember(u64),
    #[error("node {0} is the only voter; a cluster cannot remove its last voter (add another node first)")]
    LastVoter(u64),
    #[error("node {0} is not a voter (it is a learner: remove it with heapctl member remove, then add the new node)")]
    NotVoter(u64),
    #[error("the cluster has {PEERS_MAX} nodes, the most supported")]
    TooMany,
}

impl From<PlanError> for Status {
    fn from(error: PlanError) -> Self {
        Status::failed_precondition(error.to_string())
    }
}

fn check_addr(addr: &str) -> Result<(), PlanError> {
    let has_port = addr.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if addr.len() > MEMBER_ADDR_BYTES_MAX || !has_port || addr.chars().any(|c| c.is_whitespace() || c == ',') {
        return Err(PlanError::BadAddr(addr.chars().take(MEMBER_ADDR_BYTES_MAX).collect()));
    }
    Ok(())
}

/// Adding node `id` at `addr`.
pub fn plan_add(members: &Members, id: u64, addr: &str) -> Result<AddPlan, PlanError> {
    if id == 0 {
        return Err(PlanError::ZeroId);
    }
    check_addr(addr)?;
    match members.nodes.get(&id) {
        Some(current) if current != addr => {
            Err(PlanError::OtherAddr { id, current: current.clone(), requested: addr.to_string() })
        }
        Some(_) if members.voters.contains(&id) => Ok(AddPlan::AlreadyVoter),
        Some(_) => Ok(AddPlan::CatchUpThenPromote),
        None if members.nodes.len() >= PEERS_MAX => Err(PlanError::TooMany),
        None => Ok(AddPlan::CatchUpThenPromote),
    }
}

/// Removing node `id` (a voter or a learner); `Ok(false)` when it is not a member any more (done).
pub fn plan_remove(members: &Members, id: u64) -> Result<bool, PlanError> {
    if !members.nodes.contains_key(&id) {
        return Ok(false);
    }
    if members.voters.len() == 1 && members.voters.contains(&id) {
        return Err(PlanError::LastVoter(id));
    }
    Ok(true)
}

/// Replacing voter `old` with `new` at `addr`: the voters after the change, or `None` when it is
/// done already (`new` votes and `old` is gone).
pub fn plan_replace(members: &Members, old: u64, new: u64, addr: &str) -> Result<Option<BTreeSet<u64>>, PlanError> {
    let done = !members.nodes.contains_key(&old) && members.voters.contains(&new);
    if done {
        return Ok(None);
    }
    if !members.nodes.contains_key(&old) {
        return Err(PlanError::NotMember(old));
    }
    if !members.voters.contains(&old) {
        return Err(PlanError::NotVoter(old));
    }
    plan_add(members, new, addr)?;
    let mut voters = members.voters.clone();
    voters.remove(&old);
    voters.insert(new);
    Ok(Some(voters))
}

/// The membership in force on this node (the latest, committed or not: Raft acts on it).
pub fn members_of(raft: &HeapRaft) -> Members {
    let receiver = raft.metrics();
    let metrics = receiver.borrow_watched();
    let membership = metrics.membership_config.membership();
    Members {
        nodes: membership.nodes().map(|(id, node)| (*id, node.addr.clone())).collect(),
        voters: membership.voter_ids().collect(),
    }
}

/// The members view an operator sees: on the leader, with each member's progress.
pub fn members_view(raft: &HeapRaft) -> pb::MembersResponse {
    let receiver = raft.metrics();
    let metrics = receiver.borrow_watched();
    let last = metrics.last_log_index.unwrap_or(0);
    let membership = metrics.membership_config.membership();
    let voters: BTreeSet<u64> = membership.voter_ids().collect();
    let progress = matched_indexes(&metrics).unwrap_or_default();
    let matched = |id: u64| -> u64 { progress.get(&id).copied().flatten().unwrap_or(0) };
    let members = membership
        .nodes()
        .map(|(id, node)| pb::MemberInfo {
            id: *id,
            addr: node.addr.clone(),
            voter: voters.contains(id),
            matched_index: matched(*id),
            lag_entries: last.saturating_sub(matched(*id)),
        })
        .collect();
    pb::MembersResponse {
        leader_id: metrics.current_leader.unwrap_or(0),
        term: metrics.current_term,
        membership_index: metrics.membership_config.log_id().as_ref().map_or(0, |log_id| log_id.index),
        members,
    }
}

/// A failed change, as the operator sees it.
fn change_failed(what: &str, error: RaftError<TypeConfig, ClientWriteError<TypeConfig>>) -> Status {
    match error {
        RaftError::APIError(ClientWriteError::ForwardToLeader(_)) => Status::unavailable(format!(
            "leadership moved while {what}; run the same command again (membership changes are idempotent)"
        )),
        RaftError::APIError(ClientWriteError::ChangeMembershipError(e)) => Status::failed_precondition(format!(
            "{what} was refused: {e}; if another membership change is running, wait for it and run this again"
        )),
        RaftError::APIError(e) => Status::failed_precondition(format!("{what} was refused: {e}")),
        RaftError::Fatal(e) => Status::unavailable(format!("this node stopped while {what} ({e}); run it again")),
    }
}

/// Waits until learner `id` holds the log up to `target` (within the allowed lag).
async fn wait_caught_up(raft: &HeapRaft, id: u64, addr: &str) -> Result<(), Status> {
    let target = raft.metrics().borrow_watched().last_log_index.unwrap_or(0);
    let caught_up = move |metrics: &openraft::RaftMetrics<TypeConfig>| {
        let matched = matched_indexes(metrics).and_then(|progress| progress.get(&id).copied().flatten());
        matched.is_some_and(|index| index + MEMBER_CATCH_UP_LAG_ENTRIES_MAX >= target)
    };
    let timeout = Duration::from_millis(MEMBER_CATCH_UP_TIMEOUT_MS);
    raft.wait(Some(timeout)).metrics(caught_up, "the new node caught up").await.map(|_| ()).map_err(|_| {
        Status::deadline_exceeded(format!(
            "node {id} did not catch up within {MEMBER_CATCH_UP_TIMEOUT_MS} ms: is heap-server running with --id {id} \
             --listen {addr} --join ..., with a certificate for node-{id}.sovereign, and reachable at {addr}? It stays \
             a learner (no vote); run the same command again once it is, or heapctl member remove {id}"
        ))
    })
}

/// Adds node `id` at `addr` as a learner, waits for it to catch up, then makes it a voter.
pub async fn add(raft: &HeapRaft, id: u64, addr: &str) -> Result<(), Status> {
    if plan_add(&members_of(raft), id, addr)? == AddPlan::AlreadyVoter {
        return Ok(());
    }
    let node = BasicNode { addr: addr.to_string() };
    raft.add_learner(id, node, false).await.map_err(|e| change_failed("adding the learner", e))?;
    tracing::info!(id, addr, "membership: learner added; waiting for it to catch up");
    wait_caught_up(raft, id, addr).await?;
    raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
        .await
        .map_err(|e| change_failed("promoting the learner", e))?;
    tracing::info!(id, addr, "membership: node added as a voter");
    Ok(())
}

/// Removes node `id` (voter or learner) from the membership. The leader may remove itself: it
/// steps down once the change commits.
pub async fn remove(raft: &HeapRaft, id: u64) -> Result<(), Status> {
    let members = members_of(raft);
    if !plan_remove(&members, id)? {
        return Ok(());
    }
    let ids = BTreeSet::from([id]);
    // Without `retain`, a removed voter leaves the node list too.
    let change =
        if members.voters.contains(&id) { ChangeMembers::RemoveVoters(ids) } else { ChangeMembers::RemoveNodes(ids) };
    raft.change_membership(change, false).await.map_err(|e| change_failed("removing the node", e))?;
    tracing::info!(id, "membership: node removed");
    Ok(())
}

/// Replaces voter `old` with `new` at `addr`: `new` catches up as a learner, then one change
/// swaps the voters.
pub async fn replace(raft: &HeapRaft, old: u64, new: u64, addr: &str) -> Result<(), Status> {
    if plan_replace(&members_of(raft), old, new, addr)?.is_none() {
        return Ok(());
    }
    let node = BasicNode { addr: addr.to_string() };
    raft.add_learner(new, node, false).await.map_err(|e| change_failed("adding the new node", e))?;
    wait_caught_up(raft, new, addr).await?;
    // Planned again: the membership may have moved while the new node caught up.
    let Some(voters) = plan_replace(&members_of(raft), old, new, addr)? else {
        return Ok(());
    };
    raft.change_membership(ChangeMembers::ReplaceAllVoters(voters), false)
        .await
        .map_err(|e| change_failed("swapping the voters", e))?;
    tracing::info!(old, new, addr, "membership: node replaced");
    Ok(())
}

/// How long a leadership transfer may take before it is reported as not done.
pub const TRANSFER_LEADER_TIMEOUT_MS: u64 = 10_000;

/// Hands leadership to voter `to` and waits until this node sees it lead.
pub async fn transfer_leader(raft: &HeapRaft, to: u64) -> Result<(), Status> {
    let members = members_of(raft);
    if !members.voters.contains(&to) {
        return Err(PlanError::NotVoter(to).into());
    }
    if raft.metrics().borrow_watched().current_leader == Some(to) {
        return Ok(());
    }
    raft.trigger().transfer_leader(to).await.map_err(|e| {
        Status::unavailable(format!("this node stopped while handing leadership over ({e}); run it again"))
    })?;
    let timeout = Duration::from_millis(TRANSFER_LEADER_TIMEOUT_MS);
    let leads = move |metrics: &openraft::RaftMetrics<TypeConfig>| metrics.current_leader == Some(to);
    raft.wait(Some(timeout)).metrics(leads, "the new leader leads").await.map(|_| ()).map_err(|_| {
        Status::deadline_exceeded(format!(
            "node {to} did not take over within {TRANSFER_LEADER_TIMEOUT_MS} ms (is it running and caught up? \
             heapctl member list shows its lag); run the command again"
        ))
    })?;
    tracing::info!(to, "membership: leadership handed over");
    Ok(())
}

#[cfg(test)]
#[path = "membership_test.rs"]
mod tests;
