//! `LogOptions`: the tunables of a `LogStore`, validated against the bounds of the on-disk format
//! and of its memory.

use super::error::LogError;
use super::record::RECORD_SIZE_BYTES_MAX;
use crate::types::NodeId;

/// Default and largest segment size: a segment rolls before a record would take it past this.
pub const SEGMENT_SIZE_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// Smallest segment size accepted (tests use tiny segments to exercise rolling).
pub const SEGMENT_SIZE_BYTES_MIN: u64 = 64;

const _: () = assert!(SEGMENT_SIZE_BYTES_MIN <= SEGMENT_SIZE_BYTES_MAX);
// A record larger than the segment size sits alone in its segment, so a segment file never
// exceeds SEGMENT_SIZE_BYTES_MAX.
const _: () = assert!(RECORD_SIZE_BYTES_MAX as u64 <= SEGMENT_SIZE_BYTES_MAX);

/// Default and largest budget of the entry cache (`cache.rs`): the most recent entries are kept
/// in memory up to this many bytes, counted as each entry's record size plus its in-memory
/// struct; older entries are read back from their segment files. 32 MiB holds the last ~450
/// entries of a bulk-write workload (~70 KB each), which covers replication to healthy followers
/// and the apply path; only a lagging follower or a restart reads from disk. Not more: every node
/// keeps it full, and at a million small objects 64 MiB was a fifth of a node's memory.
pub const LOG_CACHE_BYTES_MAX: u64 = 32 * 1024 * 1024;

/// Cached entries older than this leave the cache (the log's sweeper thread checks every
/// `LOG_CACHE_SWEEP_INTERVAL_MS`): a follower more than this far behind reads from the segments
/// anyway, and an idle node does not keep its last entries in memory for good.
pub const LOG_CACHE_ENTRY_AGE_MAX_MS: u64 = 10_000;
/// How often the sweeper thread evicts entries older than `LOG_CACHE_ENTRY_AGE_MAX_MS`.
pub const LOG_CACHE_SWEEP_INTERVAL_MS: u64 = 1_000;

// One maximal record fits in the default budget, so the cache can hold at least the last entry
// of any workload at the default.
const _: () = assert!(RECORD_SIZE_BYTES_MAX as u64 <= LOG_CACHE_BYTES_MAX);

/// Options of `LogStore::open_with`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    /// A segment rolls when the next record would take it past this many bytes.
    pub segment_size_bytes: u64,
    /// This node's id. Appends of entries another node proposed (this node follows) are synced
    /// in `append` itself when nothing is queued for the flusher thread, which saves two thread
    /// wake-ups on the commit path. `None`: every append goes through the flusher.
    pub local_node: Option<NodeId>,
    /// Bytes of recent entries kept in memory (at most `LOG_CACHE_BYTES_MAX`; 0 reads every
    /// entry from disk). Everything else the log keeps in memory is a few bytes per entry.
    pub cache_bytes_max: u64,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            segment_size_bytes: SEGMENT_SIZE_BYTES_MAX,
            local_node: None,
            cache_bytes_max: LOG_CACHE_BYTES_MAX,
        }
    }
}

impl LogOptions {
    pub(crate) fn validate(&self) -> Result<(), LogError> {
        if self.segment_size_bytes < SEGMENT_SIZE_BYTES_MIN {
            return Err(LogError::InvalidOptions {
                reason: format!(
                    "segment_size_bytes {} is under the minimum of {SEGMENT_SIZE_BYTES_MIN}",
                    self.segment_size_bytes
                ),
            });
        }
        if self.segment_size_bytes > SEGMENT_SIZE_BYTES_MAX {
            return Err(LogError::InvalidOptions {
                reason: format!(
                    "segment_size_bytes {} is over the maximum of {SEGMENT_SIZE_BYTES_MAX}",
                    self.segment_size_bytes
                ),
            });
        }
        if self.cache_bytes_max > LOG_CACHE_BYTES_MAX {
            return Err(LogError::InvalidOptions {
                reason: format!(
                    "cache_bytes_max {} is over the maximum of {LOG_CACHE_BYTES_MAX}",
                    self.cache_bytes_max
                ),
            });
        }
        Ok(())
    }
}
