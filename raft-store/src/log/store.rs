//! `LogStore`: openraft's `RaftLogStorage` over fdatasync'd segment files. In memory it keeps an
//! index of every entry after the purge point (log id and record location, a few bytes each) and
//! the most recent entries up to a byte budget (`cache.rs`); older entries are read back from
//! their segment files (`record_reader.rs`).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::File;
use std::fs::OpenOptions;
use std::io;
use std::ops::RangeBounds;
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::RwLock;
use std::sync::RwLockReadGuard;
use std::sync::RwLockWriteGuard;
use std::time::Duration;
use std::time::Instant;

use futures::Stream;
use futures::TryStreamExt;

use openraft::storage::IOFlushed;
use openraft::storage::LogState;
use openraft::storage::RaftLogStorage;
use openraft::OptionalSend;
use openraft::RaftLogReader;

use super::cache::EntryCache;
use super::disk;
use super::error::LogError;
use super::flusher;
use super::flusher::FlushRequest;
use super::flusher::Flusher;
use super::log_index::LogIndex;
use super::meta_file;
use super::meta_file::VOTE_FILE_NAME;
use super::options::LogOptions;
use super::options::LOG_CACHE_ENTRY_AGE_MAX_MS;
use super::options::LOG_CACHE_SWEEP_INTERVAL_MS;
use super::purger::PurgeJob;
use super::purger::Purger;
use super::read_plan;
use super::read_plan::ReadLimit;
use super::record::encode_record;
use super::record::EncodeError;
use super::record::RECORD_PAYLOAD_SIZE_BYTES_MAX;
use super::record_reader;
use super::recovery;
use super::recovery::LOCK_FILE_NAME;
use super::recovery::SEGMENT_COUNT_MAX;
use super::segment;
use super::segment::Segment;
use super::stats::Counters;
use super::stats::LogStats;
use crate::histogram::Histogram;
use crate::types::Entry;
use crate::types::LogId;
use crate::types::TypeConfig;
use crate::types::Vote;

/// Most entries `limited_get_log_entries` returns at once, and most entries one step of
/// `entries_stream` reads.
pub(crate) const LIMITED_READ_ENTRIES_MAX: u64 = 4096;

/// Most record bytes `limited_get_log_entries` returns at once (at least one entry whatever its
/// size), and most one step of `entries_stream` reads: replication of a lagging follower and the
/// apply path hold about this much of the log at a time, not a whole range of large entries.
/// Matches heap-server's AppendEntries payload bound, which cuts a batch there anyway.
pub(crate) const LIMITED_READ_BYTES_MAX: u64 = 16 * 1024 * 1024;

const LIMITED_READ: ReadLimit =
    ReadLimit { entries_max: LIMITED_READ_ENTRIES_MAX, record_bytes_max: LIMITED_READ_BYTES_MAX };

/// The durable Raft log of one node: its entries, its vote and its purge point.
///
/// There is one writer (`LogStore`, not `Clone`); readers are `LogReader`s sharing its state.
pub struct LogStore {
    inner: Arc<Inner>,
}

/// A cheap read-only handle on a `LogStore`, for openraft's replication tasks.
#[derive(Clone)]
pub struct LogReader {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    options: LogOptions,
    /// Shared with the cache sweeper thread, which holds it weakly.
    state: Arc<Mutex<State>>,
    /// Held shared while a read copies records from segment files outside the state lock, and
    /// exclusively by truncation, the one change that rewrites bytes at offsets the index once
    /// pointed at (appends write past every indexed record; purge only unlinks files, which a
    /// reader holding the `File` still reads). Taken before the state lock, never after it.
    records_stable: RwLock<()>,
    counters: Arc<Counters>,
    /// Set by the first failed write or sync; the store then refuses every write.
    failed: Arc<AtomicBool>,
    /// Dropped before `_lock_file`: pending callbacks complete before the directory is released.
    flusher: Flusher,
    /// Makes purges durable off Raft's path, in order; dropped (its queue finished) before
    /// `_lock_file` too.
    purger: Purger,
    #[cfg(test)]
    gate: Arc<super::flusher::SyncGate>,
    _lock_file: File,
}

