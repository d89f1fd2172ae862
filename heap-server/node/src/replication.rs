//! Each member's replication progress as this node's Raft reports it: the one reading of
//! openraft's replication metrics, for the `Admin` members view, the dashboard, `/metrics` and a
//! new member's catch-up. A leaf module.

use std::collections::BTreeMap;

use openraft::RaftMetrics;
use raft_store::TypeConfig;

/// On the leader (the only node that tracks replication), the last log index each member is known
/// to hold (`None`: nothing matched yet), the leader itself at its last log index; `None` on any
/// other node.
pub fn matched_indexes(metrics: &RaftMetrics<TypeConfig>) -> Option<BTreeMap<u64, Option<u64>>> {
    let replication = metrics.replication.as_ref()?;
    let mut matched: BTreeMap<u64, Option<u64>> =
        replication.iter().map(|(id, log_id)| (*id, log_id.map(|log_id| log_id.index))).collect();
    matched.insert(metrics.id, Some(metrics.last_log_index.unwrap_or(0)));
    Some(matched)
}

#[cfg(test)]
mod tests {
    use openraft::vote::RaftLeaderIdExt;
    use raft_store::LogId;

    use super::*;

    /// A follower reports nothing; the leader reports each follower's match (or none yet) and its
    /// own last index.
    #[test]
    fn only_the_leader_reports_progress_and_counts_itself_caught_up() {
        let mut metrics = RaftMetrics::<TypeConfig>::new_initial(1);
        assert_eq!(matched_indexes(&metrics), None);
        let leader = openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(4, 1);
        metrics.last_log_index = Some(10);
        metrics.replication = Some([(2, Some(LogId::new(leader, 7))), (3, None)].into_iter().collect());
        let matched = matched_indexes(&metrics).expect("the leader's view");
        assert_eq!(matched, BTreeMap::from([(1, Some(10)), (2, Some(7)), (3, None)]));
    }
}
