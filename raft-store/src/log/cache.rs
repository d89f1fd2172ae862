//! `EntryCache`: the most recent entries of the log, kept in memory up to a byte budget
//! (`LogOptions::cache_bytes_max`); every older entry is read back from its segment file.
//!
//! Invariant: the cache holds a suffix of the log (contiguous, ending at the last entry) whose
//! charged bytes never exceed the budget. An entry is charged its record size (which tracks its
//! payload) plus the size of the `Entry` struct itself, so many tiny entries cannot hold far more
//! memory than the budget says. Entries leave the cache whether or not they are fsynced yet: a
//! record written with `pwrite` is read back by `pread` on the same file from the page cache at
//! once, and the record's checksum catches the one case where that could differ (pages dropped
//! after a failed fdatasync, which has failed the store anyway).
//!
//! Entries also leave once they are older than `LOG_CACHE_ENTRY_AGE_MAX_MS` (`evict_older_than`,
//! called by the log's sweeper thread): replication to a healthy follower and the apply path
//! read an entry within moments of its append, so an idle node gives the memory back instead of
//! holding its last 32 MiB of entries for good.

use std::collections::VecDeque;
use std::time::Instant;

use crate::types::Entry;

/// What one cached entry is charged beyond its record: the `Entry` struct held in the queue.
const ENTRY_STRUCT_SIZE_BYTES: u64 = std::mem::size_of::<Entry>() as u64;

/// The tail of the log held in memory.
#[derive(Debug)]
pub(crate) struct EntryCache {
    /// Each cached entry with what it is charged and when it was cached, ascending by index,
    /// ending at the log's last.
    entries: VecDeque<(Entry, u64, Instant)>,
    cached_bytes: u64,
    cache_bytes_max: u64,
}

impl EntryCache {
    pub(crate) fn new(cache_bytes_max: u64) -> Self {
        EntryCache { entries: VecDeque::new(), cached_bytes: 0, cache_bytes_max }
    }

    pub(crate) fn cached_bytes(&self) -> u64 {
        self.cached_bytes
    }

    pub(crate) fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    /// Index of the oldest cached entry, if any.
    pub(crate) fn first_index(&self) -> Option<u64> {
        self.entries.front().map(|(entry, _, _)| entry.log_id.index)
    }

    /// Index of the newest cached entry, if any.
    pub(crate) fn last_index(&self) -> Option<u64> {
        self.entries.back().map(|(entry, _, _)| entry.log_id.index)
    }

    /// Adds the log's new last entry, whose record is `record_size_bytes` long, then evicts the
    /// oldest entries until the cache is within budget (the new one too, if it alone is over).
    pub(crate) fn push(&mut self, entry: Entry, record_size_bytes: usize) {
        if let Some(last) = self.last_index() {
            assert_eq!(entry.log_id.index, last + 1, "the cache is a contiguous suffix of the log");
        }
        let charge_bytes = record_size_bytes as u64 + ENTRY_STRUCT_SIZE_BYTES;
        self.entries.push_back((entry, charge_bytes, Instant::now()));
        self.cached_bytes += charge_bytes;
        // Each pass removes one entry, which bounds the loop by the cache length.
        while self.cached_bytes > self.cache_bytes_max {
            let (_, evicted_bytes, _) = self.entries.pop_front().expect("over budget means something is cached");
            self.cached_bytes -= evicted_bytes;
        }
    }

    /// Evicts the entries cached before `cutoff` (the oldest first, so a suffix stays); returns
    /// how many.
    pub(crate) fn evict_older_than(&mut self, cutoff: Instant) -> u64 {
        let mut evicted = 0;
        while self.entries.front().is_some_and(|(_, _, cached_at)| *cached_at < cutoff) {
            let (_, evicted_bytes, _) = self.entries.pop_front().expect("checked non-empty above");
            self.cached_bytes -= evicted_bytes;
            evicted += 1;
        }
        evicted
    }

    /// Clones of the cached entries with indexes in `start..=end_inclusive`.
    pub(crate) fn read(&self, start: u64, end_inclusive: u64) -> Vec<Entry> {
        let (Some(first), Some(last)) = (self.first_index(), self.last_index()) else {
            return Vec::new();
        };
        let (start, end_inclusive) = (start.max(first), end_inclusive.min(last));
        if start > end_inclusive {
            return Vec::new();
        }
        let range = (start - first) as usize..=(end_inclusive - first) as usize;
        self.entries.range(range).map(|(entry, _, _)| entry.clone()).collect()
    }

