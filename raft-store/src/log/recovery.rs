//! Recovery on open: read the vote and purge point, scan every segment in order, verify checksums
//! and index continuity, cut a torn tail off the last segment, and rebuild the in-memory index of
//! every entry and the cache of the most recent ones.
//!
//! Memory: one segment is read and decoded at a time (at most `SEGMENT_SIZE_BYTES_MAX` of file
//! plus its entries, one at a time), each entry goes into the index (a few bytes) and the cache,
//! which evicts the oldest as it goes, so recovery ends holding what a running store holds.
//!
//! Policy: the only damage repaired is a torn tail of the LAST segment (bytes of an append that
//! was never fsynced, so never acknowledged). Anything else (a bad record in an earlier segment, a
//! bad record followed by a valid next record, a whole record that does not decode, a gap in
//! indexes) is fatal, because dropping it could drop an entry this node acknowledged.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::Path;
use std::path::PathBuf;

use super::cache::EntryCache;
use super::disk;
use super::error::LogError;
use super::log_index::LogIndex;
use super::meta_file;
use super::meta_file::PURGED_FILE_NAME;
use super::meta_file::TMP_FILE_SUFFIX;
use super::meta_file::VOTE_FILE_NAME;
use super::options::SEGMENT_SIZE_BYTES_MAX;
use super::record::decode_record;
use super::record::Decoded;
use super::record::RECORD_HEADER_SIZE_BYTES;
use super::segment;
use super::segment::Segment;
use super::stats::Counters;
use crate::types::Entry;
use crate::types::LogId;
use crate::types::Vote;

/// Most segment files a log may have (4 TiB at the default segment size).
pub(crate) const SEGMENT_COUNT_MAX: usize = 65_536;

/// Name of the lock file that keeps two stores off one directory.
pub(crate) const LOCK_FILE_NAME: &str = "LOCK";

/// Everything a `LogStore` starts from.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub(crate) vote: Option<Vote>,
    pub(crate) purged: Option<LogId>,
    pub(crate) segments: BTreeMap<u64, Segment>,
    /// Every entry after the purge point, contiguous.
    pub(crate) index: LogIndex,
    /// The most recent of them, within the cache budget.
    pub(crate) cache: EntryCache,
}

/// What scanning one segment found: its last valid record and the length of its valid prefix.
struct Scanned {
    last_index: Option<u64>,
    valid_len_bytes: u64,
}

/// One valid record of a segment as the scan finds it: the entry, its offset and its size.
type RecordSink<'a> = dyn FnMut(Entry, u64, usize) + 'a;

/// Reads the log in `dir` back after a restart or crash: the vote, the purge point and every
/// entry after it (into the index, and the newest into a cache of `cache_bytes_max`), repairing
/// only a torn tail of the last segment.
pub(crate) fn recover(dir: &Path, counters: &Counters, cache_bytes_max: u64) -> Result<Recovered, LogError> {
    remove_tmp_files(dir, counters)?;
    let vote: Option<Vote> = meta_file::read_meta(dir, VOTE_FILE_NAME)?;
    let purged: Option<LogId> = meta_file::read_meta(dir, PURGED_FILE_NAME)?;
    let mut names = list_segments(dir)?;
    if let Some(purged) = &purged {
        remove_purged_segment_files(dir, &mut names, purged, counters)?;
    }
    let mut recovered = Recovered {
        vote,
        purged,
        segments: BTreeMap::new(),
        index: LogIndex::default(),
        cache: EntryCache::new(cache_bytes_max),
    };
    load_segments(dir, names, &mut recovered, counters)?;
    remove_segments_purged_past_the_end(dir, &mut recovered, counters)?;
    check_recovered(dir, &recovered)?;
    Ok(recovered)
}

/// Finishes an interrupted purge: a segment whose successor starts at or below purge + 1 holds
/// only purged entries (every entry of a segment is below its successor's first index).
fn remove_purged_segment_files(
    dir: &Path,
    names: &mut Vec<(u64, PathBuf)>,
    purged: &LogId,
    counters: &Counters,
) -> Result<(), LogError> {
    let mut removed_count = 0;
    while names.len() >= 2 && names[1].0 <= purged.index.saturating_add(1) {
        segment::remove_segment_file(&names[0].1)?;
        names.remove(0);
        removed_count += 1;
    }
    if removed_count > 0 {
        disk::sync_dir(dir, counters).map_err(|e| LogError::io("syncing directory", dir, e))?;
        tracing::info!(removed_count, dir = %dir.display(), "removed segments left over by an interrupted purge");
    }
    Ok(())
}

