//! Unit tests of the byte-bounded entry cache seen through `LogStore`: with a budget of a few KiB
//! the cache stays within it, and every read (from the cache, from disk, across the boundary,
//! after truncation, purge and reopen, before the fsync) returns exactly what a model of the log
//! holds; a damaged record read from disk fails the store instead of returning a wrong entry.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::FileExt;
use std::path::Path;

use futures::TryStreamExt;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use openraft::type_config::TypeConfigExt;
use openraft::EntryPayload;
use openraft::RaftLogReader;

use super::LIMITED_READ_ENTRIES_MAX;
use crate::log::options::LOG_CACHE_BYTES_MAX;
use crate::log::record::encode_record;
use crate::log::testing::*;
use crate::log::LogError;
use crate::log::LogOptions;
use crate::log::LogStore;
use crate::types::Entry;
use crate::types::LogId;
use crate::types::Request;
use crate::types::TypeConfig;

/// A cache budget that holds only a handful of the entries these tests write.
const TINY_CACHE_BYTES: u64 = 4 * 1024;
/// Segments of a few records, so reads from disk cross segment files.
const TEST_SEGMENT_SIZE_BYTES: u64 = 2 * 1024;
/// Largest payload the model test writes: a few entries fill the tiny cache.
const PAYLOAD_SIZE_BYTES_MAX: u64 = 700;
const SEED_COUNT: u64 = 8;
const STEPS_PER_SEED: usize = 60;

fn tiny_options() -> LogOptions {
    LogOptions {
        segment_size_bytes: TEST_SEGMENT_SIZE_BYTES,
        cache_bytes_max: TINY_CACHE_BYTES,
        ..LogOptions::default()
    }
}

fn open_tiny(dir: &Path) -> LogStore {
    LogStore::open_with(dir, tiny_options()).unwrap()
}

/// An entry whose payload of `payload_len` bytes is different for every index and term.
fn sized_entry(term: u64, index: u64, payload_len: u64) -> Entry {
    let payload = (0..payload_len).map(|i| (index.wrapping_mul(31) ^ term ^ i) as u8).collect();
    Entry::new_normal(log_id(term, index), Request { payload })
}

/// xorshift64: a reproducible stream of choices per seed.
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Self {
        Random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound.max(1)
    }
}

/// What the log must hold: the purge point and every entry after it, in order.
#[derive(Default)]
struct Model {
    purged: Option<LogId>,
    entries: Vec<Entry>,
}

impl Model {
    fn next_index(&self) -> u64 {
        match (self.entries.last(), &self.purged) {
            (Some(last), _) => last.log_id.index + 1,
            (None, Some(purged)) => purged.index + 1,
            (None, None) => 0,
        }
    }

    fn first_index(&self) -> u64 {
        self.purged.map_or(0, |purged| purged.index + 1)
    }

    fn in_range(&self, start: u64, end_inclusive: u64) -> Vec<Entry> {
        self.entries.iter().filter(|e| e.log_id.index >= start && e.log_id.index <= end_inclusive).cloned().collect()
    }
}

/// Everything a reader can ask agrees with the model, and the cache is within its budget.
/// Returns how many entries were readable only from disk.
async fn check(store: &mut LogStore, model: &Model, random: &mut Random, context: &str) -> u64 {
    let stats = store.stats();
    assert!(stats.cached_bytes <= TINY_CACHE_BYTES, "{context}: {stats:?}");
    assert_eq!(stats.entry_count, model.entries.len() as u64, "{context}");
    assert!(stats.cached_entry_count <= stats.entry_count, "{context}: {stats:?}");
    assert_eq!(all_entries(store).await, model.entries, "{context}: the whole log");

    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, model.purged, "{context}");
    assert_eq!(state.last_log_id, model.entries.last().map(|e| e.log_id).or(model.purged), "{context}");

    // A range that may start before the purge point and end past the last entry.
    let low = model.first_index().saturating_sub(2);
    let start = low + random.below(model.next_index() + 2 - low);
    let end_inclusive = start + random.below(12);
    let expected = model.in_range(start, end_inclusive);
    let read = store.try_get_log_entries(start..=end_inclusive).await.unwrap();
    assert_eq!(read, expected, "{context}: entries {start}..={end_inclusive}");
    let limited = store.limited_get_log_entries(start, end_inclusive + 1).await.unwrap();
    assert_eq!(limited, expected, "{context}: limited {start}..={end_inclusive}");

    // The entries on either side of the cache boundary, read together.
    if stats.cached_entry_count > 0 && stats.cached_entry_count < stats.entry_count {
        let cache_first = stats.last_index.unwrap() + 1 - stats.cached_entry_count;
        let read = store.try_get_log_entries(cache_first - 1..=cache_first).await.unwrap();
        assert_eq!(read, model.in_range(cache_first - 1, cache_first), "{context}: across the cache boundary");
    }
    stats.entry_count - stats.cached_entry_count
}

