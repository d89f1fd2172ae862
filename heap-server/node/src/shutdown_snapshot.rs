//! A snapshot at a clean shutdown: the node's next start loads one image instead of re-applying
//! up to `--snapshot-logs` entries of the log, which is faster and rebuilds the heap compactly
//! (a replay interleaves entry buffers with the objects it creates; the allocator then keeps the
//! holes: a restarted follower held ~420 bytes per object after a replay against ~240 before).

use std::time::Duration;

use openraft::async_runtime::WatchReceiver;

use crate::context::HeapRaft;
use crate::limits::SHUTDOWN_SNAPSHOT_ENTRIES_MIN;
use crate::limits::SHUTDOWN_SNAPSHOT_TIMEOUT_MS;

/// Builds a snapshot of everything applied if more than `SHUTDOWN_SNAPSHOT_ENTRIES_MIN` entries
/// were applied since the last one, waiting at most `SHUTDOWN_SNAPSHOT_TIMEOUT_MS`. Never fails
/// the shutdown: without the snapshot the next start replays the log, as after a crash.
pub async fn snapshot_before_shutdown(raft: &HeapRaft) {
    let (applied_index, snapshot_index) = {
        let metrics = raft.metrics().borrow_watched().clone();
        (metrics.last_applied.map_or(0, |id| id.index), metrics.snapshot.map_or(0, |id| id.index))
    };
    if applied_index <= snapshot_index + SHUTDOWN_SNAPSHOT_ENTRIES_MIN {
        return;
    }
    if let Err(error) = raft.trigger().snapshot().await {
        tracing::warn!(%error, "no snapshot at shutdown; the next start replays the log");
        return;
    }
    let timeout = Duration::from_millis(SHUTDOWN_SNAPSHOT_TIMEOUT_MS);
    let covered = move |metrics: &openraft::RaftMetrics<raft_store::TypeConfig>| {
        metrics.snapshot.is_some_and(|id| id.index >= applied_index)
    };
    match raft.wait(Some(timeout)).metrics(covered, "the shutdown snapshot").await {
        Ok(_) => tracing::info!(applied_index, "snapshot built at shutdown"),
        Err(error) => tracing::warn!(%error, "the shutdown snapshot did not finish; the next start replays the log"),
    }
}
