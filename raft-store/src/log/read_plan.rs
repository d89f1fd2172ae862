//! What one read of the log takes from where: clones of the cached entries, and runs of records
//! to read back from segment files (`record_reader.rs`). Planned under the store's lock from the
//! in-memory index alone; the disk reads happen after the lock is released.

use std::collections::BTreeMap;
use std::fs::File;
use std::ops::Bound;
use std::ops::RangeBounds;
use std::path::PathBuf;
use std::sync::Arc;

use super::cache::EntryCache;
use super::log_index::LogIndex;
use super::segment::Segment;
use crate::types::Entry;
use crate::types::LogId;

/// How much one read may return, at least one entry whatever the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadLimit {
    pub(crate) entries_max: u64,
    /// Sum of the entries' record sizes.
    pub(crate) record_bytes_max: u64,
}

impl ReadLimit {
    /// Every entry in the range (openraft's `try_get_log_entries` may not stop early).
    pub(crate) const NONE: ReadLimit = ReadLimit { entries_max: u64::MAX, record_bytes_max: u64::MAX };
}

/// Consecutive records of one segment file, read back with one `pread` per chunk.
#[derive(Debug)]
pub(crate) struct DiskRun {
    pub(crate) file: Arc<File>,
    pub(crate) path: PathBuf,
    /// Where the first record starts in the segment.
    pub(crate) offset_bytes: u64,
    /// Bytes from the first record's start to the last one's end.
    pub(crate) len_bytes: u64,
    /// Each record's expected log id and size, in order.
    pub(crate) records: Vec<(LogId, u32)>,
}

/// The entries of one read: first those in `disk_runs` (older), then `cached`.
#[derive(Debug, Default)]
pub(crate) struct ReadPlan {
    pub(crate) disk_runs: Vec<DiskRun>,
    pub(crate) cached: Vec<Entry>,
}

impl ReadPlan {
    pub(crate) fn entry_count(&self) -> usize {
        self.disk_runs.iter().map(|run| run.records.len()).sum::<usize>() + self.cached.len()
    }
}

/// `range` as `(first, last)` inclusive; None if it is empty.
pub(crate) fn inclusive_bounds(range: &impl RangeBounds<u64>) -> Option<(u64, u64)> {
    let start = match range.start_bound() {
        Bound::Included(start) => *start,
        Bound::Excluded(start) => start.checked_add(1)?,
        Bound::Unbounded => 0,
    };
    let end_inclusive = match range.end_bound() {
        Bound::Included(end) => *end,
        Bound::Excluded(end) => end.checked_sub(1)?,
        Bound::Unbounded => u64::MAX,
    };
    (start <= end_inclusive).then_some((start, end_inclusive))
}

/// Plans the read of the entries the log holds in `range`, cut at `limit`.
pub(crate) fn plan_read(
    index: &LogIndex,
    cache: &EntryCache,
    segments: &BTreeMap<u64, Segment>,
    range: &impl RangeBounds<u64>,
    limit: ReadLimit,
) -> ReadPlan {
    let (Some(first), Some(last), Some((start, end_inclusive))) =
        (index.first_index(), index.last_index(), inclusive_bounds(range))
    else {
        return ReadPlan::default();
    };
    let (start, end_inclusive) = (start.max(first), end_inclusive.min(last));
    if start > end_inclusive {
        return ReadPlan::default();
    }
    let end_inclusive = limited_end(index, start, end_inclusive, limit);
    // The cache is a suffix of the log: everything before its first entry is on disk only.
    let cache_first = cache.first_index().unwrap_or(last + 1);
    let disk_runs = match cache_first.checked_sub(1) {
        Some(disk_last) if start <= disk_last => plan_disk_runs(index, segments, start, end_inclusive.min(disk_last)),
        _ => Vec::new(),
    };
    ReadPlan { disk_runs, cached: cache.read(start.max(cache_first), end_inclusive) }
}

