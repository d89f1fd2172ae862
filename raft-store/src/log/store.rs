//! `LogStore`: openraft's `RaftLogStorage` over fdatasync'd segment files, with every entry after
//! the purge point held in memory so reads never touch the disk.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::fmt::Debug;
use std::fs::File;
use std::fs::OpenOptions;
use std::io;
use std::ops::Bound;
use std::ops::RangeBounds;
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;

use openraft::storage::IOFlushed;
use openraft::storage::LogState;
use openraft::storage::RaftLogStorage;
use openraft::OptionalSend;
use openraft::RaftLogReader;

use super::disk;
use super::error::LogError;
use super::flusher;
use super::flusher::FlushRequest;
use super::flusher::Flusher;
use super::meta_file;
use super::meta_file::PURGED_FILE_NAME;
use super::meta_file::VOTE_FILE_NAME;
use super::options::LogOptions;
use super::record::encode_record;
use super::record::EncodeError;
use super::record::RECORD_PAYLOAD_SIZE_BYTES_MAX;
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

/// Most entries `limited_get_log_entries` returns at once.
pub(crate) const LIMITED_READ_ENTRIES_MAX: u64 = 4096;

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
    state: Mutex<State>,
    counters: Arc<Counters>,
    /// Set by the first failed write or sync; the store then refuses every write.
    failed: Arc<AtomicBool>,
    /// Dropped before `_lock_file`: pending callbacks complete before the directory is released.
    flusher: Flusher,
    #[cfg(test)]
    gate: Arc<super::flusher::SyncGate>,
    _lock_file: File,
}

/// The log as the store knows it: on disk and, after the purge point, in memory.
struct State {
    vote: Option<Vote>,
    purged: Option<LogId>,
    /// Segment files by first index; the last one is the active segment appends go to.
    segments: BTreeMap<u64, Segment>,
    /// Every entry after the purge point, contiguous.
    entries: VecDeque<Entry>,
    /// Offset of each entry's record in its segment, parallel to `entries`.
    offsets: VecDeque<u64>,
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
        let recovered = recovery::recover(dir, &counters)?;
        let state = State {
            vote: recovered.vote,
            purged: recovered.purged,
            segments: recovered.segments,
            entries: recovered.entries,
            offsets: recovered.offsets,
        };
        state.validate();
        tracing::info!(
            dir = %dir.display(),
            segment_count = state.segments.len(),
            entry_count = state.entries.len(),
            purged = ?state.purged,
            last_log_id = ?state.last_log_id(),
            "opened the raft log"
        );
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
        Ok(LogStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                options,
                state: Mutex::new(state),
                counters,
                failed,
                flusher,
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
        match self.entries.back() {
            Some(entry) => Some(entry.log_id),
            None => self.purged,
        }
    }

    /// The index the next appended entry must have; None if the log is empty and never purged.
    fn next_index(&self) -> Option<u64> {
        self.last_log_id().map(|id| id.index + 1)
    }

    /// O(1) invariants, checked after every change.
    fn validate(&self) {
        assert_eq!(self.entries.len(), self.offsets.len(), "an offset per entry");
        assert!(self.segments.len() <= SEGMENT_COUNT_MAX, "segment count bounded");
        if let (Some(first), Some(last)) = (self.entries.front(), self.entries.back()) {
            assert_eq!(last.log_id.index - first.log_id.index + 1, self.entries.len() as u64, "entries are contiguous");
            if let Some(purged) = &self.purged {
                assert_eq!(purged.index + 1, first.log_id.index, "the first entry follows the purge point");
                assert!(purged < &first.log_id, "purged before the first entry");
            }
            let (active_first, active) = self.segments.last_key_value().expect("entries live in segments");
            assert_eq!(*active_first, active.first_index, "segments are keyed by first index");
            assert!(*active_first <= last.log_id.index, "the last entry is in the active segment");
        }
    }

