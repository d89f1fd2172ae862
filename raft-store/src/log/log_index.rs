//! `LogIndex`: for every entry after the purge point, where its record lies in its segment and
//! its log id, in about 8 bytes per entry, so the log can answer "which entry is at index i and
//! where is it" without holding the entries themselves (`cache.rs` holds the recent ones).
//!
//! Log ids are kept as runs (the first index of each leader's run of entries and that leader's
//! id): a leader writes many entries, so the runs are few, and an entry's log id is its run's
//! leader id with its own index.

use std::collections::VecDeque;

use super::options::SEGMENT_SIZE_BYTES_MAX;
use super::record::RECORD_SIZE_BYTES_MAX;
use crate::types::LogId;
use crate::types::TypeConfig;

/// The leader id part of a log id (the index is implicit in the position).
type CommittedLeaderId = openraft::alias::CommittedLeaderIdOf<TypeConfig>;

// A record starts inside its segment and a segment never exceeds SEGMENT_SIZE_BYTES_MAX (a record
// larger than the segment size sits alone), so offsets and sizes fit in u32.
const _: () = assert!(SEGMENT_SIZE_BYTES_MAX <= u32::MAX as u64);
const _: () = assert!(RECORD_SIZE_BYTES_MAX as u64 <= u32::MAX as u64);

/// Where one entry's record lies in the segment that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordLocation {
    pub(crate) offset_bytes: u32,
    pub(crate) size_bytes: u32,
}

/// Every entry after the purge point: contiguous indexes, a location each, log ids by leader run.
#[derive(Debug, Default)]
pub(crate) struct LogIndex {
    /// Index of `locations[0]`; meaningless while `locations` is empty.
    first_index: u64,
    locations: VecDeque<RecordLocation>,
    /// `(first index, leader id)` of each run of entries by one leader, ascending by index. The
    /// first run may start before `first_index` (its start was purged); empty iff `locations` is.
    leader_runs: VecDeque<(u64, CommittedLeaderId)>,
}

impl LogIndex {
    pub(crate) fn len(&self) -> u64 {
        self.locations.len() as u64
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.locations.is_empty()
    }

    pub(crate) fn first_index(&self) -> Option<u64> {
        (!self.is_empty()).then_some(self.first_index)
    }

    pub(crate) fn last_index(&self) -> Option<u64> {
        (!self.is_empty()).then(|| self.first_index + self.len() - 1)
    }

    pub(crate) fn contains(&self, index: u64) -> bool {
        self.first_index().is_some_and(|first| index >= first && index - first < self.len())
    }

    /// The log id of the entry at `index`, if the log holds it.
    pub(crate) fn log_id(&self, index: u64) -> Option<LogId> {
        if !self.contains(index) {
            return None;
        }
        let run = self.leader_runs.partition_point(|(run_first, _)| *run_first <= index);
        let (_, leader_id) =
            self.leader_runs[run.checked_sub(1).expect("the first run starts at or before the first entry")];
        Some(LogId::new(leader_id, index))
    }

    pub(crate) fn last_log_id(&self) -> Option<LogId> {
        self.last_index().and_then(|last| self.log_id(last))
    }

    pub(crate) fn location(&self, index: u64) -> Option<RecordLocation> {
        self.contains(index).then(|| self.locations[(index - self.first_index) as usize])
    }

    /// Adds the entry after the last one (or the first one, if empty).
    pub(crate) fn push(&mut self, log_id: &LogId, offset_bytes: u64, size_bytes: usize) {
        if let Some(last) = self.last_index() {
            assert_eq!(log_id.index, last + 1, "entries are pushed in index order without gaps");
        } else {
            self.first_index = log_id.index;
            self.leader_runs.clear();
        }
        let location = RecordLocation {
            offset_bytes: u32::try_from(offset_bytes).expect("a record starts within a segment of at most 4 GiB"),
            size_bytes: u32::try_from(size_bytes).expect("a record is bounded by RECORD_SIZE_BYTES_MAX"),
        };
        self.locations.push_back(location);
        if self.leader_runs.back().is_none_or(|(_, leader_id)| *leader_id != log_id.leader_id) {
            self.leader_runs.push_back((log_id.index, log_id.leader_id));
        }
    }