/// What one step did, for the failure message, and whether the caller must reopen the store.
struct Step {
    what: String,
    reopen: bool,
}

impl Step {
    fn done(what: String) -> Step {
        Step { what, reopen: false }
    }
}

/// One random change to the log, applied to the store and the model alike.
async fn step(store: &mut LogStore, model: &mut Model, term: &mut u64, random: &mut Random) -> Step {
    match random.below(9) {
        0..=5 => {
            if random.below(8) == 0 {
                *term += 1;
            }
            let first = model.next_index();
            let count = 1 + random.below(6);
            let batch: Vec<Entry> = (first..first + count)
                .map(|i| sized_entry(*term, i, random.below(PAYLOAD_SIZE_BYTES_MAX + 1)))
                .collect();
            model.entries.extend(batch.iter().cloned());
            append_durable(store, batch).await;
            Step::done(format!("append {first}..{}", first + count))
        }
        6 if !model.entries.is_empty() => {
            let kept = random.below(model.entries.len() as u64) as usize;
            let last = match kept {
                0 => model.purged,
                _ => Some(model.entries[kept - 1].log_id),
            };
            store.truncate_after(last).await.unwrap();
            model.entries.truncate(kept);
            // A truncation happens when a new leader overrides this log: later entries are its.
            *term += 1;
            Step::done(format!("truncate after {last:?}"))
        }
        7 if !model.entries.is_empty() => {
            let purged_count = 1 + random.below(model.entries.len() as u64) as usize;
            let purged = model.entries[purged_count - 1].log_id;
            store.purge(purged).await.unwrap();
            model.entries.drain(..purged_count);
            model.purged = Some(purged);
            Step::done(format!("purge through {purged}"))
        }
        _ => Step { what: "reopen".to_string(), reopen: true },
    }
}

#[tokio::test]
async fn random_appends_truncations_purges_and_reopens_read_back_as_the_model() {
    for seed in 0..SEED_COUNT {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_tiny(dir.path());
        let (mut model, mut term, mut random) = (Model::default(), 1, Random::new(seed));
        let mut read_from_disk_max = 0;
        for step_number in 0..STEPS_PER_SEED {
            let Step { what, reopen } = step(&mut store, &mut model, &mut term, &mut random).await;
            if reopen {
                drop(store);
                store = open_tiny(dir.path());
            }
            let context = format!("seed {seed}, step {step_number} ({what})");
            read_from_disk_max = read_from_disk_max.max(check(&mut store, &model, &mut random, &context).await);
        }
        assert!(read_from_disk_max > 10, "seed {seed}: the test must read many entries from disk, not only the cache");
    }
}

#[tokio::test]
async fn many_appends_keep_the_cache_within_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_tiny(dir.path());
    let mut model = Model::default();
    for first in (0..400).step_by(4) {
        let batch: Vec<Entry> = (first..first + 4).map(|i| sized_entry(1, i, 300)).collect();
        model.entries.extend(batch.iter().cloned());
        append_durable(&mut store, batch).await;
        let stats = store.stats();
        assert!(stats.cached_bytes <= TINY_CACHE_BYTES, "{stats:?}");
    }
    let stats = store.stats();
    assert_eq!(stats.entry_count, 400);
    assert!(stats.cached_entry_count >= 5, "the budget holds several 300-byte entries: {stats:?}");
    assert!(stats.cached_entry_count < 20, "and not many more: {stats:?}");
    assert_eq!(all_entries(&mut store).await, model.entries);
}

