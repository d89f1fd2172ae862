//! Reads entries that are no longer cached back from their segment files: `pread` of a chunk of
//! consecutive records, then each record's checksum, index, size and log id checked against the
//! in-memory index. Any mismatch is a `CorruptSegment` error (the caller fails the store): a
//! record the index points at was written whole and fsynced or still in the page cache, so a
//! record that does not match is damage, never a torn write.

use std::os::unix::fs::FileExt;
use std::path::Path;

use super::error::LogError;
use super::read_plan::DiskRun;
use super::record::decode_record;
use super::record::Decoded;
use crate::types::Entry;
use crate::types::LogId;

/// Most bytes one `pread` fetches (a larger single record is read alone): large enough that a
/// catch-up read of small entries takes few system calls, small enough to be a modest buffer.
pub(crate) const READ_CHUNK_BYTES_MAX: u64 = 4 * 1024 * 1024;

/// Appends the entries of `run` to `out`, in order.
pub(crate) fn read_run(dir: &Path, run: &DiskRun, out: &mut Vec<Entry>) -> Result<(), LogError> {
    let mut buffer = Vec::new();
    let mut chunk_offset_bytes = run.offset_bytes;
    let mut position = 0;
    // Each pass reads at least one record, which bounds the loop by the run's length.
    while position < run.records.len() {
        let chunk_end = chunk_end(&run.records, position);
        let chunk_len_bytes: u64 = run.records[position..chunk_end].iter().map(|(_, size)| u64::from(*size)).sum();
        buffer.resize(usize::try_from(chunk_len_bytes).expect("a chunk is a few MiB"), 0);
        run.file.read_exact_at(&mut buffer, chunk_offset_bytes).map_err(|error| match error.kind() {
            std::io::ErrorKind::UnexpectedEof => corrupt(
                dir,
                run,
                chunk_offset_bytes,
                format!("the file ends before the {chunk_len_bytes} bytes of records the index expects here"),
            ),
            _ => LogError::io("reading", &run.path, error),
        })?;
        let mut at = 0usize;
        for (log_id, size_bytes) in &run.records[position..chunk_end] {
            let size_bytes = *size_bytes as usize;
            let record_offset_bytes = chunk_offset_bytes + at as u64;
            let entry = decode_expected(&buffer[at..at + size_bytes], log_id)
                .map_err(|reason| corrupt(dir, run, record_offset_bytes, reason))?;
            out.push(entry);
            at += size_bytes;
        }
        chunk_offset_bytes += chunk_len_bytes;
        position = chunk_end;
    }
    Ok(())
}

/// End (exclusive) of the chunk of records starting at `position`: at least one record, then as
/// many as fit in `READ_CHUNK_BYTES_MAX`.
fn chunk_end(records: &[(LogId, u32)], position: usize) -> usize {
    let mut chunk_len_bytes = 0u64;
    let mut end = position;
    while let Some((_, size_bytes)) = records.get(end) {
        let size_bytes = u64::from(*size_bytes);
        if end > position && chunk_len_bytes + size_bytes > READ_CHUNK_BYTES_MAX {
            break;
        }
        chunk_len_bytes += size_bytes;
        end += 1;
    }
    end
}

/// The entry in `bytes`, which must be exactly one whole record of `expected`.
fn decode_expected(bytes: &[u8], expected: &LogId) -> Result<Entry, String> {
    match decode_record(bytes) {
        Decoded::Record { index, entry, size_bytes } => {
            if size_bytes != bytes.len() {
                return Err(format!("record of {size_bytes} bytes where the index expects {}", bytes.len()));
            }
            if index != expected.index || entry.log_id != *expected {
                return Err(format!("record holds entry {} where the index expects {expected}", entry.log_id));
            }
            Ok(*entry)
        }
        Decoded::Incomplete { reason } | Decoded::Invalid { reason, .. } | Decoded::Undecodable { reason } => {
            Err(format!("entry {expected}: {reason}"))
        }
    }
}

fn corrupt(dir: &Path, run: &DiskRun, offset_bytes: u64, reason: String) -> LogError {
    LogError::CorruptSegment { dir: dir.to_path_buf(), segment: run.path.clone(), offset_bytes, reason }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::log::record::encode_record;
    use crate::log::testing::entry;

    /// A segment file holding the records of entries `0..count` and the run that reads them all.
    fn segment_with(dir: &Path, count: u64) -> DiskRun {
        let mut bytes = Vec::new();
        let mut records = Vec::new();
        for index in 0..count {
            let size = encode_record(&entry(1, index), &mut bytes).unwrap();
            records.push((entry(1, index).log_id, size as u32));
        }
        let path = dir.join("segment");
        std::fs::write(&path, &bytes).unwrap();
        let file = Arc::new(std::fs::File::open(&path).unwrap());
        DiskRun { file, path, offset_bytes: 0, len_bytes: bytes.len() as u64, records }
    }

    #[test]
    fn a_run_reads_back_every_record() {
        let dir = tempfile::tempdir().unwrap();
        let run = segment_with(dir.path(), 20);
        let mut out = Vec::new();
        read_run(dir.path(), &run, &mut out).unwrap();
        assert_eq!(out, (0..20).map(|index| entry(1, index)).collect::<Vec<_>>());
    }

    #[test]
    fn chunks_take_at_least_one_record_and_stay_within_the_chunk_size() {
        let small = u32::try_from(READ_CHUNK_BYTES_MAX / 4).unwrap();
        let huge = u32::try_from(READ_CHUNK_BYTES_MAX * 2).unwrap();
        let records: Vec<(LogId, u32)> = [small, small, small, small, small, huge, small]
            .iter()
            .enumerate()
            .map(|(i, size)| (entry(1, i as u64).log_id, *size))
            .collect();
        assert_eq!(chunk_end(&records, 0), 4, "four quarters fill a chunk");
        assert_eq!(chunk_end(&records, 4), 5, "the huge record does not join a chunk");
        assert_eq!(chunk_end(&records, 5), 6, "the huge record is read alone");
        assert_eq!(chunk_end(&records, 6), 7);
    }

    #[test]
    fn a_record_that_is_not_the_expected_entry_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let mut run = segment_with(dir.path(), 3);
        // Same index, another term: the checksum matches but the index says otherwise.
        run.records[1].0 = entry(2, 1).log_id;
        let error = read_run(dir.path(), &run, &mut Vec::new()).unwrap_err();
        assert!(matches!(error, LogError::CorruptSegment { .. }), "{error}");
        assert!(error.to_string().contains("where the index expects"), "{error}");
    }

    #[test]
    fn a_file_shorter_than_the_index_says_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let run = segment_with(dir.path(), 3);
        std::fs::OpenOptions::new().write(true).open(&run.path).unwrap().set_len(run.len_bytes - 1).unwrap();
        let error = read_run(dir.path(), &run, &mut Vec::new()).unwrap_err();
        assert!(matches!(error, LogError::CorruptSegment { .. }), "{error}");
    }
}