/// Scans the segments `names` (in index order) into `recovered`: each must start where the one
/// before it ended; entries at or below the purge point are skipped.
fn load_segments(
    dir: &Path,
    names: Vec<(u64, PathBuf)>,
    recovered: &mut Recovered,
    counters: &Counters,
) -> Result<(), LogError> {
    let mut expected_index: Option<u64> = None;
    let segment_count = names.len();
    for (position, (first_index, path)) in names.into_iter().enumerate() {
        let is_last = position + 1 == segment_count;
        if let Some(expected) = expected_index {
            if first_index != expected {
                return Err(LogError::Gap {
                    dir: dir.to_path_buf(),
                    segment: path,
                    expected_index: expected,
                    found_index: first_index,
                });
            }
        }
        let purged_index = recovered.purged.map(|purged| purged.index);
        let (index, cache) = (&mut recovered.index, &mut recovered.cache);
        let mut keep = |entry: Entry, offset_bytes: u64, size_bytes: usize| {
            if purged_index.is_some_and(|purged| entry.log_id.index <= purged) {
                return;
            }
            index.push(&entry.log_id, offset_bytes, size_bytes);
            cache.push(entry, size_bytes);
        };
        let Some(scanned) = read_valid_records(dir, &path, first_index, is_last, counters, &mut keep)? else {
            continue;
        };
        let last_index = scanned.last_index.expect("a segment kept holds a record");
        expected_index = Some(last_index + 1);
        recovered.segments.insert(first_index, Segment::open_existing(path, first_index, scanned.valid_len_bytes)?);
    }
    Ok(())
}

/// Reads and checks one segment, handing each valid record to `sink` and cutting a torn tail off
/// the last one. Returns None when the last segment holds no record (after removing it); any other
/// segment without a record is corrupt.
fn read_valid_records(
    dir: &Path,
    path: &Path,
    first_index: u64,
    is_last: bool,
    counters: &Counters,
    sink: &mut RecordSink<'_>,
) -> Result<Option<Scanned>, LogError> {
    let bytes = read_segment(dir, path)?;
    let scanned = scan_segment(dir, path, first_index, &bytes, is_last, sink)?;
    let file_len_bytes = bytes.len() as u64;
    if scanned.valid_len_bytes < file_len_bytes {
        assert!(is_last, "only the last segment may have a torn tail");
        cut_tail(path, scanned.valid_len_bytes, counters)?;
        tracing::warn!(
            segment = %path.display(),
            dropped_bytes = file_len_bytes - scanned.valid_len_bytes,
            kept_bytes = scanned.valid_len_bytes,
            "cut a torn tail off the last log segment: an append that was never fsynced, so never acknowledged"
        );
    }
    if scanned.last_index.is_none() {
        if !is_last {
            return Err(corrupt(dir, path, 0, "an empty segment that is not the last".to_string()));
        }
        segment::remove_segment_file(path)?;
        disk::sync_dir(dir, counters).map_err(|e| LogError::io("syncing directory", dir, e))?;
        tracing::warn!(segment = %path.display(), "removed an empty last log segment (a crash right after creating it)");
        return Ok(None);
    }
    Ok(Some(scanned))
}

/// Finishes an interrupted purge past the last entry: every remaining record is purged, so every
/// segment goes.
fn remove_segments_purged_past_the_end(
    dir: &Path,
    recovered: &mut Recovered,
    counters: &Counters,
) -> Result<(), LogError> {
    if recovered.index.is_empty() && !recovered.segments.is_empty() {
        assert!(recovered.purged.is_some(), "records exist but none kept: they must all be purged");
        for segment in recovered.segments.values() {
            segment::remove_segment_file(&segment.path)?;
        }
        recovered.segments.clear();
        disk::sync_dir(dir, counters).map_err(|e| LogError::io("syncing directory", dir, e))?;
    }
    Ok(())
}

/// Checks the recovered log: the first entry follows the purge point (a hole there is a `Gap`).
/// Contiguity after it holds by construction (`LogIndex::push` asserts it).
fn check_recovered(dir: &Path, recovered: &Recovered) -> Result<(), LogError> {
    let Recovered { purged, segments, index, .. } = recovered;
    if let (Some(purged), Some(first)) = (purged, index.first_index()) {
        if first != purged.index + 1 {
            let segment = segments.values().next().map(|s| s.path.clone()).unwrap_or_default();
            return Err(LogError::Gap {
                dir: dir.to_path_buf(),
                segment,
                expected_index: purged.index + 1,
                found_index: first,
            });
        }
    }
    index.validate();
    recovered.cache.validate();
    Ok(())
}

fn corrupt(dir: &Path, segment: &Path, offset_bytes: u64, reason: String) -> LogError {
    LogError::CorruptSegment { dir: dir.to_path_buf(), segment: segment.to_path_buf(), offset_bytes, reason }
}

/// Segment files in index order.
fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, LogError> {
    let mut names = Vec::new();
    let read_dir = std::fs::read_dir(dir).map_err(|e| LogError::io("listing", dir, e))?;
    for dir_entry in read_dir {
        let dir_entry = dir_entry.map_err(|e| LogError::io("listing", dir, e))?;
        let file_name = dir_entry.file_name();
        let Some(name) = file_name.to_str() else {
            tracing::warn!(dir = %dir.display(), ?file_name, "ignoring a file with a non-UTF-8 name in the log directory");
            continue;
        };
        if let Some(first_index) = Segment::parse_file_name(name) {
            names.push((first_index, dir_entry.path()));
        } else if name != VOTE_FILE_NAME && name != PURGED_FILE_NAME && name != LOCK_FILE_NAME {
            tracing::warn!(dir = %dir.display(), name, "ignoring an unknown file in the log directory");
        }
        if names.len() > SEGMENT_COUNT_MAX {
            return Err(LogError::InvalidOptions {
                reason: format!(
                    "{} holds more than {SEGMENT_COUNT_MAX} segments; raise SEGMENT_COUNT_MAX",
                    dir.display()
                ),
            });
        }
    }
    names.sort();
    Ok(names)
}