#[tokio::test]
async fn reopening_a_long_log_caches_only_its_tail() {
    let dir = tempfile::tempdir().unwrap();
    let written: Vec<Entry> = (0..300).map(|i| sized_entry(1, i, 200)).collect();
    let mut store = LogStore::open(dir.path()).unwrap();
    append_durable(&mut store, written.clone()).await;
    assert_eq!(store.stats().cached_entry_count, 300, "the default budget holds them all");
    drop(store);

    let mut store = open_tiny(dir.path());
    let stats = store.stats();
    assert!(stats.cached_bytes <= TINY_CACHE_BYTES, "{stats:?}");
    assert!(stats.cached_entry_count > 0 && stats.cached_entry_count < 30, "{stats:?}");
    assert_eq!(stats.last_index, Some(299));
    assert_eq!(all_entries(&mut store).await, written);
    assert_eq!(store.try_get_log_entries(5..=7).await.unwrap(), written[5..=7]);
}

#[tokio::test]
async fn entries_not_yet_fsynced_are_read_back_after_leaving_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_tiny(dir.path());
    let gate = store.flusher_gate();
    let batch: Vec<Entry> = (0..50).map(|i| sized_entry(1, i, 400)).collect();

    gate.pause();
    let (sender, receiver) = TypeConfig::oneshot();
    store.append(batch.clone(), IOFlushed::signal(sender)).await.unwrap();
    wait_until("the flusher took the callback", || store.stats().flush_request_count == 1).await;
    let stats_before_sync = store.stats();
    let read_before_sync = all_entries(&mut store).await;
    // Resumed before asserting: a store dropped by a failing assertion would wait for its
    // paused flusher forever.
    gate.resume();
    receiver.await.unwrap().unwrap();

    assert_eq!(stats_before_sync.flushed_callback_count, 0, "read before the sync");
    assert!(stats_before_sync.cached_entry_count < 50, "most of the batch left the cache: {stats_before_sync:?}");
    assert_eq!(read_before_sync, batch, "readable before the fsync");
}

#[tokio::test]
async fn truncation_below_the_cache_then_new_entries_then_purge_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_tiny(dir.path());
    let mut expected: Vec<Entry> = (0..100).map(|i| sized_entry(1, i, 300)).collect();
    append_durable(&mut store, expected.clone()).await;
    let cache_first = 100 - store.stats().cached_entry_count;
    assert!(cache_first > 40, "entries 40.. are partly on disk only");

    // Everything cached goes, and more.
    store.truncate_after(Some(log_id(1, 39))).await.unwrap();
    expected.truncate(40);
    assert_eq!(store.stats().cached_entry_count, 0);
    assert_eq!(all_entries(&mut store).await, expected);

    let newer: Vec<Entry> = (40..60).map(|i| sized_entry(2, i, 300)).collect();
    append_durable(&mut store, newer.clone()).await;
    expected.extend(newer);
    assert_eq!(all_entries(&mut store).await, expected, "the new term's entries replaced the old on disk");

    store.purge(log_id(1, 29)).await.unwrap();
    expected.drain(..30);
    assert_eq!(all_entries(&mut store).await, expected);
    assert_eq!(store.try_get_log_entries(35..45).await.unwrap(), expected[5..15]);
    drop(store);
    let mut store = open_tiny(dir.path());
    assert_eq!(all_entries(&mut store).await, expected, "and after a reopen");
}