/// Starts the thread that evicts cached entries older than `LOG_CACHE_ENTRY_AGE_MAX_MS`. It
/// holds the state weakly and ends within one interval of the store being dropped.
fn start_cache_sweeper(state: std::sync::Weak<Mutex<State>>) -> std::io::Result<()> {
    let interval = Duration::from_millis(LOG_CACHE_SWEEP_INTERVAL_MS);
    let age_max = Duration::from_millis(LOG_CACHE_ENTRY_AGE_MAX_MS);
    std::thread::Builder::new().name("raft-log-cache-sweeper".into()).spawn(move || loop {
        std::thread::sleep(interval);
        let Some(state) = state.upgrade() else { return };
        let Ok(mut state) = state.lock() else { return };
        if let Some(cutoff) = Instant::now().checked_sub(age_max) {
            state.cache.evict_older_than(cutoff);
            state.validate();
        }
    })?;
    Ok(())
}

/// The log as the store knows it: on disk, and in memory its index and its most recent entries.
struct State {
    vote: Option<Vote>,
    purged: Option<LogId>,
    /// Segment files by first index; the last one is the active segment appends go to.
    segments: BTreeMap<u64, Segment>,
    /// Every entry after the purge point, contiguous: its log id and where its record lies.
    index: LogIndex,
    /// The most recent entries, within `LogOptions::cache_bytes_max`.
    cache: EntryCache,
}

impl LogStore {
    /// Opens (or creates) the log in `dir` with default options, recovering it from disk.
    pub fn open(dir: &Path) -> Result<LogStore, LogError> {
        LogStore::open_with(dir, LogOptions::default())
    }

    /// Opens (or creates) the log in `dir`, recovering it from disk.
    pub fn open_with(dir: &Path, options: LogOptions) -> Result<LogStore, LogError> {
        options.validate()?;
        let counters = Arc::new(Counters::default());
        create_dir(dir, &counters)?;
        let lock_file = lock_dir(dir)?;
        let recovered = recovery::recover(dir, &counters, options.cache_bytes_max)?;
        let state = State {
            vote: recovered.vote,
            purged: recovered.purged,
            segments: recovered.segments,
            index: recovered.index,
            cache: recovered.cache,
        };
        state.validate();
        tracing::info!(
            dir = %dir.display(),
            segment_count = state.segments.len(),
            entry_count = state.index.len(),
            cached_entry_count = state.cache.len(),
            cached_bytes = state.cache.cached_bytes(),
            purged = ?state.purged,
            last_log_id = ?state.last_log_id(),
            "opened the raft log"
        );
        let state = Arc::new(Mutex::new(state));
        start_cache_sweeper(Arc::downgrade(&state))
            .map_err(|e| LogError::io("starting the cache sweeper for", dir, e))?;
        let failed = Arc::new(AtomicBool::new(false));
        #[cfg(test)]
        let gate = Arc::new(super::flusher::SyncGate::default());
        let flusher = Flusher::start(
            counters.clone(),
            failed.clone(),
            #[cfg(test)]
            gate.clone(),
        )
        .map_err(|e| LogError::io("starting the flusher thread for", dir, e))?;
        let purger = Purger::start(dir.to_path_buf(), counters.clone(), failed.clone())
            .map_err(|e| LogError::io("starting the purge thread for", dir, e))?;
        Ok(LogStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                options,
                state,
                records_stable: RwLock::new(()),
                counters,
                failed,
                flusher,
                purger,
                #[cfg(test)]
                gate,
                _lock_file: lock_file,
            }),
        })
    }

    /// Disk activity and size of the log.
    pub fn stats(&self) -> LogStats {
        self.inner.stats()
    }

    /// How long each of the log's fdatasyncs and fsyncs took, live: keep the handle to render it
    /// after the store has moved into Raft.
    pub fn sync_latency(&self) -> Arc<Histogram> {
        Arc::clone(&self.inner.counters.sync_latency)
    }

    /// A read-only handle sharing this store's state.
    pub fn reader(&self) -> LogReader {
        LogReader { inner: self.inner.clone() }
    }

    #[cfg(test)]
    pub(crate) fn flusher_gate(&self) -> Arc<super::flusher::SyncGate> {
        self.inner.gate.clone()
    }

    #[cfg(test)]
    pub(crate) fn flusher_is_idle(&self) -> bool {
        self.inner.flusher.is_idle()
    }

    #[cfg(test)]
    pub(crate) fn mark_failed_for_test(&self) {
        self.inner.failed.store(true, Ordering::SeqCst);
    }
}

