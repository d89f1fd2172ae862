//! `GET /api/cluster`: the members as this node's Raft sees them: address, role, voter or
//! learner, and (on the leader, which alone tracks replication) each one's matched index and lag.

use openraft::RaftMetrics;
use openraft::ServerState;
use raft_store::LogId;
use raft_store::TypeConfig;
use serde::Serialize;

use super::text::Text;
use crate::replication::matched_indexes;

/// Members listed: far above any real membership (`PEERS_MAX` is 9), so a page stays small even
/// if a membership went wrong.
pub const MEMBERS_LISTED_MAX: usize = 100;

#[derive(Debug, Serialize)]
pub struct MemberView {
    pub id: u64,
    pub addr: Text,
    /// "leader", this node's own state for itself, else "follower" (voters) or "learner".
    pub role: String,
    pub voter: bool,
    pub this_node: bool,
    /// The last index the leader knows this member has; `None` unless this node leads.
    pub matched_index: Option<u64>,
    /// Entries this member is behind the leader's log; `None` unless this node leads.
    pub lag_entries: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ClusterView {
    /// This node's Raft state ("leader", "follower", "candidate", "learner", "shutdown").
    pub role: String,
    pub term: u64,
    pub leader_id: Option<u64>,
    pub last_log_index: u64,
    pub committed_index: u64,
    pub members: Vec<MemberView>,
    pub members_omitted: usize,
}

fn state_name(state: ServerState) -> String {
    format!("{state:?}").to_lowercase()
}

fn index(log_id: Option<LogId>) -> u64 {
    log_id.map(|id| id.index).unwrap_or(0)
}

/// The cluster as `metrics` (this node's, `node_id`) describes it.
pub fn cluster_view(node_id: u64, metrics: &RaftMetrics<TypeConfig>) -> ClusterView {
    let membership = metrics.membership_config.membership();
    let voters: Vec<u64> = membership.voter_ids().collect();
    let last_log_index = metrics.last_log_index.unwrap_or(0);
    let progress = matched_indexes(metrics);
    let member = |(id, node): (&u64, &raft_store::Node)| {
        let voter = voters.contains(id);
        let role = if metrics.current_leader == Some(*id) {
            "leader".to_string()
        } else if *id == node_id {
            state_name(metrics.state)
        } else if voter {
            "follower".to_string()
        } else {
            "learner".to_string()
        };
        // Only the leader tracks replication (`None` elsewhere); a member it has not matched yet: 0.
        let matched_index = progress.as_ref().and_then(|progress| progress.get(id)).map(|matched| matched.unwrap_or(0));
        MemberView {
            id: *id,
            addr: Text::cut(&node.addr),
            role,
            voter,
            this_node: *id == node_id,
            matched_index,
            lag_entries: matched_index.map(|matched| last_log_index.saturating_sub(matched)),
        }
    };
    let members: Vec<MemberView> = membership.nodes().take(MEMBERS_LISTED_MAX).map(member).collect();
    ClusterView {
        role: state_name(metrics.state),
        term: metrics.current_term,
        leader_id: metrics.current_leader,
        last_log_index,
        committed_index: index(metrics.cluster_committed),
        members_omitted: membership.nodes().count() - members.len(),
        members,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use openraft::vote::RaftLeaderIdExt;
    use openraft::Membership;
    use openraft::StoredMembership;
    use raft_store::Node;

    use super::*;

    /// On the leader: voters and learners apart, the leader marked, each follower's lag from the
    /// leader's last index (the leader itself 0 behind).
    #[test]
    fn the_leader_sees_roles_and_lag() {
        let nodes: BTreeMap<u64, Node> = (1..=3).map(|id| (id, Node { addr: format!("10.0.0.{id}:7000") })).collect();
        let voters: BTreeSet<u64> = [1, 2].into_iter().collect();
        let membership = Membership::new(vec![voters], nodes).expect("a valid membership");
        let leader = openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(4, 1);
        let mut metrics = RaftMetrics::<TypeConfig>::new_initial(1);
        metrics.membership_config = Arc::new(StoredMembership::new(None, membership));
        metrics.state = ServerState::Leader;
        metrics.current_leader = Some(1);
        metrics.current_term = 4;
        metrics.last_log_index = Some(10);
        metrics.replication = Some([(2, Some(LogId::new(leader, 7))), (3, None)].into_iter().collect());
        let view = cluster_view(1, &metrics);
        assert_eq!((view.role.as_str(), view.term, view.leader_id), ("leader", 4, Some(1)));
        let rows: Vec<(u64, &str, bool, bool, Option<u64>)> =
            view.members.iter().map(|m| (m.id, m.role.as_str(), m.voter, m.this_node, m.lag_entries)).collect();
        assert_eq!(
            rows,
            vec![
                (1, "leader", true, true, Some(0)),
                (2, "follower", true, false, Some(3)),
                (3, "learner", false, false, Some(10)),
            ]
        );
        assert_eq!(view.members_omitted, 0);
    }

    /// A follower has no replication map: no matched index or lag, rather than made-up zeros.
    #[test]
    fn a_follower_reports_no_lag() {
        let nodes: BTreeMap<u64, Node> = (1..=2).map(|id| (id, Node { addr: format!("n{id}") })).collect();
        let voters: BTreeSet<u64> = [1, 2].into_iter().collect();
        let mut metrics = RaftMetrics::<TypeConfig>::new_initial(2);
        let membership = Membership::new(vec![voters], nodes).expect("a valid membership");
        metrics.membership_config = Arc::new(StoredMembership::new(None, membership));
        metrics.state = ServerState::Candidate;
        metrics.current_leader = Some(1);
        let view = cluster_view(2, &metrics);
        assert!(view.members.iter().all(|m| m.matched_index.is_none() && m.lag_entries.is_none()));
        assert_eq!(view.members[1].role, "candidate", "this node shows its own state");
    }
}
