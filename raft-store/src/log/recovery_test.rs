//! Unit tests of recovery: torn tails are cut and the log goes on; any other damage is fatal.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;

use crate::log::meta_file;
use crate::log::record::encode_record;
use crate::log::segment::Segment;
use crate::log::stats::Counters;
use crate::log::testing::*;
use crate::log::LogError;
use crate::log::LogStore;
use crate::types::Entry;

/// Appends `bytes` to the file at `path`, as a crash in the middle of a write would leave them.
fn append_raw(path: &Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(bytes).unwrap();
    file.sync_all().unwrap();
}

fn record_bytes(entry: &Entry) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode_record(entry, &mut bytes).unwrap();
    bytes
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x20;
    std::fs::write(path, &bytes).unwrap();
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// Writes entries `0..=last` durably in a default-sized log and closes it.
async fn write_log(dir: &Path, last: u64) {
    let mut store = LogStore::open(dir).unwrap();
    append_durable(&mut store, entries(1, 0..=last)).await;
}

/// Reopening recovers `0..=last`; appending more works and survives another reopen.
async fn assert_recovers_and_continues(dir: &Path, last: u64) {
    let mut store = LogStore::open(dir).unwrap();
    assert_eq!(all_entries(&mut store).await, entries(1, 0..=last));
    append_durable(&mut store, entries(2, last + 1..=last + 3)).await;
    drop(store);
    let mut store = LogStore::open(dir).unwrap();
    let mut expected = entries(1, 0..=last);
    expected.extend(entries(2, last + 1..=last + 3));
    assert_eq!(all_entries(&mut store).await, expected);
}

#[tokio::test]
async fn a_torn_half_record_is_cut_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 9).await;
    let (_, segment) = segment_files(dir.path()).pop().unwrap();
    let whole_len = file_len(&segment);
    let record = record_bytes(&entry(1, 10));
    append_raw(&segment, &record[..record.len() / 2]);

    drop(LogStore::open(dir.path()).unwrap());
    assert_eq!(file_len(&segment), whole_len, "the file was cut back to its whole records");
    assert_recovers_and_continues(dir.path(), 9).await;
}

#[tokio::test]
async fn a_torn_half_record_is_cut_to_the_last_whole_record() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 9).await;
    let (_, segment) = segment_files(dir.path()).pop().unwrap();
    let whole_len = file_len(&segment);
    for cut in [3, 16, 20] {
        append_raw(&segment, &record_bytes(&entry(1, 10))[..cut]);
        let mut store = LogStore::open(dir.path()).unwrap();
        assert_eq!(file_len(&segment), whole_len, "the torn {cut} bytes were cut off");
        assert_eq!(indexes(&mut store).await, (0..=9).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_garbage_tail_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 9).await;
    let (_, segment) = segment_files(dir.path()).pop().unwrap();
    let whole_len = file_len(&segment);
    append_raw(&segment, &[0xFF; 100]);
    drop(LogStore::open(dir.path()).unwrap());
    assert_eq!(file_len(&segment), whole_len);
    append_raw(&segment, &[0u8; 4096]);
    drop(LogStore::open(dir.path()).unwrap());
    assert_eq!(file_len(&segment), whole_len, "a zero-filled tail is torn too");
    assert_recovers_and_continues(dir.path(), 9).await;
}

#[tokio::test]
async fn a_flipped_byte_in_the_last_record_drops_only_that_record() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 9).await;
    let (_, segment) = segment_files(dir.path()).pop().unwrap();
    let whole_len = file_len(&segment);
    let last_record_len = record_bytes(&entry(1, 9)).len() as u64;
    flip_byte(&segment, whole_len - 3);

    let store = LogStore::open(dir.path()).unwrap();
    assert_eq!(file_len(&segment), whole_len - last_record_len);
    drop(store);
    assert_recovers_and_continues(dir.path(), 8).await;
}

#[tokio::test]
async fn a_torn_first_record_of_a_new_segment_removes_the_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=3)).await;
    drop(store);
    let next = dir.path().join(Segment::file_name(4));
    std::fs::write(&next, &record_bytes(&entry(1, 4))[..10]).unwrap();

    let mut store = open_small(dir.path());
    assert!(!next.exists());
    assert_eq!(indexes(&mut store).await, vec![0, 1, 2, 3]);
    append_durable(&mut store, vec![entry(1, 4)]).await;
}

#[tokio::test]
async fn an_empty_last_segment_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 3).await;
    let empty = dir.path().join(Segment::file_name(4));
    std::fs::write(&empty, b"").unwrap();
    assert_recovers_and_continues(dir.path(), 3).await;
}