fn create_dir(dir: &Path, counters: &Counters) -> Result<(), LogError> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| LogError::io("creating", dir, e))?;
    if let Some(parent) = dir.parent() {
        if !parent.as_os_str().is_empty() {
            disk::sync_dir(parent, counters).map_err(|e| LogError::io("syncing", parent, e))?;
        }
    }
    Ok(())
}

/// Takes an exclusive lock on `dir/LOCK`, held until the store is dropped.
fn lock_dir(dir: &Path) -> Result<File, LogError> {
    let path = dir.join(LOCK_FILE_NAME);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| LogError::io("opening", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(LogError::Locked { dir: dir.to_path_buf() }),
        Err(std::fs::TryLockError::Error(e)) => Err(LogError::io("locking", &path, e)),
    }
}

impl State {
    fn last_log_id(&self) -> Option<LogId> {
        self.index.last_log_id().or(self.purged)
    }

    /// The index the next appended entry must have; None if the log is empty and never purged.
    fn next_index(&self) -> Option<u64> {
        self.last_log_id().map(|id| id.index + 1)
    }

    /// O(1) invariants, checked after every change.
    fn validate(&self) {
        self.index.validate();
        self.cache.validate();
        assert!(self.segments.len() <= SEGMENT_COUNT_MAX, "segment count bounded");
        if let (Some(first), Some(last)) = (self.index.first_index(), self.index.last_index()) {
            if let Some(purged) = &self.purged {
                assert_eq!(purged.index + 1, first, "the first entry follows the purge point");
                let first_id = self.index.log_id(first).expect("the log holds its first entry");
                assert!(purged < &first_id, "purged before the first entry");
            }
            let (active_first, active) = self.segments.last_key_value().expect("entries live in segments");
            assert_eq!(*active_first, active.first_index, "segments are keyed by first index");
            assert!(*active_first <= last, "the last entry is in the active segment");
            if let (Some(cache_first), Some(cache_last)) = (self.cache.first_index(), self.cache.last_index()) {
                assert!(cache_first >= first, "only entries after the purge point are cached");
                assert_eq!(cache_last, last, "the cache is a suffix of the log");
            }
        } else {
            assert_eq!(self.cache.len(), 0, "nothing is cached of an empty log");
        }
    }
}