/// The last index of a read from `start` that keeps within `limit` (at least `start` itself).
fn limited_end(index: &LogIndex, start: u64, end_inclusive: u64, limit: ReadLimit) -> u64 {
    if limit == ReadLimit::NONE {
        return end_inclusive;
    }
    let mut record_bytes = 0u64;
    let mut last_taken = start;
    // Bounded by the range, which the caller bounds by the log's length.
    for (taken, candidate) in (start..=end_inclusive).enumerate() {
        let size_bytes = u64::from(index.location(candidate).expect("within the log").size_bytes);
        if taken > 0 && (taken as u64 >= limit.entries_max || record_bytes + size_bytes > limit.record_bytes_max) {
            break;
        }
        record_bytes += size_bytes;
        last_taken = candidate;
    }
    last_taken
}

/// Runs of contiguous records, one segment at a time, for `start..=end_inclusive`.
fn plan_disk_runs(index: &LogIndex, segments: &BTreeMap<u64, Segment>, start: u64, end_inclusive: u64) -> Vec<DiskRun> {
    let mut runs: Vec<DiskRun> = Vec::new();
    let mut next = start;
    // Each pass covers at least one entry, which bounds the loop by the range.
    while next <= end_inclusive {
        let (_, segment) = segments.range(..=next).next_back().expect("every entry lies in a segment");
        let segment_last =
            segments.range(next.saturating_add(1)..).next().map_or(u64::MAX, |(successor, _)| successor - 1);
        let run_last = segment_last.min(end_inclusive);
        for entry_index in next..=run_last {
            let location = index.location(entry_index).expect("within the log");
            let log_id = index.log_id(entry_index).expect("within the log");
            let offset_bytes = u64::from(location.offset_bytes);
            match runs.last_mut() {
                // Records of one segment follow each other; a new segment starts a new run.
                Some(run)
                    if Arc::ptr_eq(&run.file, &segment.file) && run.offset_bytes + run.len_bytes == offset_bytes =>
                {
                    run.len_bytes += u64::from(location.size_bytes);
                    run.records.push((log_id, location.size_bytes));
                }
                _ => runs.push(DiskRun {
                    file: Arc::clone(&segment.file),
                    path: segment.path.clone(),
                    offset_bytes,
                    len_bytes: u64::from(location.size_bytes),
                    records: vec![(log_id, location.size_bytes)],
                }),
            }
        }
        if run_last == end_inclusive {
            break;
        }
        next = run_last + 1;
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::testing::log_id;

    #[test]
    fn a_limited_read_stops_at_its_entry_or_byte_bound_but_takes_at_least_one_entry() {
        let mut index = LogIndex::default();
        let mut offset_bytes = 0;
        for (position, size_bytes) in [10usize, 20, 30, 40, 5].into_iter().enumerate() {
            index.push(&log_id(1, position as u64), offset_bytes, size_bytes);
            offset_bytes += size_bytes as u64;
        }
        let limit = |entries_max, record_bytes_max| ReadLimit { entries_max, record_bytes_max };
        assert_eq!(limited_end(&index, 0, 4, limit(10, 35)), 1, "10 + 20 fit in 35 bytes, + 30 does not");
        assert_eq!(limited_end(&index, 0, 4, limit(10, 30)), 1, "exactly the byte bound fits");
        assert_eq!(limited_end(&index, 2, 4, limit(2, 1_000)), 3, "two entries");
        assert_eq!(limited_end(&index, 3, 4, limit(10, 1)), 3, "one entry over the byte bound is still returned");
        assert_eq!(limited_end(&index, 0, 4, ReadLimit::NONE), 4);
    }

    #[test]
    fn inclusive_bounds_of_every_range_shape() {
        assert_eq!(inclusive_bounds(&(..)), Some((0, u64::MAX)));
        assert_eq!(inclusive_bounds(&(3..7)), Some((3, 6)));
        assert_eq!(inclusive_bounds(&(3..=7)), Some((3, 7)));
        assert_eq!(inclusive_bounds(&(3..3)), None);
        assert_eq!(inclusive_bounds(&(..0)), None);
        assert_eq!(inclusive_bounds(&(Bound::Included(7), Bound::Excluded(3))), None);
        let excluded_start = (Bound::Excluded(u64::MAX), Bound::Unbounded);
        assert_eq!(inclusive_bounds(&excluded_start), None);
    }
}
