//! Unit tests of `LogStore`: durability across reopen, group commit, segment rolling, truncation,
//! purge, the vote, and the fail-stop behaviour.
#![allow(clippy::unwrap_used)]

use futures::FutureExt;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use openraft::type_config::TypeConfigExt;
use openraft::RaftLogReader;

use crate::log::testing::*;
use crate::log::LogError;
use crate::log::LogStore;
use crate::types::TypeConfig;

#[tokio::test]
async fn appended_entries_are_readable_at_once_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    let (sender, receiver) = TypeConfig::oneshot();
    store.append(entries(1, 0..=9), IOFlushed::signal(sender)).await.unwrap();
    assert_eq!(indexes(&mut store).await, (0..=9).collect::<Vec<_>>(), "readable before the flush");
    receiver.await.unwrap().unwrap();
    drop(store);

    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(all_entries(&mut store).await, entries(1, 0..=9));
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, None);
    assert_eq!(state.last_log_id, Some(log_id(1, 9)));
}

#[tokio::test]
async fn appended_bytes_count_what_the_segments_grew_by_and_readers_see_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    let reader = store.reader();
    let before = store.stats();
    let (sender, receiver) = TypeConfig::oneshot();
    store.append(entries(1, 0..=9), IOFlushed::signal(sender)).await.unwrap();
    receiver.await.unwrap().unwrap();
    let after = reader.stats();
    assert!(after.appended_bytes > 0, "ten records appended");
    assert_eq!(after.appended_bytes - before.appended_bytes, after.segment_bytes - before.segment_bytes);
    assert_eq!(after, store.stats(), "the reader sees the store's own figures");
}

#[tokio::test]
async fn append_callback_completes_only_after_fdatasync() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    let gate = store.flusher_gate();
    let syncs_before = store.stats().fdatasync_count;

    gate.pause();
    let (sender, mut receiver) = TypeConfig::oneshot();
    store.append([entry(1, 0)], IOFlushed::signal(sender)).await.unwrap();
    wait_until("the flusher took the callback", || store.stats().flush_request_count == 1).await;
    // The flusher holds the callback but has not synced: it must not have completed it.
    assert!((&mut receiver).now_or_never().is_none(), "completed before fdatasync");
    assert_eq!(store.stats().fdatasync_count, syncs_before);
    assert_eq!(store.stats().flushed_callback_count, 0);

    gate.resume();
    receiver.await.unwrap().unwrap();
    let stats = store.stats();
    assert_eq!(stats.fdatasync_count, syncs_before + 1, "the completion came after one fdatasync");
    assert_eq!(stats.flushed_callback_count, 1);
}

#[tokio::test]
async fn group_commit_syncs_once_for_many_queued_appends() {
    const APPEND_COUNT: u64 = 100;
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    let gate = store.flusher_gate();
    let syncs_before = store.stats().fdatasync_count;

    gate.pause();
    let mut receivers = Vec::new();
    for index in 0..APPEND_COUNT {
        let (sender, receiver) = TypeConfig::oneshot();
        store.append([entry(1, index)], IOFlushed::signal(sender)).await.unwrap();
        receivers.push(receiver);
        if index == 0 {
            wait_until("the flusher took the first callback", || store.stats().flush_request_count == 1).await;
        }
    }
    gate.resume();
    for receiver in receivers {
        receiver.await.unwrap().unwrap();
    }
    let stats = store.stats();
    assert_eq!(stats.flushed_callback_count, APPEND_COUNT);
    assert_eq!(stats.fdatasync_count - syncs_before, 1, "one fdatasync for {APPEND_COUNT} appends");
    assert_eq!(stats.flush_batch_count, 1);
}