    /// Forgets every entry at or after `index`.
    pub(crate) fn truncate_from(&mut self, index: u64) {
        let Some(first) = self.first_index() else {
            return;
        };
        let kept = index.saturating_sub(first).min(self.len());
        self.locations.truncate(kept as usize);
        if self.locations.is_empty() {
            self.leader_runs.clear();
        } else {
            while self.leader_runs.back().is_some_and(|(run_first, _)| *run_first >= index) {
                self.leader_runs.pop_back();
            }
        }
    }

    /// Forgets every entry at or before `index`.
    pub(crate) fn purge_through(&mut self, index: u64) {
        let Some(first) = self.first_index() else {
            return;
        };
        let removed = (index.saturating_add(1).saturating_sub(first)).min(self.len());
        self.locations.drain(..removed as usize);
        self.first_index += removed;
        if self.locations.is_empty() {
            self.leader_runs.clear();
            return;
        }
        // Drop the runs that end before the new first entry; the one holding it stays.
        while self.leader_runs.get(1).is_some_and(|(second_first, _)| *second_first <= self.first_index) {
            self.leader_runs.pop_front();
        }
    }

    /// O(1) invariants, checked after every change.
    pub(crate) fn validate(&self) {
        assert_eq!(self.locations.is_empty(), self.leader_runs.is_empty(), "runs exist iff entries do");
        if let (Some(first), Some(last)) = (self.first_index(), self.last_index()) {
            let (first_run, _) = self.leader_runs.front().expect("checked non-empty above");
            let (last_run, _) = self.leader_runs.back().expect("checked non-empty above");
            assert!(*first_run <= first, "the first run holds the first entry");
            assert!(*last_run <= last, "the last run starts at or before the last entry");
            if let Some((second_run, _)) = self.leader_runs.get(1) {
                assert!(*second_run > first, "no run lies wholly before the first entry");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::testing::entry_by;

    fn log_id(term: u64, index: u64) -> LogId {
        // Leader node = term, so every term is a distinct leader id.
        entry_by(term, term, index).log_id
    }

    /// A model: the log id of each index, in order.
    fn index_of(log_ids: &[LogId]) -> LogIndex {
        let mut index = LogIndex::default();
        for (position, id) in log_ids.iter().enumerate() {
            index.push(id, position as u64 * 10, 10);
        }
        index
    }

    fn assert_matches(index: &LogIndex, model: &[LogId]) {
        index.validate();
        assert_eq!(index.len(), model.len() as u64);
        for id in model {
            assert_eq!(index.log_id(id.index), Some(*id));
        }
        assert_eq!(index.last_log_id(), model.last().copied());
        let first = model.first().map(|id| id.index);
        assert_eq!(index.first_index(), first);
        if let Some(first) = first {
            assert_eq!(index.log_id(first.wrapping_sub(1)), None);
            assert_eq!(index.log_id(first + model.len() as u64), None);
        }
    }

    fn model() -> Vec<LogId> {
        let mut model: Vec<LogId> = (5..10).map(|i| log_id(1, i)).collect();
        model.extend((10..12).map(|i| log_id(2, i)));
        model.extend((12..20).map(|i| log_id(4, i)));
        model
    }

    #[test]
    fn log_ids_come_back_from_leader_runs() {
        let model = model();
        let index = index_of(&model);
        assert_eq!(index.leader_runs.len(), 3, "one run per leader");
        assert_matches(&index, &model);
        assert_eq!(index.location(7), Some(RecordLocation { offset_bytes: 20, size_bytes: 10 }));
    }

    #[test]
    fn truncation_and_purge_at_every_point_keep_log_ids_right() {
        let model = model();
        for cut in 5..=20 {
            let mut index = index_of(&model);
            index.truncate_from(cut);
            let kept: Vec<LogId> = model.iter().filter(|id| id.index < cut).copied().collect();
            assert_matches(&index, &kept);

            let mut index = index_of(&model);
            index.purge_through(cut);
            let kept: Vec<LogId> = model.iter().filter(|id| id.index > cut).copied().collect();
            assert_matches(&index, &kept);
            // Appending after a purge or a truncation continues the runs correctly.
            let next = kept.last().map_or(cut + 1, |id| id.index + 1);
            index.push(&log_id(7, next), 0, 10);
            let mut extended = kept;
            extended.push(log_id(7, next));
            assert_matches(&index, &extended);
        }
    }
}