#[tokio::test]
async fn a_flipped_byte_in_a_middle_segment_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=49)).await;
    drop(store);
    let files = segment_files(dir.path());
    assert!(files.len() >= 3);
    let (_, middle) = &files[1];
    flip_byte(middle, file_len(middle) - 2);

    let error = LogStore::open(dir.path()).err().unwrap();
    assert!(matches!(error, LogError::CorruptSegment { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains(&middle.display().to_string()), "{message}");
    assert!(message.contains("restore this node from a healthy peer by wiping its data dir"), "{message}");
}

#[tokio::test]
async fn a_torn_tail_in_a_middle_segment_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=49)).await;
    drop(store);
    let (_, first) = segment_files(dir.path()).remove(0);
    let len = file_len(&first);
    std::fs::OpenOptions::new().write(true).open(&first).unwrap().set_len(len - 1).unwrap();
    let error = LogStore::open(dir.path()).err().unwrap();
    assert!(matches!(error, LogError::CorruptSegment { .. }), "{error}");
}

#[tokio::test]
async fn a_bad_record_followed_by_a_valid_one_is_fatal_even_in_the_last_segment() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 9).await;
    let (_, segment) = segment_files(dir.path()).pop().unwrap();
    // Corrupt the payload of record 5 (records 6..=9 follow it intact).
    let record_offset: u64 = (0..5).map(|i| record_bytes(&entry(1, i)).len() as u64).sum();
    flip_byte(&segment, record_offset + 20);
    let error = LogStore::open(dir.path()).err().unwrap();
    assert!(matches!(error, LogError::CorruptSegment { .. }), "{error}");
    assert!(error.to_string().contains("not a torn write"), "{error}");
}

#[tokio::test]
async fn a_missing_middle_segment_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=49)).await;
    drop(store);
    let files = segment_files(dir.path());
    std::fs::remove_file(&files[1].1).unwrap();
    let error = LogStore::open(dir.path()).err().unwrap();
    assert!(matches!(error, LogError::Gap { .. }), "{error}");
    assert!(error.to_string().contains("wiping its data dir"), "{error}");
}

#[tokio::test]
async fn a_whole_record_that_does_not_decode_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 2).await;
    let (_, segment) = segment_files(dir.path()).pop().unwrap();
    // A record with a correct checksum whose payload is not an entry.
    let payload = [0xFFu8; 8];
    let mut record = Vec::new();
    record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    let mut checked = 3u64.to_le_bytes().to_vec();
    checked.extend_from_slice(&payload);
    record.extend_from_slice(&crc32fast::hash(&checked).to_le_bytes());
    record.extend_from_slice(&checked);
    append_raw(&segment, &record);
    let error = LogStore::open(dir.path()).err().unwrap();
    assert!(matches!(error, LogError::CorruptSegment { .. }), "{error}");
}

#[tokio::test]
async fn a_purge_point_past_the_first_entry_with_missing_entries_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=49)).await;
    drop(store);
    // Entries 0..=3 purged, but the segments holding 4.. are gone: a hole after the purge point.
    let counters = Counters::default();
    meta_file::write_meta(dir.path(), meta_file::PURGED_FILE_NAME, &log_id(1, 3), &counters).unwrap();
    let files = segment_files(dir.path());
    for (_, path) in &files[..files.len() - 1] {
        std::fs::remove_file(path).unwrap();
    }
    let error = LogStore::open(dir.path()).err().unwrap();
    assert!(matches!(error, LogError::Gap { .. }), "{error}");
}

#[tokio::test]
async fn an_interrupted_purge_is_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_small(dir.path());
    append_durable(&mut store, entries(1, 0..=49)).await;
    drop(store);
    let files_before = segment_files(dir.path()).len();
    // As if the node crashed after making the purge point durable, before deleting any segment.
    let counters = Counters::default();
    meta_file::write_meta(dir.path(), meta_file::PURGED_FILE_NAME, &log_id(1, 30), &counters).unwrap();
    std::fs::write(dir.path().join("vote.meta.tmp"), b"half a vote").unwrap();

    let mut store = open_small(dir.path());
    assert_eq!(indexes(&mut store).await, (31..=49).collect::<Vec<_>>());
    let files = segment_files(dir.path());
    assert!(files.len() < files_before);
    assert!(files[0].0 <= 31);
    assert!(!dir.path().join("vote.meta.tmp").exists(), "a leftover tmp file is removed");
    drop(store);

    // Purged past the last entry: every segment goes.
    meta_file::write_meta(dir.path(), meta_file::PURGED_FILE_NAME, &log_id(1, 60), &counters).unwrap();
    let mut store = open_small(dir.path());
    assert!(all_entries(&mut store).await.is_empty());
    assert!(segment_files(dir.path()).is_empty());
    append_durable(&mut store, vec![entry(2, 61)]).await;
}
