//! Tests of `consensus_guard`: a legitimate message of each kind passes, and each rule refuses the
//! messages that break it with its own variant. The scene: members 1, 2, 3; this node is 2, at term 5.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use openraft::entry::RaftEntry;
use openraft::vote::RaftLeaderIdExt;
use openraft::Membership;
use openraft::StoredMembership;
use raft_store::Request;

use super::*;

const SELF_ID: NodeId = 2;
const CURRENT_TERM: u64 = 5;

fn is_member(node: NodeId) -> bool {
    (1..=3).contains(&node)
}

fn view_at(current_term: u64) -> LocalView<'static> {
    LocalView { self_id: SELF_ID, current_term, is_member: &is_member }
}

fn view() -> LocalView<'static> {
    view_at(CURRENT_TERM)
}

fn log_id(term: u64, node: NodeId, index: u64) -> LogId {
    LogId::new(openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(term, node), index)
}

fn entry(term: u64, index: u64) -> raft_store::Entry {
    raft_store::Entry::new_normal(log_id(term, 1, index), Request { payload: vec![7; 3] })
}

fn vote_request(term: u64, candidate: NodeId) -> VoteRequest<TypeConfig> {
    VoteRequest { vote: Vote::new(term, candidate), last_log_id: Some(log_id(5, 1, 10)), leadership_transfer: false }
}

/// Leader 1 at term 5 sends entries 11 and 12 after log id 5-1.10, with commit 10.
fn append_request(term: u64, leader: NodeId) -> AppendEntriesRequest<TypeConfig> {
    AppendEntriesRequest {
        vote: Vote::new_committed(term, leader),
        prev_log_id: Some(log_id(5, 1, 10)),
        entries: vec![entry(5, 11), entry(5, 12)],
        leader_commit: Some(log_id(5, 1, 10)),
    }
}

/// A snapshot up to 5-1.10 whose membership (voters 1, 2, 3) was committed at 4-3.7.
fn snapshot_meta(last_term: u64, membership_term: u64) -> SnapshotMeta {
    let voters: BTreeSet<NodeId> = [1, 2, 3].into_iter().collect();
    SnapshotMeta {
        last_log_id: Some(log_id(last_term, 1, 10)),
        last_membership: StoredMembership::new(
            Some(log_id(membership_term, 3, 7)),
            Membership::new_with_defaults(vec![voters], []),
        ),
    }
}

/// Runs all three checks with a message of term `term` from node 1, as proven by `sender`.
fn check_all_at(view: &LocalView, sender: ProvenSender, term: u64) -> [Result<(), Refusal>; 3] {
    let mut vote = vote_request(term, 1);
    vote.last_log_id = None;
    let mut append = append_request(term, 1);
    append.prev_log_id = None;
    append.entries.clear();
    append.leader_commit = None;
    let meta = SnapshotMeta::default();
    [
        check_vote(view, sender, &vote),
        check_append_entries(view, sender, &append),
        check_snapshot(view, sender, &Vote::new_committed(term, 1), &meta),
    ]
}

#[test]
fn legitimate_messages_pass_with_and_without_a_proven_sender() {
    for sender in [Some(1), None] {
        assert_eq!(check_vote(&view(), sender, &vote_request(6, 1)), Ok(()));
        assert_eq!(check_append_entries(&view(), sender, &append_request(5, 1)), Ok(()));
        assert_eq!(check_snapshot(&view(), sender, &Vote::new_committed(5, 1), &snapshot_meta(5, 4)), Ok(()));
    }
}

#[test]
fn a_leadership_transfer_to_the_next_term_passes() {
    let mut rpc = vote_request(CURRENT_TERM + 1, 3);
    rpc.leadership_transfer = true;
    assert_eq!(check_vote(&view(), Some(3), &rpc), Ok(()));
}

