//! `DiskGuard`: watches the free space of the data dir's file system and, before the disk is full,
//! warns (below `--disk-warn-free-bytes`) and then refuses new client writes (below
//! `--disk-min-free-bytes`), so writes fail clearly up front instead of after they were accepted.
//!
//! What is refused, and where:
//! - The leader refuses new work when its own disk is low: transactions (alone, in a session or
//!   as a commit at unlock), AllocateIds, OpenSession and new lock requests, with
//!   `resource_exhausted` naming the node, its free bytes and the threshold. A follower forwards
//!   writes to the leader as usual; it does not refuse on its own disk's account, because its
//!   refusal would not stop the leader from growing every log, its own included.
//! - Still accepted: keep-alives and closes (they keep clients' leases alive or end them; an entry
//!   of a few bytes each), unlocks without a commit, Wait and Notify (they move locks already held
//!   towards release), the leader's Tick and Grace. Reads never write and always answer.
//! - Raft itself goes on (heartbeats, replication of entries already accepted), so nothing
//!   acknowledged is lost. A follower whose disk does fill up fails its next log write or
//!   fdatasync: its log store then refuses every write, Raft stops, and the watchdog exits the
//!   process (`watchdog.rs`); the majority carries on, and the node rejoins once restarted with
//!   space. The warning (log, `heapctl status`, `sovereign_disk_warning`) comes first on it too.
//!
//! One background task samples statvfs every `DISK_CHECK_INTERVAL_MS`; requests read the last
//! sample (two atomics), so the guard costs nothing on the write path.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use heap_machine as hm;
use tonic::Status;

use crate::disk_space::disk_space;
use crate::limits::DISK_CHECK_INTERVAL_MS;

const MIB_BYTES: u64 = 1024 * 1024;

/// The two free-space thresholds of one node, validated by `config.rs` (`min < warn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskThresholds {
    /// Below this many free bytes the node warns.
    pub warn_free_bytes: u64,
    /// Below this many free bytes the leader refuses new writes.
    pub min_free_bytes: u64,
}

/// How the data dir's free space stands against the thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiskLevel {
    Fine = 0,
    /// Below the warning threshold: writes still accepted.
    Low = 1,
    /// Below the refusal threshold: new writes refused.
    Refusing = 2,
}

impl DiskLevel {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => DiskLevel::Fine,
            1 => DiskLevel::Low,
            _ => DiskLevel::Refusing,
        }
    }
}

impl DiskThresholds {
    pub fn level(&self, free_bytes: u64) -> DiskLevel {
        if free_bytes < self.min_free_bytes {
            DiskLevel::Refusing
        } else if free_bytes < self.warn_free_bytes {
            DiskLevel::Low
        } else {
            DiskLevel::Fine
        }
    }
}

/// Whether `command` is new work the leader refuses while its disk is below the refusal
/// threshold (see the module doc for why the others pass).
pub fn is_refused_when_disk_low(command: &hm::Command) -> bool {
    use hm::SessionCommand as S;
    match command {
        hm::Command::Transaction(_) | hm::Command::AllocateIds { .. } | hm::Command::OpenSession { .. } => true,
        // Collect frees space; refusing it would make a full disk fuller.
        hm::Command::Tick | hm::Command::Grace | hm::Command::ResumeLeases | hm::Command::Collect { .. } => false,
        hm::Command::Session(request) => match &request.command {
            S::Transaction(_) | S::Lock { .. } | S::Unlock { commit: Some(_), .. } => true,
            // A hold is a few bytes that keep a client's objects from the collector; a release frees.
            S::KeepAlive
            | S::Close
            | S::Unlock { commit: None, .. }
            | S::Wait { .. }
            | S::WaitAs { .. }
            | S::Notify { .. }
            | S::Hold { .. }
            | S::Release { .. } => false,
        },
    }
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes / MIB_BYTES)
}

/// The free space of one node's data dir, as last sampled, and what it means for writes.
pub struct DiskGuard {
    node_id: u64,
    data_dir: PathBuf,
    thresholds: DiskThresholds,
    /// The last sample; `u64::MAX` until statvfs first answers (unknown space refuses nothing).
    free_bytes: AtomicU64,
    /// `DiskLevel` of the last sample, as its `u8`.
    level: AtomicU8,
}

