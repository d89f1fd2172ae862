//! What a commit does to the client's own state once it ended: reads move past it, the cache drops
//! what it wrote, and the hold table learns whether the objects it created exist. Shared by the
//! synchronous commits and the asynchronous committer.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::sync::RwLock;

use super::cache::Cache;
use super::error::HeapError;
use super::guards::lock;
use super::guards::write_lock;
use super::holds::HoldTable;
use super::holds::ServerHold;

/// After a commit at `log_index` that wrote `written`: reads reflect it, and the cache drops those
/// objects (the synchronous commits and the asynchronous committer alike).
pub(super) fn after_write(
    min_read_index: &AtomicU64,
    cache: &RwLock<Cache>,
    log_index: u64,
    written: &[u64],
) -> Result<(), HeapError> {
    min_read_index.fetch_max(log_index, Ordering::SeqCst);
    let mut cache = write_lock(cache)?;
    for id in written {
        cache.remove(*id);
    }
    Ok(())
}

/// Tells the hold table how the transaction that created `created` ended.
pub(super) fn creates_ended(holds: &Mutex<HoldTable>, created: &[u64], outcome: CreatesEnded) -> Result<(), HeapError> {
    if created.is_empty() {
        return Ok(());
    }
    let mut holds = lock(holds)?;
    match outcome {
        // The transaction may reference them, so the server may not hold them.
        CreatesEnded::Committed | CreatesEnded::Unknown => holds.committed(created, ServerHold::Maybe),
        CreatesEnded::Refused => holds.discarded(created),
    }
    Ok(())
}

/// How the transaction that created objects under a lock ended.
pub(super) enum CreatesEnded {
    Committed,
    Refused,
    /// No answer: it may have committed.
    Unknown,
}