impl Inner {
    fn lock_state(&self) -> Result<MutexGuard<'_, State>, LogError> {
        self.state.lock().map_err(|_| LogError::Failed { dir: self.dir.clone() })
    }

    fn check_writable(&self) -> Result<(), LogError> {
        if self.failed.load(Ordering::SeqCst) {
            return Err(LogError::Failed { dir: self.dir.clone() });
        }
        Ok(())
    }

    /// Marks the store failed on any error that may have left the disk half-written.
    fn fail_on_error<T>(&self, result: Result<T, LogError>) -> Result<T, LogError> {
        if let Err(error) = &result {
            if !matches!(error, LogError::Contract { .. } | LogError::EntryTooLarge { .. } | LogError::Failed { .. }) {
                self.failed.store(true, Ordering::SeqCst);
                tracing::error!(%error, "a raft log write failed; the log store now refuses writes");
            }
        }
        result
    }

    fn stats(&self) -> LogStats {
        let counters = &self.counters;
        let mut stats = LogStats {
            fdatasync_count: Counters::get(&counters.fdatasync_count),
            fsync_count: Counters::get(&counters.fsync_count),
            flush_request_count: Counters::get(&counters.flush_request_count),
            flush_batch_count: Counters::get(&counters.flush_batch_count),
            flushed_callback_count: Counters::get(&counters.flushed_callback_count),
            inline_sync_count: Counters::get(&counters.inline_sync_count),
            appended_entry_count: Counters::get(&counters.appended_entry_count),
            appended_bytes: Counters::get(&counters.appended_bytes),
            failed: self.failed.load(Ordering::SeqCst),
            ..LogStats::default()
        };
        if let Ok(state) = self.state.lock() {
            stats.segment_count = state.segments.len() as u64;
            stats.segment_bytes = state.segments.values().map(|s| s.len_bytes).sum();
            stats.entry_count = state.index.len();
            stats.first_index = state.index.first_index();
            stats.last_index = state.index.last_index();
            stats.cached_entry_count = state.cache.len();
            stats.cached_bytes = state.cache.cached_bytes();
        }
        stats
    }

    fn read_records_stable(&self) -> Result<RwLockReadGuard<'_, ()>, LogError> {
        self.records_stable.read().map_err(|_| LogError::Failed { dir: self.dir.clone() })
    }

    fn lock_records_stable(&self) -> Result<RwLockWriteGuard<'_, ()>, LogError> {
        self.records_stable.write().map_err(|_| LogError::Failed { dir: self.dir.clone() })
    }

    /// The entries the log holds in `range`, cut at `limit`: the plan is made under the state
    /// lock (so the read is one consistent view), the records are read from disk after it is
    /// released (so appends go on meanwhile). A record that fails its checks fails the store.
    fn read_entries<RB: RangeBounds<u64>>(&self, range: &RB, limit: ReadLimit) -> Result<Vec<Entry>, LogError> {
        let _records_stable = self.read_records_stable()?;
        let plan = {
            let state = self.lock_state()?;
            read_plan::plan_read(&state.index, &state.cache, &state.segments, range, limit)
        };
        let mut entries = Vec::with_capacity(plan.entry_count());
        for run in &plan.disk_runs {
            let result = record_reader::read_run(&self.dir, run, &mut entries);
            self.fail_on_error(result)?;
        }
        entries.extend(plan.cached);
        Ok(entries)
    }

    fn read_vote(&self) -> Result<Option<Vote>, LogError> {
        Ok(self.lock_state()?.vote)
    }

    fn log_state(&self) -> Result<LogState<TypeConfig>, LogError> {
        let state = self.lock_state()?;
        Ok(LogState { last_purged_log_id: state.purged, last_log_id: state.last_log_id() })
    }

    /// Makes `vote` durable (tmp + fsync + rename + fsync dir), then serves it.
    fn save_vote(&self, vote: &Vote) -> Result<(), LogError> {
        self.check_writable()?;
        self.fail_on_error(meta_file::write_meta(&self.dir, VOTE_FILE_NAME, vote, &self.counters))?;
        self.lock_state()?.vote = Some(*vote);
        Ok(())
    }

    /// Writes the records of `entries` (not synced) and makes them readable. Returns the segment
    /// the flusher must sync before the append is acknowledged, if any segment exists.
    fn append_entries(&self, entries: Vec<Entry>) -> Result<Option<Arc<File>>, LogError> {
        let mut state = self.lock_state()?;
        self.check_writable()?;

        // Check and encode everything before writing anything, so a refused append writes nothing.
        let mut expected_index = state.next_index();
        let mut encoded = Vec::new();
        let mut record_bounds = Vec::with_capacity(entries.len());
        for entry in &entries {
            let index = entry.log_id.index;
            if let Some(expected) = expected_index {
                if index != expected {
                    return Err(LogError::Contract {
                        reason: format!(
                            "append of entry {} but the next index is {expected} (last {:?})",
                            entry.log_id,
                            state.last_log_id()
                        ),
                    });
                }
            }
            expected_index = Some(index + 1);
            let start = encoded.len();
            let size_bytes = encode_record(entry, &mut encoded).map_err(|error| match error {
                EncodeError::TooLarge { payload_size_bytes } => LogError::EntryTooLarge {
                    index,
                    size_bytes: payload_size_bytes as u64,
                    limit_bytes: RECORD_PAYLOAD_SIZE_BYTES_MAX as u64,
                },
                EncodeError::Bincode(reason) => {
                    LogError::Contract { reason: format!("entry {index} does not encode: {reason}") }
                }
            })?;
            record_bounds.push((start, size_bytes));
        }

        let result = self.write_records(&mut state, &entries, &encoded, &record_bounds);
        let offsets = self.fail_on_error(result)?;
        let entry_count = entries.len() as u64;
        let appended_bytes = encoded.len() as u64;
        for ((entry, offset_bytes), (_, size_bytes)) in entries.into_iter().zip(offsets).zip(record_bounds) {
            state.index.push(&entry.log_id, offset_bytes, size_bytes);
            state.cache.push(entry, size_bytes);
        }
        state.validate();
        Counters::add(&self.counters.appended_entry_count, entry_count);
        Counters::add(&self.counters.appended_bytes, appended_bytes);
        Ok(state.segments.last_key_value().map(|(_, segment)| segment.file.clone()))
    }

    /// Writes encoded records into the active segment, rolling to a new segment (after syncing the
    /// old one) when the next record would take it past the segment size. Returns each record's
    /// offset in its segment.
    fn write_records(
        &self,
        state: &mut State,
        entries: &[Entry],
        encoded: &[u8],
        record_bounds: &[(usize, usize)],
    ) -> Result<Vec<u64>, LogError> {
        let segment_size_bytes = self.options.segment_size_bytes;
        let mut offsets = Vec::with_capacity(entries.len());
        // Start in `encoded` of the first record not yet written to a segment.
        let mut unwritten_start = 0usize;
        for (entry, (start, size_bytes)) in entries.iter().zip(record_bounds) {
            let projected_len =
                state.segments.last_key_value().map(|(_, active)| active.len_bytes + (start - unwritten_start) as u64);
            let needs_new_segment = match projected_len {
                None => true,
                Some(len) => len > 0 && len + *size_bytes as u64 > segment_size_bytes,
            };
            if needs_new_segment {
                if let Some(active) = state.segments.values_mut().next_back() {
                    active.write(&encoded[unwritten_start..*start])?;
                    // Roll: the old segment is durable before any record of the new one is
                    // acknowledged, so the flusher only ever needs to sync the active segment.
                    active.sync(&self.counters)?;
                }
                unwritten_start = *start;
                if state.segments.len() >= SEGMENT_COUNT_MAX {
                    return Err(LogError::InvalidOptions {
                        reason: format!(
                            "the log in {} reached {SEGMENT_COUNT_MAX} segments; purge more often or raise the limit",
                            self.dir.display()
                        ),
                    });
                }
                let index = entry.log_id.index;
                let segment = Segment::create(&self.dir, index, &self.counters)?;
                state.segments.insert(index, segment);
            }
            let (_, active) = state.segments.last_key_value().expect("a segment exists or was just created");
            offsets.push(active.len_bytes + (start - unwritten_start) as u64);
        }
        if let Some(active) = state.segments.values_mut().next_back() {
            active.write(&encoded[unwritten_start..])?;
        }
        Ok(offsets)
    }

    /// Removes every entry after `last` (all of them if None), durably, newest segment first so a
    /// crash never leaves a hole.
    fn truncate_after(&self, last: Option<LogId>) -> Result<(), LogError> {
        // No read may be copying records this truncation frees for rewriting.
        let _records_stable = self.lock_records_stable()?;
        let mut state = self.lock_state()?;
        self.check_writable()?;
        let first_removed = match &last {
            Some(id) => id.index + 1,
            None => 0,
        };
        if let Some(purged) = &state.purged {
            if first_removed <= purged.index {
                return Err(LogError::Contract {
                    reason: format!("truncate_after({last:?}) would remove purged entries (purged up to {purged})"),
                });
            }
        }
        let (Some(first), Some(last_index)) = (state.index.first_index(), state.index.last_index()) else {
            return Ok(());
        };
        if first_removed > last_index {
            return Ok(());
        }
        let result = self.truncate_at(&mut state, first_removed.max(first));
        self.fail_on_error(result)?;
        state.validate();
        Ok(())
    }

    /// Removes the entries from `removed_index` on from disk and memory.
    fn truncate_at(&self, state: &mut State, removed_index: u64) -> Result<(), LogError> {
        let offset =
            u64::from(state.index.location(removed_index).expect("the log holds the first removed entry").offset_bytes);
        let (&holding_first, _) =
            state.segments.range(..=removed_index).next_back().expect("every entry is in a segment");
        let later: Vec<u64> = state.segments.range(holding_first + 1..).map(|(first, _)| *first).collect();
        for first in later.into_iter().rev() {
            let segment = state.segments.remove(&first).expect("listed just above");
            segment::remove_segment_file(&segment.path)?;
            disk::sync_dir(&self.dir, &self.counters).map_err(|e| LogError::io("syncing", &self.dir, e))?;
        }
        if offset == 0 {
            let segment = state.segments.remove(&holding_first).expect("found just above");
            segment::remove_segment_file(&segment.path)?;
            disk::sync_dir(&self.dir, &self.counters).map_err(|e| LogError::io("syncing", &self.dir, e))?;
        } else {
            let segment = state.segments.get_mut(&holding_first).expect("found just above");
            segment.truncate(offset, &self.counters)?;
        }
        state.index.truncate_from(removed_index);
        state.cache.truncate_from(removed_index);
        Ok(())
    }

    /// Removes every entry up to `log_id` inclusive: records the purge point durably first, then
    /// deletes the segments that hold only purged entries.
    fn purge(&self, log_id: LogId) -> Result<(), LogError> {
        let mut state = self.lock_state()?;
        self.check_writable()?;
        if let Some(purged) = &state.purged {
            if log_id.index <= purged.index {
                return Ok(());
            }
        }
        if let Some(held) = state.index.log_id(log_id.index) {
            if held != log_id {
                return Err(LogError::Contract {
                    reason: format!("purge({log_id}) but the log holds {held} at that index"),
                });
            }
        }
        let result = self.purge_upto(&mut state, log_id);
        self.fail_on_error(result)?;
        state.validate();
        Ok(())
    }

    /// Purges in memory at once; the purge point's fsync and the unlinks go to the purge thread
    /// (`purger.rs`), which keeps them in order. A purge past the last entry waits for them: the
    /// next append starts a segment after a gap that only a durable purge point explains.
    fn purge_upto(&self, state: &mut State, log_id: LogId) -> Result<(), LogError> {
        state.purged = Some(log_id);
        state.index.purge_through(log_id.index);
        state.cache.purge_through(log_id.index);
        let mut removed = Vec::new();
        let past_the_end = state.index.first_index().is_none();
        match state.index.first_index() {
            // Nothing is kept: every segment holds only purged entries.
            None => removed.extend(std::mem::take(&mut state.segments).into_values()),
            // A segment holds only purged entries iff its successor starts at or below the first kept.
            Some(first_kept) => loop {
                let mut firsts = state.segments.keys();
                let (Some(&first), Some(&successor)) = (firsts.next(), firsts.next()) else {
                    break;
                };
                if successor > first_kept {
                    break;
                }
                removed.push(state.segments.remove(&first).expect("listed just above"));
            },
        }
        let job = PurgeJob {
            purged: Some(log_id),
            removed_paths: removed.into_iter().map(|segment| segment.path).collect(),
            done: None,
        };
        if past_the_end {
            self.purger.submit_and_wait(job)
        } else {
            self.purger.submit(job)
        }
    }

    /// Waits until every purge queued so far is on disk.
    #[cfg(test)]
    pub(crate) fn wait_for_purges(&self) -> Result<(), LogError> {
        self.purger.submit_and_wait(PurgeJob { purged: None, removed_paths: Vec::new(), done: None })
    }

    /// Stalls the purge thread (as a disk busy with a snapshot would) until the returned receiver
    /// is read from: the barrier's report has nowhere to go until then.
    #[cfg(test)]
    pub(crate) fn stall_purges(&self) -> std::sync::mpsc::Receiver<Result<(), ()>> {
        let (done, stalled) = std::sync::mpsc::sync_channel(0);
        self.purger
            .submit(PurgeJob { purged: None, removed_paths: Vec::new(), done: Some(done) })
            .expect("the purge thread runs");
        stalled
    }
}