#[test]
fn a_heartbeat_with_no_previous_log_id_and_a_commit_passes() {
    let rpc = AppendEntriesRequest::<TypeConfig> {
        vote: Vote::new_committed(5, 1),
        prev_log_id: None,
        entries: vec![],
        leader_commit: Some(log_id(5, 1, 40)),
    };
    assert_eq!(check_append_entries(&view(), Some(1), &rpc), Ok(()));
}

#[test]
fn a_commit_ahead_of_the_batch_passes_because_lagging_followers_get_one() {
    let mut rpc = append_request(5, 1);
    rpc.leader_commit = Some(log_id(5, 1, 500));
    assert_eq!(check_append_entries(&view(), Some(1), &rpc), Ok(()));
}

#[test]
fn a_snapshot_whose_membership_predates_its_leader_passes() {
    // Node 3 joined after this snapshot was built (voters 1, 2 only), became leader, and sends it.
    let voters: BTreeSet<NodeId> = [1, 2].into_iter().collect();
    let meta = SnapshotMeta {
        last_log_id: Some(log_id(5, 1, 10)),
        last_membership: StoredMembership::new(Some(log_id(4, 1, 7)), Membership::new_with_defaults(vec![voters], [])),
    };
    assert_eq!(check_snapshot(&view(), Some(3), &Vote::new_committed(6, 3), &meta), Ok(()));
}

#[test]
fn the_forged_vote_of_the_attack_is_refused() {
    let rpc = VoteRequest::<TypeConfig> { vote: Vote::new(u64::MAX, 1), last_log_id: None, leadership_transfer: true };
    assert_eq!(check_vote(&view(), Some(1), &rpc), Err(Refusal::TermTooHigh { term: u64::MAX }));
    assert_eq!(check_vote(&view(), None, &rpc), Err(Refusal::TermTooHigh { term: u64::MAX }));
}

#[test]
fn terms_at_or_above_term_max_are_refused_by_every_check() {
    for term in [u64::MAX, u64::MAX - 1, TERM_MAX] {
        for sender in [Some(1), None] {
            // Also from a node that has never voted, which skips the jump rule.
            for current_term in [CURRENT_TERM, 0, TERM_MAX - 1] {
                for result in check_all_at(&view_at(current_term), sender, term) {
                    assert_eq!(result, Err(Refusal::TermTooHigh { term }), "term {term}, current {current_term}");
                }
            }
        }
    }
}

#[test]
fn a_term_jump_is_accepted_up_to_term_jump_max_and_refused_beyond() {
    for sender in [Some(1), None] {
        for result in check_all_at(&view(), sender, CURRENT_TERM + TERM_JUMP_MAX) {
            assert_eq!(result, Ok(()));
        }
        let term = CURRENT_TERM + TERM_JUMP_MAX + 1;
        for result in check_all_at(&view(), sender, term) {
            assert_eq!(result, Err(Refusal::TermJumpTooLarge { term, current_term: CURRENT_TERM }));
        }
    }
}

#[test]
fn a_node_that_never_voted_accepts_any_term_below_term_max() {
    for result in check_all_at(&view_at(0), Some(1), TERM_MAX - 1) {
        assert_eq!(result, Ok(()));
    }
}

#[test]
fn a_non_member_claimant_is_refused() {
    let refused = Err(Refusal::NotMember { node: 9 });
    for sender in [Some(9), None] {
        assert_eq!(check_vote(&view(), sender, &vote_request(6, 9)), refused);
        assert_eq!(check_append_entries(&view(), sender, &append_request(5, 9)), refused);
        assert_eq!(check_snapshot(&view(), sender, &Vote::new_committed(5, 9), &snapshot_meta(5, 4)), refused);
    }
}

#[test]
fn a_member_certificate_claiming_another_id_is_refused() {
    let refused = Err(Refusal::SenderMismatch { claimed: 1, proven: 3 });
    assert_eq!(check_vote(&view(), Some(3), &vote_request(6, 1)), refused);
    assert_eq!(check_append_entries(&view(), Some(3), &append_request(5, 1)), refused);
    assert_eq!(check_snapshot(&view(), Some(3), &Vote::new_committed(5, 1), &snapshot_meta(5, 4)), refused);
}