#[tokio::test]
async fn streams_and_limited_reads_cross_their_step_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_tiny(dir.path());
    let count = LIMITED_READ_ENTRIES_MAX + 500;
    let written = entries(1, 0..=count - 1);
    append_durable(&mut store, written.clone()).await;
    let mut reader = store.get_log_reader().await;

    let streamed: Vec<Entry> = reader.entries_stream(10..).await.try_collect().await.unwrap();
    assert_eq!(streamed, written[10..], "a stream longer than one step");
    let limited = reader.limited_get_log_entries(0, count).await.unwrap();
    assert_eq!(limited, written[..LIMITED_READ_ENTRIES_MAX as usize], "a limited read stops at its entry bound");

    store.purge(log_id(1, 99)).await.unwrap();
    let streamed: Vec<Entry> = reader.entries_stream(0..200).await.try_collect().await.unwrap();
    assert_eq!(streamed, written[100..200], "a stream from before the purge point starts after it");
    let streamed: Vec<Entry> = reader.entries_stream(count..).await.try_collect().await.unwrap();
    assert!(streamed.is_empty());
}

/// Offset of entry `index`'s record in the first segment, for entries written by `entries(1, ..)`.
fn record_offset(index: u64) -> u64 {
    let mut bytes = Vec::new();
    for earlier in 0..index {
        encode_record(&entry(1, earlier), &mut bytes).unwrap();
    }
    bytes.len() as u64
}

#[tokio::test]
async fn a_flipped_byte_in_an_old_record_read_from_disk_fails_the_store() {
    const DAMAGED_INDEX: u64 = 3;
    // Header fields (length, checksum, index) and the payload.
    for position_in_record in [1u64, 5, 9, 20] {
        let dir = tempfile::tempdir().unwrap();
        let options = LogOptions { cache_bytes_max: TINY_CACHE_BYTES, ..LogOptions::default() };
        let mut store = LogStore::open_with(dir.path(), options).unwrap();
        append_durable(&mut store, entries(1, 0..=199)).await;
        assert!(200 - store.stats().cached_entry_count > DAMAGED_INDEX, "the damaged entry is on disk only");

        let (_, segment) = segment_files(dir.path()).remove(0);
        let file = std::fs::OpenOptions::new().read(true).write(true).open(&segment).unwrap();
        let offset = record_offset(DAMAGED_INDEX) + position_in_record;
        let mut byte = [0u8; 1];
        file.read_exact_at(&mut byte, offset).unwrap();
        file.write_all_at(&[byte[0] ^ 0x04], offset).unwrap();

        let error = store.try_get_log_entries(2..=4).await.unwrap_err();
        let context = format!("flip at byte {position_in_record} of record {DAMAGED_INDEX}: {error}");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{context}");
        assert!(error.to_string().contains("is corrupt"), "{context}");
        assert!(error.to_string().contains("wiping its data dir"), "{context}");
        assert!(store.stats().failed, "{context}: a corrupt log fails the store");
        assert!(store.append([entry(1, 200)], IOFlushed::noop()).await.is_err(), "{context}");
        // Entries before the damaged one still read back as written, never a wrong one.
        assert_eq!(store.try_get_log_entries(0..=2).await.unwrap(), entries(1, 0..=2), "{context}");
    }
}

#[tokio::test]
async fn a_blank_entry_reads_back_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_tiny(dir.path());
    let mut written = vec![Entry::new_blank(log_id(1, 0))];
    written.extend((1..40).map(|i| sized_entry(1, i, 300)));
    append_durable(&mut store, written.clone()).await;
    assert!(store.stats().cached_entry_count < 39);
    let read = store.try_get_log_entries(0..=1).await.unwrap();
    assert_eq!(read, written[..=1]);
    assert!(matches!(read[0].payload, EntryPayload::Blank));
}

#[test]
fn a_cache_budget_over_the_maximum_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions { cache_bytes_max: LOG_CACHE_BYTES_MAX + 1, ..LogOptions::default() };
    let error = LogStore::open_with(dir.path(), options).err().unwrap();
    assert!(matches!(error, LogError::InvalidOptions { .. }), "{error}");
    let options = LogOptions { cache_bytes_max: LOG_CACHE_BYTES_MAX, ..LogOptions::default() };
    LogStore::open_with(dir.path(), options).unwrap();
}