/// Both the store and its readers read the shared in-memory state the same way.
macro_rules! impl_raft_log_reader {
    ($handle:ty) => {
        impl RaftLogReader<TypeConfig> for $handle {
            async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
                &mut self,
                range: RB,
            ) -> Result<Vec<Entry>, io::Error> {
                Ok(self.inner.read_entries(&range, ReadLimit::NONE)?)
            }

            async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
                Ok(self.inner.read_vote()?)
            }

            async fn limited_get_log_entries(&mut self, start: u64, end: u64) -> Result<Vec<Entry>, io::Error> {
                Ok(self.inner.read_entries(&(start..end), LIMITED_READ)?)
            }

            async fn entries_stream<RB>(
                &mut self,
                range: RB,
            ) -> impl Stream<Item = Result<Entry, io::Error>> + OptionalSend
            where
                RB: RangeBounds<u64> + Clone + Debug + OptionalSend,
            {
                entries_in_steps(Arc::clone(&self.inner), read_plan::inclusive_bounds(&range))
            }
        }
    };
}

impl_raft_log_reader!(LogReader);

impl LogReader {
    /// Disk activity and size of the log, as `LogStore::stats` (the store itself moves into Raft).
    pub fn stats(&self) -> LogStats {
        self.inner.stats()
    }
}
impl_raft_log_reader!(LogStore);