impl DiskGuard {
    /// A guard for `data_dir`, sampled once already, so the node's first write is judged.
    pub fn new(node_id: u64, data_dir: PathBuf, thresholds: DiskThresholds) -> Self {
        let guard = Self {
            node_id,
            data_dir,
            thresholds,
            free_bytes: AtomicU64::new(u64::MAX),
            level: AtomicU8::new(DiskLevel::Fine as u8),
        };
        guard.sample();
        guard
    }

    /// Free bytes at the last sample (`u64::MAX` if never read).
    pub fn free_bytes(&self) -> u64 {
        self.free_bytes.load(Ordering::Relaxed)
    }

    pub fn level(&self) -> DiskLevel {
        DiskLevel::from_u8(self.level.load(Ordering::Relaxed))
    }

    /// Reads the data dir's free space now and logs a change of level. A failed statvfs keeps the
    /// last sample (and is logged at debug level: the metrics show the gap).
    pub fn sample(&self) -> DiskLevel {
        match disk_space(&self.data_dir) {
            Some(space) => self.record(space.free_bytes),
            None => {
                tracing::debug!(data_dir = %self.data_dir.display(), "cannot read the data dir's free space");
                self.level()
            }
        }
    }

    /// Stores one sample and logs the change of level it makes, if any.
    fn record(&self, free_bytes: u64) -> DiskLevel {
        let level = self.thresholds.level(free_bytes);
        self.free_bytes.store(free_bytes, Ordering::Relaxed);
        let previous = DiskLevel::from_u8(self.level.swap(level as u8, Ordering::Relaxed));
        if previous != level {
            self.log_change(previous, level, free_bytes);
        }
        level
    }

    fn log_change(&self, previous: DiskLevel, level: DiskLevel, free_bytes: u64) {
        let (node_id, data_dir, free) = (self.node_id, self.data_dir.display(), mib(free_bytes));
        match level {
            DiskLevel::Fine => tracing::info!(
                node_id, %data_dir, free_bytes, "disk space recovered: {free} free, above the warning threshold"
            ),
            DiskLevel::Low if previous == DiskLevel::Refusing => tracing::info!(
                node_id, %data_dir, free_bytes, "writes accepted again: {free} free; {}",
                self.warning().unwrap_or_default()
            ),
            DiskLevel::Low | DiskLevel::Refusing => {
                tracing::warn!(node_id, %data_dir, free_bytes, "{}", self.warning().unwrap_or_default())
            }
        }
    }

    /// What an operator should know about this node's disk, or `None` when it is fine.
    pub fn warning(&self) -> Option<String> {
        let (node_id, data_dir) = (self.node_id, self.data_dir.display());
        let free = mib(self.free_bytes());
        let (warn, min) = (mib(self.thresholds.warn_free_bytes), mib(self.thresholds.min_free_bytes));
        match self.level() {
            DiskLevel::Fine => None,
            DiskLevel::Low => Some(format!(
                "disk space low on node {node_id}: data dir {data_dir} has {free} free, below the warning \
                 threshold of {warn} (--disk-warn-free-bytes); writes are refused below {min}: free disk space"
            )),
            DiskLevel::Refusing => Some(self.refusal()),
        }
    }

    fn refusal(&self) -> String {
        format!(
            "node {} refuses new writes: its data dir {} has {} free, below the {} kept free \
             (--disk-min-free-bytes); reads still work. Free disk space on node {}'s data dir, or lower \
             --disk-min-free-bytes carefully (it is the margin that keeps the disk from filling)",
            self.node_id,
            self.data_dir.display(),
            mib(self.free_bytes()),
            mib(self.thresholds.min_free_bytes),
            self.node_id
        )
    }

    /// `resource_exhausted` for new work while the disk is below the refusal threshold; the
    /// caller (`Proposer`) asks only when this node leads.
    pub fn admit(&self, command: &hm::Command) -> Result<(), Status> {
        if self.level() == DiskLevel::Refusing && is_refused_when_disk_low(command) {
            return Err(Status::resource_exhausted(self.refusal()));
        }
        Ok(())
    }

    /// Samples every `DISK_CHECK_INTERVAL_MS` until `stop` changes or its sender is dropped.
    pub async fn watch(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut interval = tokio::time::interval(Duration::from_millis(DISK_CHECK_INTERVAL_MS));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    self.sample();
                }
                _ = stop.changed() => return,
            }
        }
    }
}

#[cfg(test)]
#[path = "disk_guard_test.rs"]
mod tests;