    /// Forgets every cached entry at or after `index` (the log was truncated there).
    pub(crate) fn truncate_from(&mut self, index: u64) {
        while self.last_index().is_some_and(|last| last >= index) {
            let (_, removed_bytes, _) = self.entries.pop_back().expect("checked non-empty above");
            self.cached_bytes -= removed_bytes;
        }
    }

    /// Forgets every cached entry at or before `index` (the log was purged there).
    pub(crate) fn purge_through(&mut self, index: u64) {
        while self.first_index().is_some_and(|first| first <= index) {
            let (_, removed_bytes, _) = self.entries.pop_front().expect("checked non-empty above");
            self.cached_bytes -= removed_bytes;
        }
    }

    /// O(1) invariants, checked after every change.
    pub(crate) fn validate(&self) {
        assert!(self.cached_bytes <= self.cache_bytes_max, "the cache stays within its budget");
        assert_eq!(self.entries.is_empty(), self.cached_bytes == 0, "every cached entry is charged");
        if let (Some(first), Some(last)) = (self.first_index(), self.last_index()) {
            assert_eq!(last - first + 1, self.len(), "cached entries are contiguous");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::testing::entry;

    const RECORD_SIZE_BYTES: usize = 100;
    const CHARGE_BYTES: u64 = RECORD_SIZE_BYTES as u64 + ENTRY_STRUCT_SIZE_BYTES;

    fn cache_of(budget_entries: u64, indexes: std::ops::Range<u64>) -> EntryCache {
        let mut cache = EntryCache::new(budget_entries * CHARGE_BYTES);
        for index in indexes {
            cache.push(entry(1, index), RECORD_SIZE_BYTES);
            cache.validate();
        }
        cache
    }

    #[test]
    fn the_cache_keeps_the_newest_entries_within_its_budget() {
        let cache = cache_of(3, 0..10);
        assert_eq!((cache.first_index(), cache.last_index()), (Some(7), Some(9)));
        assert_eq!(cache.cached_bytes(), 3 * CHARGE_BYTES);
        assert_eq!(cache.read(0, 100), vec![entry(1, 7), entry(1, 8), entry(1, 9)]);
        assert_eq!(cache.read(8, 8), vec![entry(1, 8)]);
        assert!(cache.read(0, 6).is_empty());
    }

    #[test]
    fn an_entry_over_the_whole_budget_is_not_cached() {
        let mut cache = cache_of(3, 0..2);
        cache.push(entry(1, 2), 10 * RECORD_SIZE_BYTES);
        cache.validate();
        assert_eq!(cache.len(), 0);
        // The next entry starts the suffix again.
        cache.push(entry(1, 3), RECORD_SIZE_BYTES);
        assert_eq!(cache.read(0, 10), vec![entry(1, 3)]);
    }

    /// Entries older than the cutoff leave, oldest first, and the newer ones stay a suffix.
    #[test]
    fn entries_older_than_the_cutoff_leave_and_a_suffix_stays() {
        let mut cache = cache_of(10, 0..3);
        let cutoff = Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        cache.push(entry(1, 3), RECORD_SIZE_BYTES);
        assert_eq!(cache.evict_older_than(cutoff), 3);
        cache.validate();
        assert_eq!((cache.first_index(), cache.last_index()), (Some(3), Some(3)));
        assert_eq!(cache.cached_bytes(), CHARGE_BYTES);
        assert_eq!(cache.evict_older_than(cutoff), 0, "nothing newer than the cutoff leaves");
        assert_eq!(cache.evict_older_than(Instant::now() + std::time::Duration::from_secs(1)), 1);
        assert_eq!(cache.cached_bytes(), 0);
    }

    #[test]
    fn truncation_and_purge_keep_a_charged_suffix() {
        let mut cache = cache_of(5, 0..10);
        cache.truncate_from(8);
        cache.validate();
        assert_eq!((cache.first_index(), cache.last_index()), (Some(5), Some(7)));
        cache.purge_through(5);
        cache.validate();
        assert_eq!(cache.cached_bytes(), 2 * CHARGE_BYTES);
        cache.truncate_from(0);
        cache.validate();
        assert_eq!(cache.cached_bytes(), 0);
    }
}