/// The entries of `bounds` (inclusive) as a stream read `LIMITED_READ` at a time, so applying a
/// long range (after a restart, or a slow state machine) holds one step of it in memory, not all
/// of it. openraft streams only committed entries, which no truncation touches; a purge cannot
/// reach them either (it stops at the last snapshot, which is at or below what is applied), and
/// a step that does not start where the last one ended is reported as an error, not skipped.
fn entries_in_steps(inner: Arc<Inner>, bounds: Option<(u64, u64)>) -> impl Stream<Item = Result<Entry, io::Error>> {
    futures::stream::try_unfold(bounds, move |remaining| {
        let inner = Arc::clone(&inner);
        async move {
            let Some((next, end_inclusive)) = remaining else {
                return Ok(None);
            };
            let step = inner.read_entries(&(next..=end_inclusive), LIMITED_READ)?;
            // The first step may start after `next` (purged entries); a later one continues right
            // after the entries already streamed, or finds nothing at the end of the log.
            let is_first_step = remaining == bounds;
            if let Some(first) = step.first().map(|entry| entry.log_id.index) {
                if !is_first_step && first != next {
                    return Err(io::Error::other(format!(
                        "entries_stream expected entry {next} next but read {first}; the log changed \
                         under a stream of committed entries, a bug: restart the node"
                    )));
                }
            }
            let Some(last) = step.last().map(|entry| entry.log_id.index) else {
                return Ok(None);
            };
            let rest = (last < end_inclusive).then(|| (last + 1, end_inclusive));
            Ok(Some((futures::stream::iter(step.into_iter().map(Ok)), rest)))
        }
    })
    .try_flatten()
}

