//! Defensive checks on incoming Raft messages (votes, AppendEntries, snapshots): a message that no
//! legitimate member could send is refused with a reason before openraft sees it, so a forged or
//! corrupt message can neither make openraft panic nor make a node persist a vote it would panic on.
//!
//! Architecture invariant: every rule here holds for every message a correct openraft 0.10 member
//! sends; a rule that a legitimate message can break does not belong here (see "Rules left out").
//! Pure functions: no I/O, no clock, no openraft instance.
//!
//! Rules, in the order they are checked:
//! 1. The claimed node (the candidate of a vote, the leader of AppendEntries or a snapshot) equals
//!    the node the connection proved (`ProvenSender`), when there is one.
//! 2. The claimed node is not this node: openraft never sends a message to itself.
//! 3. The claimed node is a member (voter or learner) of this node's membership.
//! 4. The message's term is below `TERM_MAX` (openraft adds 1 to terms; it must never wrap).
//! 5. The message's term is at most `current_term + TERM_JUMP_MAX`, unless this node has never voted
//!    (`current_term == 0`): a fresh learner joining a long-lived cluster legitimately hears any term.
//! 6. Every log id in the message (a vote's last log id; AppendEntries' previous log id, entries and
//!    commit; a snapshot's last log id and membership log id) has a term at most the message's term
//!    (a leader's log never holds an entry from a later term) and an index below `LOG_INDEX_MAX`.
//! 7. Vote: `leadership_transfer` only for the term `current_term + 1` (a transfer starts the next
//!    term after the leader's, which this node follows).
//! 8. AppendEntries: entries are consecutive, starting right after the previous log id.
//!
//! Rules left out because a legitimate message can break them:
//! - AppendEntries `leader_commit <= last entry (or previous log id)`: openraft sends the leader's
//!   cluster-wide commit to a lagging follower with a batch that ends before it (batches are cut at
//!   `max_payload_entries` and by byte size), and heartbeats carry `prev_log_id = matching` with the
//!   commit ahead of it.
//! - Snapshot membership contains the sender: a node added after a snapshot was built can become
//!   leader and send that older snapshot, whose membership predates it.

use openraft::raft::AppendEntriesRequest;
use openraft::raft::TransferLeaderRequest;
use openraft::raft::VoteRequest;
use raft_store::LogId;
use raft_store::NodeId;
use raft_store::SnapshotMeta;
use raft_store::TypeConfig;
use raft_store::Vote;

/// How far a message's term may exceed this node's, in terms. A node cut off from its peers
/// increments its term once per election timeout (300-600 ms); 1 << 24 terms is about 58 days of
/// continuous failed elections at 300 ms, far longer than any partition we expect to heal on its
/// own, while one forged message can raise terms by at most this much (2^38 such messages to reach
/// `TERM_MAX`).
pub const TERM_JUMP_MAX: u64 = 1 << 24;

/// No term at or above this is accepted: openraft adds to terms (`next()` on every election) and a
/// term that wraps makes it panic. Half the range leaves room for any number of elections.
pub const TERM_MAX: u64 = u64::MAX / 2;
const _: () = assert!(TERM_JUMP_MAX < TERM_MAX);

/// No log index at or above this is accepted: openraft adds 1 to log indexes (`next_index`), which
/// must never wrap. A real log (one entry per microsecond) reaches 2^63 after 290,000 years.
pub const LOG_INDEX_MAX: u64 = u64::MAX / 2;

/// What the receiving node knows when a Raft message arrives.
pub struct LocalView<'a> {
    pub self_id: NodeId,
    /// The term of the node's own vote.
    pub current_term: u64,
    /// Voter or learner in the node's current membership (or in its configured peers before the
    /// cluster formed).
    pub is_member: &'a dyn Fn(NodeId) -> bool,
}

/// Who sent it, as the connection proved: the node id whose certificate the caller presented
/// (`Some`), or `None` on a plaintext test cluster (then only the message itself is checked).
pub type ProvenSender = Option<NodeId>;

/// Why a Raft message was refused. One variant per rule; each names the numbers involved and, for
/// the operator reading the log, what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "message claims to come from node {claimed} but the connection proved node {proven}: refused; \
         if node {proven} is legitimate, its certificate and its configured node id disagree"
    )]
    SenderMismatch { claimed: NodeId, proven: NodeId },

    #[error("message claims to come from this node ({node}): refused; check that no two nodes share id {node}")]
    FromSelf { node: NodeId },

    #[error(
        "message claims to come from node {node}, which is not a member: refused; add node {node} to the \
         cluster's membership first"
    )]
    NotMember { node: NodeId },

    #[error("a leadership transfer to node {to} reached node {node}: refused; the sender is confused or hostile")]
    TransferToOther { to: NodeId, node: NodeId },

    #[error(
        "term {term} is at or above the limit {TERM_MAX} (terms must never wrap): refused; the sender \
         is corrupt or hostile"
    )]
    TermTooHigh { term: u64 },

    #[error(
        "term {term} is more than {TERM_JUMP_MAX} above this node's term {current_term}: refused; the \
         sender is corrupt or hostile, or was partitioned for months (restart it with a fresh data folder)"
    )]
    TermJumpTooLarge { term: u64, current_term: u64 },

    #[error(
        "{field} has term {log_term}, above the message's term {message_term}: refused; no leader holds \
         entries from a later term, so the sender is corrupt or hostile"
    )]
    LogTermAboveMessageTerm { field: &'static str, log_term: u64, message_term: u64 },

    #[error(
        "{field} has index {index}, at or above the limit {LOG_INDEX_MAX} (indexes must never wrap): \
         refused; the sender is corrupt or hostile"
    )]
    LogIndexTooHigh { field: &'static str, index: u64 },

    #[error(
        "leadership transfer vote for term {term}, but a transfer starts term {current_term} + 1 from \
         this node's view: refused; retry the transfer once this node follows the current leader"
    )]
    TransferTermNotNext { term: u64, current_term: u64 },

    #[error(
        "AppendEntries entry {position} has index {found} but must have index {expected} (entries \
         follow the previous log id without gaps): refused; the sender is corrupt or hostile"
    )]
    EntriesNotConsecutive { position: usize, found: u64, expected: u64 },
}