    fn read_entries<RB: RangeBounds<u64>>(&self, range: &RB) -> Vec<Entry> {
        let (Some(first), Some(last)) = (self.entries.front(), self.entries.back()) else {
            return Vec::new();
        };
        let (first_index, last_index) = (first.log_id.index, last.log_id.index);
        let start = match range.start_bound() {
            Bound::Included(start) => *start,
            Bound::Excluded(start) => start.saturating_add(1),
            Bound::Unbounded => 0,
        }
        .max(first_index);
        let end_inclusive = match range.end_bound() {
            Bound::Included(end) => *end,
            Bound::Excluded(0) => return Vec::new(),
            Bound::Excluded(end) => end - 1,
            Bound::Unbounded => u64::MAX,
        }
        .min(last_index);
        if start > end_inclusive {
            return Vec::new();
        }
        let low = (start - first_index) as usize;
        let high = (end_inclusive - first_index) as usize;
        self.entries.range(low..=high).cloned().collect()
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
            failed: self.failed.load(Ordering::SeqCst),
            ..LogStats::default()
        };
        if let Ok(state) = self.state.lock() {
            stats.segment_count = state.segments.len() as u64;
            stats.segment_bytes = state.segments.values().map(|s| s.len_bytes).sum();
            stats.entry_count = state.entries.len() as u64;
            stats.first_index = state.entries.front().map(|e| e.log_id.index);
            stats.last_index = state.entries.back().map(|e| e.log_id.index);
        }
        stats
    }

    fn read_entries<RB: RangeBounds<u64>>(&self, range: &RB) -> Result<Vec<Entry>, LogError> {
        Ok(self.lock_state()?.read_entries(range))
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
        state.entries.extend(entries);
        state.offsets.extend(offsets);
        state.validate();
        Counters::add(&self.counters.appended_entry_count, entry_count);
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
        let (Some(first), Some(last_entry)) = (state.entries.front(), state.entries.back()) else {
            return Ok(());
        };
        if first_removed > last_entry.log_id.index {
            return Ok(());
        }
        let position = first_removed.saturating_sub(first.log_id.index) as usize;
        let result = self.truncate_at(&mut state, position);
        self.fail_on_error(result)?;
        state.validate();
        Ok(())
    }

    /// Removes `entries[position..]` from disk and memory.
    fn truncate_at(&self, state: &mut State, position: usize) -> Result<(), LogError> {
        let removed_index = state.entries[position].log_id.index;
        let offset = state.offsets[position];
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
        state.entries.truncate(position);
        state.offsets.truncate(position);
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
        if let Some(first) = state.entries.front() {
            if let Some(entry) = state.entries.get(log_id.index.saturating_sub(first.log_id.index) as usize) {
                if log_id.index >= first.log_id.index && entry.log_id != log_id {
                    return Err(LogError::Contract {
                        reason: format!("purge({log_id}) but the log holds {} at that index", entry.log_id),
                    });
                }
            }
        }
        let result = self.purge_upto(&mut state, log_id);
        self.fail_on_error(result)?;
        state.validate();
        Ok(())
    }

    fn purge_upto(&self, state: &mut State, log_id: LogId) -> Result<(), LogError> {
        meta_file::write_meta(&self.dir, PURGED_FILE_NAME, &log_id, &self.counters)?;
        state.purged = Some(log_id);
        while state.entries.front().is_some_and(|entry| entry.log_id.index <= log_id.index) {
            state.entries.pop_front();
            state.offsets.pop_front();
        }
        let mut removed = Vec::new();
        match state.entries.front().map(|entry| entry.log_id.index) {
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
        if !removed.is_empty() {
            for segment in &removed {
                segment::remove_segment_file(&segment.path)?;
            }
            disk::sync_dir(&self.dir, &self.counters).map_err(|e| LogError::io("syncing", &self.dir, e))?;
        }
        Ok(())
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
                Ok(self.inner.read_entries(&range)?)
            }

            async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
                Ok(self.inner.read_vote()?)
            }

            async fn limited_get_log_entries(&mut self, start: u64, end: u64) -> Result<Vec<Entry>, io::Error> {
                let end = end.min(start.saturating_add(LIMITED_READ_ENTRIES_MAX));
                Ok(self.inner.read_entries(&(start..end))?)
            }
        }
    };
}

impl_raft_log_reader!(LogReader);
impl_raft_log_reader!(LogStore);

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
