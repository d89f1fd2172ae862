//! `SnapshotActivity`: how many snapshots this node built and installed, and the size of the last
//! one, for the node's metrics (lock-free counters; readers see a recent value, never a torn one).

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

/// Counters of snapshot work, updated by the state machine store.
#[derive(Debug, Default)]
pub struct SnapshotActivity {
    built_total: AtomicU64,
    installed_total: AtomicU64,
    last_size_bytes: AtomicU64,
}

/// One reading of `SnapshotActivity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SnapshotCounts {
    /// Snapshots this node built from its own state since it started.
    pub built_total: u64,
    /// Snapshots this node installed from a leader since it started.
    pub installed_total: u64,
    /// Encoded size of the last snapshot built or installed: the heap's image size at that point.
    pub last_size_bytes: u64,
}

impl SnapshotActivity {
    pub fn record_built(&self, size_bytes: u64) {
        self.built_total.fetch_add(1, Ordering::Relaxed);
        self.last_size_bytes.store(size_bytes, Ordering::Relaxed);
    }

    /// The snapshot a start loaded: its size counts as the last one's, though none was built or
    /// installed since start.
    pub fn record_loaded(&self, size_bytes: u64) {
        self.last_size_bytes.store(size_bytes, Ordering::Relaxed);
    }

    pub fn record_installed(&self, size_bytes: u64) {
        self.installed_total.fetch_add(1, Ordering::Relaxed);
        self.last_size_bytes.store(size_bytes, Ordering::Relaxed);
    }

    pub fn counts(&self) -> SnapshotCounts {
        SnapshotCounts {
            built_total: self.built_total.load(Ordering::Relaxed),
            installed_total: self.installed_total.load(Ordering::Relaxed),
            last_size_bytes: self.last_size_bytes.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_installs_are_counted_and_the_last_size_kept_also_from_the_loaded_one() {
        let activity = SnapshotActivity::default();
        activity.record_loaded(50);
        assert_eq!(activity.counts(), SnapshotCounts { built_total: 0, installed_total: 0, last_size_bytes: 50 });
        activity.record_built(100);
        activity.record_built(300);
        activity.record_installed(200);
        assert_eq!(activity.counts(), SnapshotCounts { built_total: 2, installed_total: 1, last_size_bytes: 200 });
    }
}