#[tokio::test]
async fn segments_roll_at_the_segment_size_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    for index in 0..60 {
        append_durable(&mut store, vec![entry(1, index)]).await;
    }
    append_durable(&mut store, entries(1, 60..=99)).await;

    let files = segment_files(dir.path());
    assert!(files.len() > 5, "expected many segments, got {}", files.len());
    assert_eq!(store.stats().segment_count, files.len() as u64);
    assert_eq!(files[0].0, 0);
    for (_, path) in &files {
        let len_bytes = std::fs::metadata(path).unwrap().len();
        assert!(len_bytes <= SMALL_SEGMENT_SIZE_BYTES, "{} is {len_bytes} bytes", path.display());
        assert!(len_bytes > 0);
    }
    drop(store);

    let mut store = open_small(dir.path());
    assert_eq!(all_entries(&mut store).await, entries(1, 0..=99));
    // Each segment name is the index of its first record: reopening verified that.
    append_durable(&mut store, vec![entry(2, 100)]).await;
    drop(store);
    let mut store = open_small(dir.path());
    assert_eq!(indexes(&mut store).await, (0..=100).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_record_larger_than_the_segment_size_sits_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, vec![entry(1, 0)]).await;
    let mut big = entry(1, 1);
    if let openraft::EntryPayload::Normal(request) = &mut big.payload {
        request.payload = vec![7u8; 4 * SMALL_SEGMENT_SIZE_BYTES as usize];
    }
    append_durable(&mut store, vec![big.clone()]).await;
    append_durable(&mut store, vec![entry(1, 2)]).await;
    let firsts: Vec<u64> = segment_files(dir.path()).iter().map(|(first, _)| *first).collect();
    assert_eq!(firsts, vec![0, 1, 2]);
    drop(store);
    let mut store = open_small(dir.path());
    assert_eq!(all_entries(&mut store).await, vec![entry(1, 0), big, entry(1, 2)]);
}

#[tokio::test]
async fn vote_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(store.read_vote().await.unwrap(), None);
    store.save_vote(&vote(1, 2)).await.unwrap();
    store.save_vote(&vote(3, 4)).await.unwrap();
    assert_eq!(store.read_vote().await.unwrap(), Some(vote(3, 4)));
    drop(store);
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(store.read_vote().await.unwrap(), Some(vote(3, 4)));
    assert_eq!(store.get_log_reader().await.read_vote().await.unwrap(), Some(vote(3, 4)));
}

#[tokio::test]
async fn a_corrupted_vote_file_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    store.save_vote(&vote(5, 1)).await.unwrap();
    drop(store);
    let path = dir.path().join("vote.meta");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let error = LogStore::open(dir.path()).err().unwrap();
    assert!(matches!(error, LogError::CorruptMeta { .. }), "{error}");
    assert!(error.to_string().contains("wiping its data dir"), "{error}");
}

#[tokio::test]
async fn truncate_after_spanning_segments_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=99)).await;
    store.truncate_after(Some(log_id(1, 30))).await.unwrap();
    assert_eq!(indexes(&mut store).await, (0..=30).collect::<Vec<_>>());
    assert!(segment_files(dir.path()).iter().all(|(first, _)| *first <= 30));
    assert_eq!(store.get_log_state().await.unwrap().last_log_id, Some(log_id(1, 30)));
    drop(store);

    let mut store = open_small(dir.path());
    assert_eq!(all_entries(&mut store).await, entries(1, 0..=30));
    append_durable(&mut store, entries(2, 31..=40)).await;
    drop(store);
    let mut store = open_small(dir.path());
    let mut expected = entries(1, 0..=30);
    expected.extend(entries(2, 31..=40));
    assert_eq!(all_entries(&mut store).await, expected);
}

#[tokio::test]
async fn truncate_after_at_a_segment_boundary_removes_the_whole_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=99)).await;
    let second_first = segment_files(dir.path())[1].0;
    store.truncate_after(Some(log_id(1, second_first - 1))).await.unwrap();
    assert_eq!(segment_files(dir.path()).len(), 1);
    append_durable(&mut store, vec![entry(2, second_first)]).await;
    drop(store);
    let mut store = open_small(dir.path());
    assert_eq!(indexes(&mut store).await, (0..=second_first).collect::<Vec<_>>());
}

