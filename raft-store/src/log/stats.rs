//! Counters of the durable log's disk activity and the `LogStats` snapshot exposed for observability.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::histogram::Histogram;

/// Live counters shared by the store and its flusher thread.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) fdatasync_count: AtomicU64,
    pub(crate) fsync_count: AtomicU64,
    pub(crate) flush_request_count: AtomicU64,
    pub(crate) flush_batch_count: AtomicU64,
    pub(crate) flushed_callback_count: AtomicU64,
    pub(crate) inline_sync_count: AtomicU64,
    pub(crate) appended_entry_count: AtomicU64,
    pub(crate) appended_bytes: AtomicU64,
    /// How long each fdatasync and fsync took (`disk.rs`); shared with the metrics exporter.
    pub(crate) sync_latency: Arc<Histogram>,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::SeqCst);
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }
}

/// A point-in-time view of the log, from `LogStore::stats()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Segment files on disk.
    pub segment_count: u64,
    /// Bytes in all segment files.
    pub segment_bytes: u64,
    /// Entries in the log (every entry after the purge point), cached or on disk only.
    pub entry_count: u64,
    /// Index of the first entry in the log, if any.
    pub first_index: Option<u64>,
    /// Index of the last entry in the log, if any.
    pub last_index: Option<u64>,
    /// Most recent entries held in memory (`LogOptions::cache_bytes_max`).
    pub cached_entry_count: u64,
    /// What the cached entries are charged: record sizes plus the in-memory entry structs; at
    /// most `LogOptions::cache_bytes_max`.
    pub cached_bytes: u64,
    /// `fdatasync` calls on segment files (group commits, segment rolls, truncations).
    pub fdatasync_count: u64,
    /// `fsync` calls on metadata files and the directory.
    pub fsync_count: u64,
    /// Append callbacks the flusher thread has taken from its queue.
    pub flush_request_count: u64,
    /// Group commits the flusher performed (each one fdatasync per dirty segment).
    pub flush_batch_count: u64,
    /// Append callbacks the flusher completed (with success or error).
    pub flushed_callback_count: u64,
    /// Follower appends synced and completed in `append` itself, without the flusher thread.
    pub inline_sync_count: u64,
    /// Entries appended since open.
    pub appended_entry_count: u64,
    /// Record bytes (headers and payloads) appended since open: how fast the log grows, for a
    /// snapshot policy that weighs log growth against the snapshot's size.
    pub appended_bytes: u64,
    /// Whether a write or sync failed and the store now refuses writes.
    pub failed: bool,
}
