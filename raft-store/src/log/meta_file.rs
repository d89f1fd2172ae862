//! Small checksummed metadata files (the vote, the purge point), replaced atomically:
//! write `NAME.tmp`, fsync it, rename over `NAME`, fsync the directory.
//!
//! Format: `[magic "SVMF"][payload_len u32 LE][crc32 u32 LE of payload][payload = bincode(value)]`.
//! Because the rename happens only after the temporary file is durable, a file that fails its
//! checksum is corruption, never a torn write.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::disk;
use super::error::LogError;
use super::stats::Counters;

/// The vote of this node.
pub(crate) const VOTE_FILE_NAME: &str = "vote.meta";
/// The last purged log id.
pub(crate) const PURGED_FILE_NAME: &str = "purged.meta";
/// Suffix of a replacement being written; leftovers are removed on open.
pub(crate) const TMP_FILE_SUFFIX: &str = ".tmp";

const META_MAGIC: [u8; 4] = *b"SVMF";
const META_HEADER_SIZE_BYTES: usize = 4 + 4 + 4;
/// Largest metadata payload; a vote or a log id is a few dozen bytes.
const META_PAYLOAD_SIZE_BYTES_MAX: usize = 4096;

/// Durably replaces `dir/name` with `value`.
pub(crate) fn write_meta<T: Serialize>(dir: &Path, name: &str, value: &T, counters: &Counters) -> Result<(), LogError> {
    let path = dir.join(name);
    let tmp_path = dir.join(format!("{name}{TMP_FILE_SUFFIX}"));
    let payload = bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| LogError::CorruptMeta { path: path.clone(), reason: format!("cannot encode: {e}") })?;
    assert!(payload.len() <= META_PAYLOAD_SIZE_BYTES_MAX, "metadata values are tiny");
    let payload_len = u32::try_from(payload.len()).expect("bounded by META_PAYLOAD_SIZE_BYTES_MAX");
    let mut bytes = Vec::with_capacity(META_HEADER_SIZE_BYTES + payload.len());
    bytes.extend_from_slice(&META_MAGIC);
    bytes.extend_from_slice(&payload_len.to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);

    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp_path)
        .map_err(|e| LogError::io("creating", &tmp_path, e))?;
    file.write_all(&bytes).map_err(|e| LogError::io("writing", &tmp_path, e))?;
    disk::sync_all(&file, counters).map_err(|e| LogError::io("syncing", &tmp_path, e))?;
    drop(file);
    std::fs::rename(&tmp_path, &path).map_err(|e| LogError::io("renaming into place", &path, e))?;
    disk::sync_dir(dir, counters).map_err(|e| LogError::io("syncing directory after replacing", &path, e))?;
    Ok(())
}

/// Reads `dir/name`: None if it does not exist, an error if it fails its checksum.
pub(crate) fn read_meta<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<Option<T>, LogError> {
    let path = dir.join(name);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LogError::io("reading", &path, e)),
    };
    let corrupt = |reason: String| LogError::CorruptMeta { path: path.clone(), reason };
    if bytes.len() < META_HEADER_SIZE_BYTES {
        return Err(corrupt(format!("{} bytes, shorter than the header", bytes.len())));
    }
    if bytes[0..4] != META_MAGIC {
        return Err(corrupt("bad magic".to_string()));
    }
    let payload_len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let crc_stored = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if payload_len > META_PAYLOAD_SIZE_BYTES_MAX {
        return Err(corrupt(format!("payload length {payload_len} over the limit")));
    }
    if bytes.len() != META_HEADER_SIZE_BYTES + payload_len {
        return Err(corrupt(format!("{} bytes, expected {}", bytes.len(), META_HEADER_SIZE_BYTES + payload_len)));
    }
    let payload = &bytes[META_HEADER_SIZE_BYTES..];
    let crc_computed = crc32fast::hash(payload);
    if crc_computed != crc_stored {
        return Err(corrupt(format!("checksum mismatch: stored {crc_stored:#010x}, computed {crc_computed:#010x}")));
    }
    let config = bincode::config::standard().with_limit::<META_PAYLOAD_SIZE_BYTES_MAX>();
    let (value, consumed) = bincode::serde::decode_from_slice::<T, _>(payload, config)
        .map_err(|e| corrupt(format!("does not decode: {e}")))?;
    if consumed != payload_len {
        return Err(corrupt(format!("decodes from {consumed} of {payload_len} payload bytes")));
    }
    Ok(Some(value))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trip_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        let counters = Counters::default();
        assert_eq!(read_meta::<u64>(dir.path(), "x.meta").unwrap(), None);
        write_meta(dir.path(), "x.meta", &7u64, &counters).unwrap();
        write_meta(dir.path(), "x.meta", &8u64, &counters).unwrap();
        assert_eq!(read_meta::<u64>(dir.path(), "x.meta").unwrap(), Some(8));
        assert!(!dir.path().join("x.meta.tmp").exists());
        assert_eq!(Counters::get(&counters.fsync_count), 4, "file and directory, twice");
    }

    #[test]
    fn meta_flipped_byte_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let counters = Counters::default();
        write_meta(dir.path(), "x.meta", &(1u64, 2u64), &counters).unwrap();
        let path = dir.path().join("x.meta");
        let original = std::fs::read(&path).unwrap();
        for position in 0..original.len() {
            let mut corrupt = original.clone();
            corrupt[position] ^= 0x10;
            std::fs::write(&path, &corrupt).unwrap();
            let result = read_meta::<(u64, u64)>(dir.path(), "x.meta");
            assert!(matches!(result, Err(LogError::CorruptMeta { .. })), "flip at {position}: {result:?}");
        }
        std::fs::write(&path, &original[..original.len() - 1]).unwrap();
        assert!(matches!(read_meta::<(u64, u64)>(dir.path(), "x.meta"), Err(LogError::CorruptMeta { .. })));
    }
}