#[tokio::test]
async fn truncate_after_none_removes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=20)).await;
    store.truncate_after(None).await.unwrap();
    assert!(all_entries(&mut store).await.is_empty());
    assert!(segment_files(dir.path()).is_empty());
    let state = store.get_log_state().await.unwrap();
    assert_eq!((state.last_purged_log_id, state.last_log_id), (None, None));
    drop(store);
    let mut store = open_small(dir.path());
    assert!(all_entries(&mut store).await.is_empty());
    append_durable(&mut store, entries(2, 5..=6)).await;
    drop(store);
    let mut store = open_small(dir.path());
    assert_eq!(indexes(&mut store).await, vec![5, 6]);
}

#[tokio::test]
async fn purge_survives_reopen_and_deletes_whole_segments() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=99)).await;
    let files_before = segment_files(dir.path()).len();
    store.purge(log_id(1, 50)).await.unwrap();
    store.inner.wait_for_purges().unwrap();
    let files = segment_files(dir.path());
    assert!(files.len() < files_before);
    assert!(files[0].0 <= 51, "the segment holding 51 is kept");
    assert!(files.len() < 2 || files[1].0 > 51, "segments holding only purged entries are gone");
    assert_eq!(indexes(&mut store).await, (51..=99).collect::<Vec<_>>());
    drop(store);

    let mut store = open_small(dir.path());
    assert_eq!(indexes(&mut store).await, (51..=99).collect::<Vec<_>>());
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(log_id(1, 50)));
    assert_eq!(state.last_log_id, Some(log_id(1, 99)));
    append_durable(&mut store, vec![entry(1, 100)]).await;
    assert_eq!(store.try_get_log_entries(40..=52).await.unwrap(), entries(1, 51..=52));
}

/// A purge does not wait for the disk (openraft calls it from its core loop, right after a
/// snapshot, while the disk may still be flushing that snapshot): with the purge thread stalled
/// it returns and takes effect in memory, the disk keeps the old state, which reopens as a whole
/// log; once the thread runs, purges reach the disk in order.
#[tokio::test]
async fn purge_returns_before_its_disk_work_which_follows_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=99)).await;
    let files_before = segment_files(dir.path());
    let stalled = store.inner.stall_purges();
    store.purge(log_id(1, 30)).await.unwrap();
    store.purge(log_id(1, 60)).await.unwrap();
    assert_eq!(indexes(&mut store).await, (61..=99).collect::<Vec<_>>(), "purged in memory at once");
    assert_eq!(segment_files(dir.path()), files_before, "nothing unlinked while the purge thread is stalled");
    assert!(!dir.path().join("purged.meta").exists(), "no purge point on disk yet");
    append_durable(&mut store, vec![entry(1, 100)]).await;

    stalled.recv().unwrap().unwrap();
    store.inner.wait_for_purges().unwrap();
    let files = segment_files(dir.path());
    assert!(files.len() < files_before.len(), "the purged segments are gone");
    assert!(files[0].0 <= 61 && (files.len() < 2 || files[1].0 > 61), "only segments below 61 went");
    drop(store);
    let mut store = open_small(dir.path());
    assert_eq!(store.get_log_state().await.unwrap().last_purged_log_id, Some(log_id(1, 60)), "the later point won");
    assert_eq!(indexes(&mut store).await, (61..=100).collect::<Vec<_>>());
}

/// What a crash leaves when it comes before a purge's disk work: the files as they were, which
/// open as the whole log (the entries a snapshot already covers, purged again later).
#[tokio::test]
async fn a_purge_whose_disk_work_never_ran_reopens_as_the_whole_log() {
    let dir = tempfile::tempdir().unwrap();
    let copy = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=99)).await;
    let stalled = store.inner.stall_purges();
    store.purge(log_id(1, 60)).await.unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|name| name != "LOCK") {
            std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    stalled.recv().unwrap().unwrap();
    drop(store);
    let mut store = open_small(copy.path());
    assert_eq!(store.get_log_state().await.unwrap().last_purged_log_id, None);
    assert_eq!(indexes(&mut store).await, (0..=99).collect::<Vec<_>>());
}