fn remove_tmp_files(dir: &Path, counters: &Counters) -> Result<(), LogError> {
    let mut removed = false;
    for name in [VOTE_FILE_NAME, PURGED_FILE_NAME] {
        let tmp_path = dir.join(format!("{name}{TMP_FILE_SUFFIX}"));
        match std::fs::remove_file(&tmp_path) {
            Ok(()) => removed = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(LogError::io("removing", &tmp_path, e)),
        }
    }
    if removed {
        disk::sync_dir(dir, counters).map_err(|e| LogError::io("syncing directory", dir, e))?;
    }
    Ok(())
}

fn read_segment(dir: &Path, path: &Path) -> Result<Vec<u8>, LogError> {
    let len_bytes = std::fs::metadata(path).map_err(|e| LogError::io("reading metadata of", path, e))?.len();
    if len_bytes > SEGMENT_SIZE_BYTES_MAX {
        return Err(corrupt(
            dir,
            path,
            0,
            format!("{len_bytes} bytes, over the segment limit of {SEGMENT_SIZE_BYTES_MAX}"),
        ));
    }
    std::fs::read(path).map_err(|e| LogError::io("reading", path, e))
}

/// Decodes the records of one segment, handing each to `sink` once its index is checked. Stops at
/// a torn tail only if `is_last`.
fn scan_segment(
    dir: &Path,
    path: &Path,
    first_index: u64,
    bytes: &[u8],
    is_last: bool,
    sink: &mut RecordSink<'_>,
) -> Result<Scanned, LogError> {
    let mut last_index = None;
    let mut offset = 0usize;
    let mut expected_index = first_index;
    // Each record takes at least a header, which bounds the loop.
    let iterations_max = bytes.len() / RECORD_HEADER_SIZE_BYTES + 1;
    for _ in 0..iterations_max {
        if offset == bytes.len() {
            break;
        }
        let offset_bytes = offset as u64;
        match decode_record(&bytes[offset..]) {
            Decoded::Record { index, entry, size_bytes } => {
                if index != expected_index {
                    return Err(LogError::Gap {
                        dir: dir.to_path_buf(),
                        segment: path.to_path_buf(),
                        expected_index,
                        found_index: index,
                    });
                }
                sink(*entry, offset_bytes, size_bytes);
                last_index = Some(index);
                offset += size_bytes;
                expected_index += 1;
            }
            Decoded::Incomplete { reason } => {
                if !is_last {
                    return Err(corrupt(dir, path, offset_bytes, reason));
                }
                break;
            }
            Decoded::Invalid { reason, payload_len } => {
                if !is_last {
                    return Err(corrupt(dir, path, offset_bytes, reason));
                }
                // A torn write leaves garbage at the end. A valid record with the next index
                // after the bad one means the bad record is in the middle: corruption.
                if let Some(index) = next_record_after_bad_one(bytes, offset, payload_len, expected_index) {
                    return Err(corrupt(
                        dir,
                        path,
                        offset_bytes,
                        format!("{reason}, followed by valid entry {index}: not a torn write"),
                    ));
                }
                break;
            }
            Decoded::Undecodable { reason } => {
                return Err(corrupt(dir, path, offset_bytes, reason));
            }
        }
    }
    assert!(offset <= bytes.len());
    Ok(Scanned { last_index, valid_len_bytes: offset as u64 })
}

/// The index of the record right after a bad record at `offset` (whose header claims
/// `payload_len`), if that record is valid and is entry `expected_index + 1`, the entry that would
/// follow the bad one.
fn next_record_after_bad_one(
    bytes: &[u8],
    offset: usize,
    payload_len: Option<usize>,
    expected_index: u64,
) -> Option<u64> {
    let next = offset + RECORD_HEADER_SIZE_BYTES + payload_len?;
    if next >= bytes.len() {
        return None;
    }
    match decode_record(&bytes[next..]) {
        Decoded::Record { index, .. } if index == expected_index + 1 => Some(index),
        _ => None,
    }
}

/// Cuts a torn tail: ftruncate to the valid prefix, then fdatasync.
fn cut_tail(path: &Path, valid_len_bytes: u64, counters: &Counters) -> Result<(), LogError> {
    let file = OpenOptions::new().write(true).open(path).map_err(|e| LogError::io("opening", path, e))?;
    file.set_len(valid_len_bytes).map_err(|e| LogError::io("truncating torn tail of", path, e))?;
    disk::sync_data(&file, counters).map_err(|e| LogError::io("syncing", path, e))
}

#[cfg(test)]
#[path = "recovery_test.rs"]
mod tests;
