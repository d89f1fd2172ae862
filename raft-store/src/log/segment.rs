//! One append-only segment file, `segment-<first index, 20 digits>.log`, holding contiguous records.
//!
//! Writes are positional (`pwrite` at the tracked length), so a concurrent fdatasync by the flusher
//! or a truncation never moves a shared file cursor. The file handle is shared with the flusher
//! through an `Arc<File>`.

use std::fs::File;
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

use super::disk;
use super::error::LogError;
use super::stats::Counters;

const SEGMENT_FILE_PREFIX: &str = "segment-";
const SEGMENT_FILE_SUFFIX: &str = ".log";
/// Digits of the first index in a segment file name: enough for any u64, so names sort by index.
const SEGMENT_INDEX_DIGITS: usize = 20;

const _: () = assert!(u64::MAX.ilog10() as usize + 1 == SEGMENT_INDEX_DIGITS);

/// An open segment file.
#[derive(Debug)]
pub(crate) struct Segment {
    /// Index of the first record in the file; also its name.
    pub(crate) first_index: u64,
    pub(crate) path: PathBuf,
    pub(crate) file: Arc<File>,
    /// Bytes written so far; the next record goes here.
    pub(crate) len_bytes: u64,
}

impl Segment {
    pub(crate) fn file_name(first_index: u64) -> String {
        format!("{SEGMENT_FILE_PREFIX}{first_index:0width$}{SEGMENT_FILE_SUFFIX}", width = SEGMENT_INDEX_DIGITS)
    }

    /// The first index named by a segment file name, or None if the name is not a segment's.
    pub(crate) fn parse_file_name(name: &str) -> Option<u64> {
        let digits = name.strip_prefix(SEGMENT_FILE_PREFIX)?.strip_suffix(SEGMENT_FILE_SUFFIX)?;
        if digits.len() != SEGMENT_INDEX_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// Creates a new, empty segment and makes its directory entry durable.
    pub(crate) fn create(dir: &Path, first_index: u64, counters: &Counters) -> Result<Segment, LogError> {
        let path = dir.join(Segment::file_name(first_index));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| LogError::io("creating segment", &path, e))?;
        disk::sync_dir(dir, counters).map_err(|e| LogError::io("syncing directory after creating", &path, e))?;
        Ok(Segment { first_index, path, file: Arc::new(file), len_bytes: 0 })
    }

    /// Opens an existing segment for appending at `len_bytes` (its verified length).
    pub(crate) fn open_existing(path: PathBuf, first_index: u64, len_bytes: u64) -> Result<Segment, LogError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| LogError::io("opening segment", &path, e))?;
        Ok(Segment { first_index, path, file: Arc::new(file), len_bytes })
    }

    /// Writes `bytes` at the end of the segment. Not synced.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), LogError> {
        self.file.write_all_at(bytes, self.len_bytes).map_err(|e| LogError::io("writing segment", &self.path, e))?;
        self.len_bytes += bytes.len() as u64;
        Ok(())
    }

    /// fdatasync of this segment.
    pub(crate) fn sync(&self, counters: &Counters) -> Result<(), LogError> {
        disk::sync_data(&self.file, counters).map_err(|e| LogError::io("syncing segment", &self.path, e))
    }

    /// Cuts the segment to `len_bytes` and syncs it.
    pub(crate) fn truncate(&mut self, len_bytes: u64, counters: &Counters) -> Result<(), LogError> {
        assert!(len_bytes <= self.len_bytes, "truncation only shortens a segment");
        self.file.set_len(len_bytes).map_err(|e| LogError::io("truncating segment", &self.path, e))?;
        self.len_bytes = len_bytes;
        self.sync(counters)
    }
}

/// Removes a segment file. The caller syncs the directory.
pub(crate) fn remove_segment_file(path: &Path) -> Result<(), LogError> {
    std::fs::remove_file(path).map_err(|e| LogError::io("removing segment", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_file_names_sort_by_index_and_parse_back() {
        let names: Vec<String> = [0, 9, 10, 12_345, u64::MAX].iter().map(|i| Segment::file_name(*i)).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(Segment::file_name(7), "segment-00000000000000000007.log");
        for (name, index) in names.iter().zip([0, 9, 10, 12_345, u64::MAX]) {
            assert_eq!(Segment::parse_file_name(name), Some(index));
        }
        assert_eq!(Segment::parse_file_name("segment-7.log"), None);
        assert_eq!(Segment::parse_file_name("vote.meta"), None);
        assert_eq!(Segment::parse_file_name("segment-0000000000000000000x.log"), None);
        assert_eq!(Segment::parse_file_name("segment-99999999999999999999.log"), None);
    }
}
