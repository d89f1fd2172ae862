//! Helpers shared by the log's unit tests: entries, votes, appends that wait for durability, and
//! a look at the files in a log directory.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::Instant;

use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use openraft::type_config::TypeConfigExt;
use openraft::vote::RaftLeaderIdExt;
use openraft::RaftLogReader;

use super::segment::Segment;
use super::LogOptions;
use super::LogStore;
use crate::types::Entry;
use crate::types::LogId;
use crate::types::Request;
use crate::types::TypeConfig;
use crate::types::Vote;

/// Segment size small enough that a few entries roll a segment.
pub(crate) const SMALL_SEGMENT_SIZE_BYTES: u64 = 256;

pub(crate) fn log_id(term: u64, index: u64) -> LogId {
    LogId::new(openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(term, 1), index)
}

pub(crate) fn entry(term: u64, index: u64) -> Entry {
    Entry::new_normal(log_id(term, index), Request { payload: format!("payload-{index}").into_bytes() })
}

/// An entry proposed by `leader_node` in `term`.
pub(crate) fn entry_by(term: u64, leader_node: u64, index: u64) -> Entry {
    let leader_id = openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(term, leader_node);
    Entry::new_normal(LogId::new(leader_id, index), Request { payload: format!("payload-{index}").into_bytes() })
}

pub(crate) fn entries(term: u64, indexes: std::ops::RangeInclusive<u64>) -> Vec<Entry> {
    indexes.map(|index| entry(term, index)).collect()
}

pub(crate) fn vote(term: u64, node_id: u64) -> Vote {
    Vote::new(term, node_id)
}

pub(crate) fn open_small(dir: &Path) -> LogStore {
    LogStore::open_with(dir, LogOptions { segment_size_bytes: SMALL_SEGMENT_SIZE_BYTES, ..LogOptions::default() })
        .unwrap()
}

/// How long a test waits for the flusher thread to reach a state before it fails.
pub(crate) const WAIT_DEADLINE: Duration = Duration::from_secs(10);

/// Polls `condition` until it holds; fails the test after `WAIT_DEADLINE`.
pub(crate) async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT_DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Appends and waits until the flusher reports the entries durable.
pub(crate) async fn append_durable(store: &mut LogStore, batch: Vec<Entry>) {
    let (sender, receiver) = TypeConfig::oneshot();
    store.append(batch, IOFlushed::signal(sender)).await.unwrap();
    receiver.await.unwrap().unwrap();
}

pub(crate) async fn all_entries(store: &mut LogStore) -> Vec<Entry> {
    store.try_get_log_entries(..).await.unwrap()
}

pub(crate) async fn indexes(store: &mut LogStore) -> Vec<u64> {
    all_entries(store).await.iter().map(|e| e.index()).collect()
}

/// Segment files in the directory, in index order.
pub(crate) fn segment_files(dir: &Path) -> Vec<(u64, PathBuf)> {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|dir_entry| {
            let dir_entry = dir_entry.unwrap();
            let first_index = Segment::parse_file_name(dir_entry.file_name().to_str()?)?;
            Some((first_index, dir_entry.path()))
        })
        .collect();
    files.sort();
    files
}
