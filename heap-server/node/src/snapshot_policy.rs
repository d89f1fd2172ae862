//! When a node builds its regular snapshot: after `--snapshot-logs` entries, and, once the heap's
//! snapshot is large, only after the log has grown by as many bytes as the snapshot has. A fixed
//! entry count alone made a 10-million-object node (a 630 MB snapshot) write a snapshot every
//! 10,000 entries: the disk was busy writing snapshots all the time, puts ran at 2,100/s and
//! heartbeats were late enough to cause elections without any fault. Weighing log growth against
//! snapshot size caps snapshot writing at the log's own write rate (the rule Redis uses to rewrite
//! its append-only file at 100% growth). Node-local, like openraft's own policy (which this
//! replaces: Raft runs with `SnapshotPolicy::Never` and this task triggers the snapshots).

use std::sync::Arc;

use openraft::async_runtime::WatchReceiver;

use crate::context::NodeContext;
use crate::periodic::wait_or_stop;

/// How often a node checks whether a snapshot is due. Short next to how long a large snapshot
/// takes to write, long next to the check's cost (two atomic reads and a mutex-guarded sum).
pub const CHECK_INTERVAL_MS: u64 = 250;
/// Below this snapshot size the entry count alone decides: such a snapshot is written in well
/// under a second, and small test clusters keep snapshotting every few entries as configured.
pub const PROPORTIONAL_SNAPSHOT_BYTES_MIN: u64 = 32 * 1024 * 1024;

/// A large snapshot is due once the log grew by its size times `1 + slot / SNAPSHOT_STAGGER_SLOTS`
/// (and a first large one, after a small snapshot, after `--snapshot-logs` entries times the same),
/// where node `id`'s slot is `(id - 1) % SNAPSHOT_STAGGER_SLOTS`: the replicas grow their logs
/// alike, and with one rule for all three they wrote their 800 MB snapshots of a 10-million-object
/// heap at the same moment; two cores then could not answer heartbeats in time and a follower
/// started an election with no fault (`heap-bench gc --objects 10000000`, 2026-12-01, node logs:
/// every node's "snapshot built" within 1 ms, the leader's heartbeats timing out just before,
/// term 3 at 440 ms after). Staggered, a majority is never busy writing a snapshot at once (each
/// takes seconds; the slots are a quarter of a log's growth apart, tens of seconds under load).
/// That is not all of it: a node writing its own large snapshot still missed heartbeats and
/// started an election after it (the log purge that follows fsyncs in Raft's path; open, see
/// docs/benchmarks.md "After the runtime fix").
pub const SNAPSHOT_STAGGER_SLOTS: u64 = 4;

/// What a node knows when it decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogGrowth {
    /// Entries applied since the last snapshot's index.
    pub entries_since_snapshot: u64,
    /// Log bytes appended since the last snapshot (an estimate: see `run`).
    pub bytes_since_snapshot: u64,
    /// The last snapshot's size (0 before the first).
    pub snapshot_bytes: u64,
}

/// Whether a snapshot is due after `growth` on node `node_id`, with `--snapshot-logs` =
/// `snapshot_logs`.
pub fn snapshot_due(growth: LogGrowth, snapshot_logs: u64, node_id: u64) -> bool {
    let slot = node_id.saturating_sub(1) % SNAPSHOT_STAGGER_SLOTS;
    let stagger = |amount: u64| amount.saturating_add(amount / SNAPSHOT_STAGGER_SLOTS * slot);
    // A log grown this much since a small snapshot makes the next one large (the 800 MB
    // snapshots above came this way, after a 164-byte one): stagger the entry count too.
    let entries_due = if growth.bytes_since_snapshot >= PROPORTIONAL_SNAPSHOT_BYTES_MIN {
        stagger(snapshot_logs)
    } else {
        snapshot_logs
    };
    if growth.entries_since_snapshot < entries_due {
        return false;
    }
    growth.snapshot_bytes < PROPORTIONAL_SNAPSHOT_BYTES_MIN
        || growth.bytes_since_snapshot >= stagger(growth.snapshot_bytes)
}

/// Where the count of log bytes restarted: at a snapshot this node noticed, or at start.
#[derive(Debug, Clone, Copy)]
struct Baseline {
    snapshot_index: Option<u64>,
    appended_bytes: u64,
    /// Log bytes on disk at start that came after the snapshot: replayed, not appended, so the
    /// appended count misses them. Counted until the first snapshot (kept entries make it a slight
    /// over-estimate, which only brings that snapshot forward).
    carried_bytes: u64,
}

