//! The durable Raft log: append-only, checksummed, fdatasync'd segment files plus small atomic
//! files for the vote and the purge point, behind openraft's `RaftLogStorage`.
//!
//! # On disk (`DIR/`)
//! - `segment-<first index, 20 digits>.log`: records `[payload_len u32 LE][crc32 u32 LE]
//!   [index u64 LE][payload = bincode 2 (serde, standard config) of the Entry]`; the crc32 covers
//!   index and payload. Records are contiguous in index within and across segments. A segment rolls
//!   when the next record would take it past `LogOptions::segment_size_bytes` (default and max
//!   `SEGMENT_SIZE_BYTES_MAX` = 64 MiB); a record larger than that sits alone.
//! - `vote.meta`, `purged.meta`: `[magic "SVMF"][payload_len u32 LE][crc32 u32 LE][bincode]`,
//!   replaced by tmp + fsync + rename + fsync(dir).
//! - `LOCK`: flock'd while a store has the directory open.
//!
//! # Durability (where the syncs are)
//! - append: `pwrite` only, then the callback goes to the flusher thread (`flusher.rs`), which
//!   takes every queued callback, fdatasyncs each segment they touched once (group commit), then
//!   completes them in order. A segment roll fdatasyncs the old segment first (`store.rs`,
//!   `Inner::write_records`); a new segment's directory entry is fsynced at creation.
//! - save_vote: returns after the vote file and the directory are fsynced.
//! - truncate_after: deletes later segments newest first (fsync dir after each), then ftruncate +
//!   fdatasync of the segment holding the new last entry.
//! - purge: takes effect in memory at once; the purge thread (`purger.rs`) then makes the purge
//!   point durable, deletes the whole purged segments and fsyncs the directory, purge after purge
//!   in order, off Raft's path (done inline it stalled the node behind a large snapshot's flush).
//!   A crash before that leaves the older purge point and the segments: entries a snapshot
//!   already covers, purged again after the restart. A purge past the last entry waits for its
//!   disk work. Entries of a partly purged segment stay on disk and are skipped on recovery
//!   (their index is at or below the purge point).
//! - Any failed write or sync makes the store refuse all further writes (`LogError::Failed`): a
//!   storage error stops the node rather than risk acknowledging what is not on disk.
//! - The committed log id is not saved (`save_committed` is openraft's default no-op): openraft
//!   calls it with ids up to what was *submitted*, not flushed, so persisting it safely would need
//!   a log barrier and three fsyncs per apply batch. The state machine store owns its durability.
//!
//! # Memory
//! Memory does not grow with entry count times entry size. For every entry after the purge point
//! the store keeps its log id (as leader runs) and its record's offset and size, about 8 bytes
//! (`log_index.rs`); of the entries themselves it keeps only the most recent, up to
//! `LogOptions::cache_bytes_max` (default and most `LOG_CACHE_BYTES_MAX`, 64 MiB; `cache.rs`).
//! Reads take what they can from the cache and `pread` the older records from their segments,
//! checking each record's checksum and that it is the entry the index expects; a mismatch is a
//! `CorruptSegment` error that fails the store (`record_reader.rs`). Appended entries leave the
//! cache even before they are fsynced: `pwrite`'s bytes are readable by `pread` at once. Reads
//! plan under the state lock and copy from disk after it (`read_plan.rs`), so appends are not held
//! up by a lagging follower's catch-up; truncation waits for such reads (`records_stable`).
//! `limited_get_log_entries` (replication) and `entries_stream` (apply) read at most
//! `LIMITED_READ_BYTES_MAX` at a time; `try_get_log_entries` returns whatever range it is asked.
//!
//! # Recovery
//! See `recovery.rs`: only a torn tail of the last segment is cut (with a warning); any other
//! damage or gap is a fatal `LogError` telling the operator to re-seed the node from a peer.
//! Recovery reads one segment at a time and rebuilds the index and the cache as it goes.

mod cache;
mod disk;
mod error;
mod flusher;
mod log_index;
mod meta_file;
mod options;
mod purger;
mod read_plan;
mod record;
mod record_reader;
mod recovery;
mod segment;
mod stats;
mod store;

#[cfg(test)]
mod testing;

pub use error::LogError;
pub use options::LogOptions;
pub use stats::LogStats;
pub use store::LogReader;
pub use store::LogStore;
