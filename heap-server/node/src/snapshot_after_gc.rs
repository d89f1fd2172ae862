//! Snapshots after garbage collection. A node's disk shrinks only when it snapshots (the snapshot
//! is rewritten smaller, the log is purged behind it), and the regular snapshot comes every
//! `--snapshot-logs` entries, which a quiet cluster may not reach for hours after a large
//! collection. So each node snapshots as soon as it has freed, since its last snapshot, at least
//! as many objects as are still live (and `FREED_OBJECTS_MIN`): its snapshot then holds at least
//! twice what it needs. Node-local: every node decides from what it applied itself, and the
//! replicas apply alike, so a large heap's nodes are staggered by node id (see
//! `stagger_delay_ms`), as the regular snapshots are (`snapshot_policy`).

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

/// Heaps with fewer live objects than this snapshot at once on every node: their snapshot is
/// written in about a second (10 million small objects made an 800 MB one).
pub const STAGGER_LIVE_OBJECTS_MIN: u64 = 1_000_000;
/// How far apart in time the nodes' slots start their snapshot after a collection of a large heap:
/// longer than one 800 MB snapshot takes to write and fsync here, so no two nodes (a majority of
/// three) write one at once, which cost heartbeats and elections with no fault before the
/// regular snapshots were staggered (docs/benchmarks.md "After the runtime fix").
pub const SNAPSHOT_STAGGER_MS: u64 = 15_000;

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

/// How long node `node_id` waits, once a snapshot is due, before asking for it, with `live`
/// objects on the heap: nothing for a small heap, else its slot times `SNAPSHOT_STAGGER_MS`.
pub fn stagger_delay_ms(live: u64, node_id: u64) -> u64 {
    if live < STAGGER_LIVE_OBJECTS_MIN {
        return 0;
    }
    node_id.saturating_sub(1) % crate::snapshot_policy::SNAPSHOT_STAGGER_SLOTS * SNAPSHOT_STAGGER_MS
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
        let delay_ms = stagger_delay_ms(live, context.id);
        tracing::info!(freed_since, live, delay_ms, "snapshotting after garbage collection, so the disk shrinks");
        if delay_ms > 0 && !wait_or_stop(&mut stop, delay_ms).await {
            return;
        }
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

    #[test]
    fn a_large_heap_staggers_its_nodes_and_a_small_one_does_not() {
        let small = STAGGER_LIVE_OBJECTS_MIN - 1;
        assert_eq!([1, 2, 3].map(|id| stagger_delay_ms(small, id)), [0, 0, 0]);
        let large = STAGGER_LIVE_OBJECTS_MIN;
        assert_eq!([1, 2, 3].map(|id| stagger_delay_ms(large, id)), [0, SNAPSHOT_STAGGER_MS, 2 * SNAPSHOT_STAGGER_MS]);
        assert_eq!(stagger_delay_ms(large, 0), 0, "an id of 0 does not underflow");
    }
}