#[test]
fn a_message_claiming_to_come_from_this_node_is_refused() {
    let refused = Err(Refusal::FromSelf { node: SELF_ID });
    for sender in [Some(SELF_ID), None] {
        assert_eq!(check_vote(&view(), sender, &vote_request(6, SELF_ID)), refused);
        assert_eq!(check_append_entries(&view(), sender, &append_request(5, SELF_ID)), refused);
        assert_eq!(check_snapshot(&view(), sender, &Vote::new_committed(5, SELF_ID), &snapshot_meta(5, 4)), refused);
    }
}

#[test]
fn a_leadership_transfer_for_any_other_term_is_refused() {
    for term in [CURRENT_TERM, CURRENT_TERM + 2] {
        let mut rpc = vote_request(term, 3);
        rpc.leadership_transfer = true;
        for sender in [Some(3), None] {
            assert_eq!(
                check_vote(&view(), sender, &rpc),
                Err(Refusal::TransferTermNotNext { term, current_term: CURRENT_TERM })
            );
        }
    }
}

#[test]
fn a_candidate_log_from_a_later_term_is_refused() {
    let mut rpc = vote_request(6, 1);
    rpc.last_log_id = Some(log_id(7, 1, 10));
    assert_eq!(
        check_vote(&view(), None, &rpc),
        Err(Refusal::LogTermAboveMessageTerm { field: "the candidate's last log id", log_term: 7, message_term: 6 })
    );
}

#[test]
fn append_entries_log_ids_from_a_later_term_are_refused() {
    let mut rpc = append_request(5, 1);
    rpc.prev_log_id = Some(log_id(6, 1, 10));
    assert_eq!(
        check_append_entries(&view(), None, &rpc),
        Err(Refusal::LogTermAboveMessageTerm { field: "the previous log id", log_term: 6, message_term: 5 })
    );

    let mut rpc = append_request(5, 1);
    rpc.entries[1] = entry(6, 12);
    assert_eq!(
        check_append_entries(&view(), None, &rpc),
        Err(Refusal::LogTermAboveMessageTerm { field: "an entry's log id", log_term: 6, message_term: 5 })
    );

    let mut rpc = append_request(5, 1);
    rpc.leader_commit = Some(log_id(8, 1, 10));
    assert_eq!(
        check_append_entries(&view(), None, &rpc),
        Err(Refusal::LogTermAboveMessageTerm { field: "the leader's commit", log_term: 8, message_term: 5 })
    );
}

#[test]
fn append_entries_with_gaps_are_refused() {
    let mut rpc = append_request(5, 1);
    rpc.entries = vec![entry(5, 12)];
    assert_eq!(
        check_append_entries(&view(), None, &rpc),
        Err(Refusal::EntriesNotConsecutive { position: 0, found: 12, expected: 11 })
    );

    let mut rpc = append_request(5, 1);
    rpc.entries = vec![entry(5, 11), entry(5, 13)];
    assert_eq!(
        check_append_entries(&view(), Some(1), &rpc),
        Err(Refusal::EntriesNotConsecutive { position: 1, found: 13, expected: 12 })
    );

    let mut rpc = append_request(5, 1);
    rpc.entries = vec![entry(5, 11), entry(5, 11)];
    assert_eq!(
        check_append_entries(&view(), None, &rpc),
        Err(Refusal::EntriesNotConsecutive { position: 1, found: 11, expected: 12 })
    );

    let mut rpc = append_request(5, 1);
    rpc.prev_log_id = None;
    rpc.entries = vec![entry(5, 1)];
    assert_eq!(
        check_append_entries(&view(), None, &rpc),
        Err(Refusal::EntriesNotConsecutive { position: 0, found: 1, expected: 0 })
    );
}