/// Runs until `stop` turns true, triggering a snapshot whenever `snapshot_due` says so.
pub async fn run(context: Arc<NodeContext>, snapshot_logs: u64, mut stop: tokio::sync::watch::Receiver<bool>) {
    let stats = context.log.stats();
    let mut baseline = Baseline {
        snapshot_index: snapshot_index(&context),
        appended_bytes: stats.appended_bytes,
        carried_bytes: stats.segment_bytes,
    };
    while wait_or_stop(&mut stop, CHECK_INTERVAL_MS).await {
        let appended_bytes = context.log.stats().appended_bytes;
        let index = snapshot_index(&context);
        if index != baseline.snapshot_index {
            // Counted from when the snapshot was noticed, not from its index: entries appended
            // while it was written are missed, which can only delay the next one a little.
            baseline = Baseline { snapshot_index: index, appended_bytes, carried_bytes: 0 };
        }
        let growth = LogGrowth {
            entries_since_snapshot: applied_index(&context).saturating_sub(index.unwrap_or(0)),
            bytes_since_snapshot: appended_bytes.saturating_sub(baseline.appended_bytes) + baseline.carried_bytes,
            snapshot_bytes: context.store.snapshot_counts().last_size_bytes,
        };
        if !snapshot_due(growth, snapshot_logs, context.id) {
            continue;
        }
        tracing::debug!(?growth, "snapshot due");
        // Ignored by openraft while a snapshot is being built; asked again at the next check.
        if let Err(error) = context.raft.trigger().snapshot().await {
            tracing::warn!(%error, "cannot trigger a snapshot; Raft has stopped");
            return;
        }
    }
}

fn snapshot_index(context: &NodeContext) -> Option<u64> {
    context.raft.metrics().borrow_watched().snapshot.map(|id| id.index)
}

fn applied_index(context: &NodeContext) -> u64 {
    context.raft.metrics().borrow_watched().last_applied.map_or(0, |id| id.index)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGS: u64 = 10_000;
    const BIG: u64 = PROPORTIONAL_SNAPSHOT_BYTES_MIN;

    fn growth(entries_since_snapshot: u64, bytes_since_snapshot: u64, snapshot_bytes: u64) -> LogGrowth {
        LogGrowth { entries_since_snapshot, bytes_since_snapshot, snapshot_bytes }
    }

    /// As node 1 (slot 0) decides.
    fn due(growth: LogGrowth, snapshot_logs: u64) -> bool {
        snapshot_due(growth, snapshot_logs, 1)
    }

    /// Nodes 1, 2, 3 wait for their log to grow by 1, 1.25 and 1.5 times a large snapshot's size;
    /// small snapshots are not staggered (they take well under a second).
    #[test]
    fn large_snapshots_are_staggered_by_node_id() {
        let due_at = |node_id: u64| {
            (0..=2 * BIG).step_by(1024).find(|bytes| snapshot_due(growth(2 * LOGS, *bytes, BIG), LOGS, node_id))
        };
        assert_eq!(due_at(1), Some(BIG));
        assert_eq!(due_at(2), Some(BIG + BIG / 4));
        assert_eq!(due_at(3), Some(BIG + BIG / 2));
        assert_eq!(due_at(5), Some(BIG), "slots repeat every {SNAPSHOT_STAGGER_SLOTS} ids");
        assert!(snapshot_due(growth(LOGS, 0, BIG - 1), LOGS, 3), "small log and snapshot: entries decide");
    }

    /// After a small snapshot, a log that grew by 32 MiB or more will make a large one: the
    /// entry count is staggered then (1, 1.25, 1.5 times `--snapshot-logs`), not for small logs.
    #[test]
    fn a_large_log_after_a_small_snapshot_staggers_the_entry_count() {
        let due_after = |node_id: u64, log_bytes: u64| {
            (0..=2 * LOGS).find(|entries| snapshot_due(growth(*entries, log_bytes, 164), LOGS, node_id))
        };
        assert_eq!(due_after(1, BIG), Some(LOGS));
        assert_eq!(due_after(2, BIG), Some(LOGS + LOGS / 4));
        assert_eq!(due_after(3, BIG), Some(LOGS + LOGS / 2));
        assert_eq!(due_after(3, BIG - 1), Some(LOGS), "a small log: every node at --snapshot-logs");
    }

    #[test]
    fn a_small_snapshot_is_due_after_the_configured_entries() {
        assert!(!due(growth(LOGS - 1, u64::MAX, 0), LOGS), "too few entries");
        assert!(due(growth(LOGS, 0, 0), LOGS), "no snapshot yet");
        assert!(due(growth(LOGS, 0, BIG - 1), LOGS), "small snapshot: entries decide");
    }

    #[test]
    fn a_large_snapshot_is_due_only_once_the_log_grew_by_its_size() {
        assert!(!due(growth(LOGS * 100, BIG - 1, BIG), LOGS), "log grew less than the snapshot");
        assert!(due(growth(LOGS, BIG, BIG), LOGS));
        assert!(!due(growth(LOGS - 1, 10 * BIG, BIG), LOGS), "entries still count");
        let ten_million_objects = 630 * 1024 * 1024;
        assert!(!due(growth(LOGS, 629 * 1024 * 1024, ten_million_objects), LOGS));
        assert!(due(growth(LOGS, ten_million_objects, ten_million_objects), LOGS));
    }
}