/// Checks a vote request (or pre-vote) before openraft may grant and persist it.
pub fn check_vote(view: &LocalView, sender: ProvenSender, rpc: &VoteRequest<TypeConfig>) -> Result<(), Refusal> {
    check_claimant_and_term(view, sender, &rpc.vote)?;
    let term = rpc.vote.leader_id().term;
    check_log_id(term, "the candidate's last log id", rpc.last_log_id.as_ref())?;
    if rpc.leadership_transfer && Some(term) != view.current_term.checked_add(1) {
        return Err(Refusal::TransferTermNotNext { term, current_term: view.current_term });
    }
    Ok(())
}

/// Checks a leader's request to take over leadership: it comes from the leader it claims, and
/// names this node as the next leader.
pub fn check_transfer_leader(
    view: &LocalView,
    sender: ProvenSender,
    rpc: &TransferLeaderRequest<TypeConfig>,
) -> Result<(), Refusal> {
    check_claimant_and_term(view, sender, rpc.from_leader())?;
    let term = rpc.from_leader().leader_id().term;
    check_log_id(term, "the leader's last log id", rpc.last_log_id())?;
    if *rpc.to_node_id() != view.self_id {
        return Err(Refusal::TransferToOther { to: *rpc.to_node_id(), node: view.self_id });
    }
    Ok(())
}

/// Checks an AppendEntries request (or heartbeat) from a claimed leader.
pub fn check_append_entries(
    view: &LocalView,
    sender: ProvenSender,
    rpc: &AppendEntriesRequest<TypeConfig>,
) -> Result<(), Refusal> {
    check_claimant_and_term(view, sender, &rpc.vote)?;
    let term = rpc.vote.leader_id().term;
    check_log_id(term, "the previous log id", rpc.prev_log_id.as_ref())?;
    check_log_id(term, "the leader's commit", rpc.leader_commit.as_ref())?;
    // Below LOG_INDEX_MAX (checked above), so adding 1 cannot wrap.
    let mut expected = rpc.prev_log_id.as_ref().map_or(0, |log_id| log_id.index + 1);
    for (position, entry) in rpc.entries.iter().enumerate() {
        check_log_id(term, "an entry's log id", Some(&entry.log_id))?;
        if entry.log_id.index != expected {
            return Err(Refusal::EntriesNotConsecutive { position, found: entry.log_id.index, expected });
        }
        // Checked below LOG_INDEX_MAX just above, so adding 1 cannot wrap.
        expected = entry.log_id.index + 1;
    }
    Ok(())
}

/// Checks an InstallSnapshot request: the leader's `vote` and the snapshot's `meta`.
pub fn check_snapshot(view: &LocalView, sender: ProvenSender, vote: &Vote, meta: &SnapshotMeta) -> Result<(), Refusal> {
    check_claimant_and_term(view, sender, vote)?;
    let term = vote.leader_id().term;
    check_log_id(term, "the snapshot's last log id", meta.last_log_id.as_ref())?;
    check_log_id(term, "the snapshot's membership log id", meta.last_membership.log_id().as_ref())?;
    Ok(())
}

/// Rules 1-5: who the message claims to come from, and its term.
fn check_claimant_and_term(view: &LocalView, sender: ProvenSender, vote: &Vote) -> Result<(), Refusal> {
    let claimed = vote.leader_id().node_id;
    let term = vote.leader_id().term;
    if let Some(proven) = sender {
        if proven != claimed {
            return Err(Refusal::SenderMismatch { claimed, proven });
        }
    }
    if claimed == view.self_id {
        return Err(Refusal::FromSelf { node: claimed });
    }
    if !(view.is_member)(claimed) {
        return Err(Refusal::NotMember { node: claimed });
    }
    if term >= TERM_MAX {
        return Err(Refusal::TermTooHigh { term });
    }
    // A node that has never voted (term 0) may be a learner joining a cluster of any age.
    if view.current_term != 0 && term > view.current_term.saturating_add(TERM_JUMP_MAX) {
        return Err(Refusal::TermJumpTooLarge { term, current_term: view.current_term });
    }
    Ok(())
}

/// Rule 6: a log id carried by a message of term `message_term`.
fn check_log_id(message_term: u64, field: &'static str, log_id: Option<&LogId>) -> Result<(), Refusal> {
    let Some(log_id) = log_id else {
        return Ok(());
    };
    let log_term = log_id.committed_leader_id().term;
    if log_term > message_term {
        return Err(Refusal::LogTermAboveMessageTerm { field, log_term, message_term });
    }
    if log_id.index >= LOG_INDEX_MAX {
        return Err(Refusal::LogIndexTooHigh { field, index: log_id.index });
    }
    Ok(())
}

#[cfg(test)]
#[path = "consensus_guard_test.rs"]
mod tests;