#[test]
fn log_indexes_that_could_wrap_are_refused() {
    let mut rpc = append_request(5, 1);
    rpc.prev_log_id = Some(log_id(5, 1, u64::MAX));
    rpc.entries.clear();
    assert_eq!(
        check_append_entries(&view(), None, &rpc),
        Err(Refusal::LogIndexTooHigh { field: "the previous log id", index: u64::MAX })
    );

    let mut rpc = append_request(5, 1);
    rpc.prev_log_id = Some(log_id(5, 1, LOG_INDEX_MAX - 1));
    rpc.entries = vec![entry(5, LOG_INDEX_MAX)];
    assert_eq!(
        check_append_entries(&view(), None, &rpc),
        Err(Refusal::LogIndexTooHigh { field: "an entry's log id", index: LOG_INDEX_MAX })
    );

    let mut rpc = vote_request(6, 1);
    rpc.last_log_id = Some(log_id(5, 1, LOG_INDEX_MAX));
    assert_eq!(
        check_vote(&view(), None, &rpc),
        Err(Refusal::LogIndexTooHigh { field: "the candidate's last log id", index: LOG_INDEX_MAX })
    );

    let mut meta = snapshot_meta(5, 4);
    meta.last_log_id = Some(log_id(5, 1, u64::MAX));
    assert_eq!(
        check_snapshot(&view(), None, &Vote::new_committed(5, 1), &meta),
        Err(Refusal::LogIndexTooHigh { field: "the snapshot's last log id", index: u64::MAX })
    );
}

#[test]
fn snapshot_log_ids_from_a_later_term_are_refused() {
    assert_eq!(
        check_snapshot(&view(), Some(1), &Vote::new_committed(5, 1), &snapshot_meta(6, 4)),
        Err(Refusal::LogTermAboveMessageTerm { field: "the snapshot's last log id", log_term: 6, message_term: 5 })
    );
    assert_eq!(
        check_snapshot(&view(), None, &Vote::new_committed(5, 1), &snapshot_meta(5, 6)),
        Err(Refusal::LogTermAboveMessageTerm {
            field: "the snapshot's membership log id",
            log_term: 6,
            message_term: 5
        })
    );
}

#[test]
fn refusals_name_the_numbers_involved() {
    let message = Refusal::TermJumpTooLarge { term: 99_999_999, current_term: 5 }.to_string();
    assert!(message.contains("99999999") && message.contains(" 5") && message.contains(&TERM_JUMP_MAX.to_string()));
    let message = Refusal::TermTooHigh { term: u64::MAX }.to_string();
    assert!(message.contains(&u64::MAX.to_string()) && message.contains(&TERM_MAX.to_string()));
}

#[test]
fn a_leadership_transfer_from_the_leader_to_this_node_passes_and_others_are_refused() {
    let to_self = TransferLeaderRequest::new(Vote::new_committed(5, 1), SELF_ID, Some(log_id(5, 1, 10)));
    assert_eq!(check_transfer_leader(&view(), Some(1), &to_self), Ok(()));
    let to_other = TransferLeaderRequest::new(Vote::new_committed(5, 1), 3, Some(log_id(5, 1, 10)));
    assert_eq!(
        check_transfer_leader(&view(), Some(1), &to_other),
        Err(Refusal::TransferToOther { to: 3, node: SELF_ID })
    );
    let from_stranger = TransferLeaderRequest::new(Vote::new_committed(5, 9), SELF_ID, None);
    assert_eq!(check_transfer_leader(&view(), Some(9), &from_stranger), Err(Refusal::NotMember { node: 9 }));
    let impostor = TransferLeaderRequest::new(Vote::new_committed(5, 1), SELF_ID, None);
    assert_eq!(
        check_transfer_leader(&view(), Some(3), &impostor),
        Err(Refusal::SenderMismatch { claimed: 1, proven: 3 })
    );
    let log_ahead = TransferLeaderRequest::new(Vote::new_committed(5, 1), SELF_ID, Some(log_id(6, 1, 10)));
    assert!(matches!(
        check_transfer_leader(&view(), Some(1), &log_ahead),
        Err(Refusal::LogTermAboveMessageTerm { .. })
    ));
}
