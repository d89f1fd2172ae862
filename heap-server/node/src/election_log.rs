//! The recent elections this node has seen, for the dashboard: a ring buffer of (term, leader,
//! this node's wall-clock time of observation), fed by a task that watches Raft's metrics for a
//! change of term or leader. Times are this node's clock, so they only order what this node saw.

use std::collections::VecDeque;
use std::sync::Mutex;

use openraft::async_runtime::WatchReceiver;
use serde::Serialize;

use crate::context::HeapRaft;
use crate::proposer::now_ms;

/// Observations kept: enough to see a flapping leader at a glance, small enough to send whole.
pub const ELECTION_LOG_CAPACITY: usize = 32;

/// One change of term or leader, as this node saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Election {
    pub term: u64,
    /// `None` while no leader is known in `term` (an election in progress).
    pub leader_id: Option<u64>,
    /// This node's wall clock when it noticed the change, in ms since the Unix epoch.
    pub seen_at_ms: u64,
}

/// The last `ELECTION_LOG_CAPACITY` changes of term or leader, oldest first.
#[derive(Debug, Default)]
pub struct ElectionLog {
    entries: Mutex<VecDeque<Election>>,
}

impl ElectionLog {
    /// Records `(term, leader_id)` unless it is the last one recorded; returns whether it did.
    /// The oldest entry goes when the log is full.
    pub fn observe(&self, term: u64, leader_id: Option<u64>, seen_at_ms: u64) -> bool {
        // A panic while holding the lock cannot leave the deque half-changed: keep using it.
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.back().is_some_and(|last| last.term == term && last.leader_id == leader_id) {
            return false;
        }
        if entries.len() == ELECTION_LOG_CAPACITY {
            entries.pop_front();
        }
        entries.push_back(Election { term, leader_id, seen_at_ms });
        assert!(entries.len() <= ELECTION_LOG_CAPACITY, "the election log grew past its capacity");
        true
    }

    /// Every recorded change, newest first.
    pub fn recent(&self) -> Vec<Election> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.iter().rev().cloned().collect()
    }
}

/// Records every change of term or leader of `raft` into `log` until Raft's metrics channel
/// closes (the node is stopping).
pub async fn watch(raft: HeapRaft, log: std::sync::Arc<ElectionLog>) {
    let mut metrics = raft.metrics();
    loop {
        let (term, leader_id) = {
            let current = metrics.borrow_watched();
            (current.current_term, current.current_leader)
        };
        if log.observe(term, leader_id, now_ms()) {
            // In the node's log too: an election nobody caused is what an operator looks for
            // first when writes pause (with the lines around it: a snapshot, a long apply).
            match leader_id {
                Some(leader) => tracing::info!(term, leader, "leader known"),
                None => tracing::info!(term, "no leader in this term yet (an election runs)"),
            }
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a change of term or leader is recorded, newest first.
    #[test]
    fn records_changes_only() {
        let log = ElectionLog::default();
        assert!(log.observe(1, None, 10));
        assert!(!log.observe(1, None, 11), "the same term and leader again is not an election");
        assert!(log.observe(1, Some(2), 12));
        assert!(log.observe(2, Some(2), 13));
        let terms: Vec<(u64, Option<u64>, u64)> =
            log.recent().iter().map(|e| (e.term, e.leader_id, e.seen_at_ms)).collect();
        assert_eq!(terms, vec![(2, Some(2), 13), (1, Some(2), 12), (1, None, 10)]);
    }

    /// A full log drops its oldest entry and never holds more than its capacity.
    #[test]
    fn keeps_the_newest_capacity_entries() {
        let log = ElectionLog::default();
        let observed = ELECTION_LOG_CAPACITY as u64 + 5;
        for term in 1..=observed {
            assert!(log.observe(term, Some(1), term));
        }
        let recent = log.recent();
        assert_eq!(recent.len(), ELECTION_LOG_CAPACITY);
        assert_eq!(recent.first().map(|e| e.term), Some(observed));
        assert_eq!(recent.last().map(|e| e.term), Some(observed - ELECTION_LOG_CAPACITY as u64 + 1));
    }
}
