//! Snapshots after garbage collection. A node's disk shrinks only when it snapshots (the snapshot
//! is rewritten smaller, the log is purged behind it), and the regular snapshot comes every
//! `--snapshot-logs` entries, which a quiet cluster may not reach for hours after a large
//! collection. So each node snapshots as soon as it has freed, since its last snapshot, at least
//! as many objects as are still live (and `FREED_OBJECTS_MIN`): its snapshot then holds at least
//! twice what it needs. Node-local: every node decides from what it applied itself.

use std::sync::Arc;

use openraft::async_runtime::WatchReceiver;

use crate::context::NodeContext;
use crate::periodic::wait_or_stop;

/// How often a node compares what it freed with what is live.
pub const CHECK_INTERVAL_MS: u64 = 2_000;
/// Fewer freed objects than this never cause a snapshot (with the "at least as many as are live"
/// rule, a heap churning a few objects does not snapshot every check). Not larger: a collection
/// that straddles a check is snapshotted half way, and what it frees after that must still be
/// enough for a second snapshot, or the disk keeps the first half's garbage (at 10,000, a
/// 21,000-object collection split 11,241 / 9,780 left a snapshot of 225 KB for an empty heap).
pub const FREED_OBJECTS_MIN: u64 = 1_000;

/// What the node saw at its last snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Baseline {
    snapshot_index: u64,
    freed_total: u64,
}

/// Whether a node that freed `freed_since` objects since its last snapshot and has `live` now
/// should snapshot.
pub fn should_snapshot(freed_since: u64, live: u64) -> bool {
    freed_since >= FREED_OBJECTS_MIN && freed_since >= live
}

/// Runs until `stop` turns true.
pub async fn run(context: Arc<NodeContext>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut baseline = Baseline { snapshot_index: snapshot_index(&context), freed_total: freed_total(&context) };
    // The freed count at the previous check: a snapshot noticed now was taken after it, so it
    // holds none of what was freed after this count (counting from here may snapshot once more
    // than needed, never once less).
    let mut freed_at_previous_check = baseline.freed_total;
    while wait_or_stop(&mut stop, CHECK_INTERVAL_MS).await {
        let (index, freed) = (snapshot_index(&context), freed_total(&context));
        if index != baseline.snapshot_index {
            baseline = Baseline { snapshot_index: index, freed_total: freed_at_previous_check };
        }
        freed_at_previous_check = freed;
        let Ok(live) = context.store.read(|machine, _| machine.heap.gc_summary().objects) else {
            return;
        };
        let freed_since = freed.saturating_sub(baseline.freed_total);
        if !should_snapshot(freed_since, live) {
            continue;
        }
        tracing::info!(freed_since, live, "snapshotting after garbage collection, so the disk shrinks");
        if let Err(error) = context.raft.trigger().snapshot().await {
            tracing::warn!(%error, "cannot snapshot after garbage collection; the regular snapshot will shrink the disk");
            return;
        }
        // Counted from here whether or not the snapshot lands soon: no second request for the
        // same garbage.
        baseline.freed_total = freed;
    }
}

fn snapshot_index(context: &NodeContext) -> u64 {
    context.raft.metrics().borrow_watched().snapshot.map_or(0, |id| id.index)
}

fn freed_total(context: &NodeContext) -> u64 {
    context.gc_stats.figures().freed_total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_due_once_freed_objects_match_the_live_ones_and_the_minimum() {
        assert!(!should_snapshot(FREED_OBJECTS_MIN - 1, 0), "under the minimum");
        assert!(should_snapshot(FREED_OBJECTS_MIN, 0));
        assert!(should_snapshot(FREED_OBJECTS_MIN, FREED_OBJECTS_MIN));
        assert!(!should_snapshot(FREED_OBJECTS_MIN, FREED_OBJECTS_MIN + 1), "fewer freed than live");
        assert!(should_snapshot(1_000_000, 999_999));
    }
}