// Vote, truncate and purge do their fsyncs on the calling task: they are rare, and openraft needs
// them durable before it continues anyway. Appends only write; the flusher thread syncs.
impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogReader;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        Ok(self.inner.log_state()?)
    }

    async fn get_log_reader(&mut self) -> LogReader {
        self.reader()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        Ok(self.inner.save_vote(vote)?)
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<TypeConfig>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        // Entries another node proposed: this node follows, and the leader waits for this sync
        // before it can commit. Syncing here (nothing queued, so completions stay in order)
        // saves handing the sync to the flusher thread and back. The leader's own appends keep
        // the flusher: openraft replicates them only after `append` returns, so the leader's
        // sync must overlap its followers' instead of delaying them.
        let follows = self.inner.options.local_node.is_some_and(|own| {
            entries.first().is_some_and(|first| first.log_id.leader_id.node_id != own)
                && entries.iter().all(|entry| entry.log_id.leader_id.node_id != own)
        });
        let file = self.inner.append_entries(entries)?;
        if follows && self.inner.flusher.is_idle() {
            let outcome = flusher::sync_file(file.as_ref(), &self.inner.counters, &self.inner.failed);
            Counters::add(&self.inner.counters.inline_sync_count, 1);
            // openraft learns of a failed sync from the callback; the returned error stops its
            // storage task as well, as a failed flusher submit does.
            let returned = match &outcome {
                Ok(()) => Ok(()),
                Err(error) => Err(io::Error::new(error.kind(), error.to_string())),
            };
            callback.io_completed(outcome);
            return returned;
        }
        // Even an append with nothing to sync goes through the queue, so callbacks complete in order.
        self.inner.flusher.submit(FlushRequest { file, callback }).await
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        Ok(self.inner.truncate_after(last_log_id)?)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        Ok(self.inner.purge(log_id)?)
    }
}

#[cfg(test)]
#[path = "store_test.rs"]
mod tests;

#[cfg(test)]
#[path = "inline_sync_test.rs"]
mod inline_sync_tests;

#[cfg(test)]
#[path = "cache_read_test.rs"]
mod cache_read_tests;