#[tokio::test]
async fn purge_past_the_last_entry_empties_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=9)).await;
    store.purge(log_id(1, 20)).await.unwrap();
    assert!(segment_files(dir.path()).is_empty());
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(log_id(1, 20)));
    assert_eq!(state.last_log_id, Some(log_id(1, 20)));
    append_durable(&mut store, vec![entry(2, 21)]).await;
    drop(store);
    let mut store = open_small(dir.path());
    assert_eq!(all_entries(&mut store).await, vec![entry(2, 21)]);
    assert_eq!(store.get_log_state().await.unwrap().last_purged_log_id, Some(log_id(1, 20)));
}

#[tokio::test]
async fn truncate_to_the_purge_point_then_append() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    append_durable(&mut store, entries(1, 0..=9)).await;
    store.purge(log_id(1, 5)).await.unwrap();
    store.truncate_after(Some(log_id(1, 5))).await.unwrap();
    assert!(all_entries(&mut store).await.is_empty());
    assert_eq!(store.get_log_state().await.unwrap().last_log_id, Some(log_id(1, 5)));
    append_durable(&mut store, vec![entry(2, 6)]).await;
    drop(store);
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(all_entries(&mut store).await, vec![entry(2, 6)]);
}

#[tokio::test]
async fn a_non_contiguous_append_is_refused_without_failing_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    append_durable(&mut store, entries(1, 0..=4)).await;
    let error = store.append([entry(1, 7)], IOFlushed::noop()).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
    let error = store.truncate_after(None).await;
    assert!(error.is_ok(), "no purge point yet, so truncating everything is allowed");
    append_durable(&mut store, entries(2, 0..=1)).await;
    store.purge(log_id(2, 0)).await.unwrap();
    let error = store.truncate_after(None).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
    assert!(!store.stats().failed);
}

#[tokio::test]
async fn a_failed_store_refuses_writes_and_fails_pending_callbacks() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    append_durable(&mut store, entries(1, 0..=1)).await;
    let gate = store.flusher_gate();
    gate.pause();
    let (sender, receiver) = TypeConfig::oneshot();
    store.append([entry(1, 2)], IOFlushed::signal(sender)).await.unwrap();
    wait_until("the flusher took the callback", || store.stats().flush_request_count == 2).await;
    // Stands in for a failed fdatasync (which the flusher turns into this flag).
    store.mark_failed_for_test();
    gate.resume();
    assert!(receiver.await.unwrap().is_err(), "an append is never acknowledged by a failed store");

    assert!(store.append([entry(1, 3)], IOFlushed::noop()).await.is_err());
    assert!(store.save_vote(&vote(1, 1)).await.is_err());
    assert!(store.truncate_after(Some(log_id(1, 0))).await.is_err());
    assert!(store.purge(log_id(1, 0)).await.is_err());
    assert_eq!(indexes(&mut store).await, vec![0, 1, 2], "reads still work");
    assert!(store.stats().failed);
}

#[tokio::test]
async fn a_second_open_of_the_same_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path()).unwrap();
    let error = LogStore::open(dir.path()).err().unwrap();
    assert!(matches!(error, LogError::Locked { .. }), "{error}");
    drop(store);
    LogStore::open(dir.path()).unwrap();
}

#[tokio::test]
async fn a_reader_sees_entries_appended_after_it_was_taken() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    let mut reader = store.get_log_reader().await;
    append_durable(&mut store, entries(1, 0..=3)).await;
    let read = reader.try_get_log_entries(1..3).await.unwrap();
    assert_eq!(read.iter().map(|e| e.index()).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(reader.limited_get_log_entries(0, 100).await.unwrap().len(), 4);
}

/// Every fdatasync and fsync the log makes is timed: the live `sync_latency` handle (kept by the
/// metrics after the store moves into Raft) counts exactly the syncs `stats()` counts.
#[tokio::test]
async fn every_sync_is_timed_in_the_latency_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    let latency = store.sync_latency();
    append_durable(&mut store, entries(1, 0..=9)).await;
    store.save_vote(&vote(1, 1)).await.unwrap();
    let stats = store.stats();
    assert!(stats.fdatasync_count >= 1 && stats.fsync_count >= 1, "{stats:?}");
    assert_eq!(latency.count(), stats.fdatasync_count + stats.fsync_count, "{stats:?}");
}
