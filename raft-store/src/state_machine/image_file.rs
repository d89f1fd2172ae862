//! The snapshot format: a checksummed, bincode-encoded image of the state machine plus Raft meta,
//! and its durable file (`snapshot.bin`, replaced by write-tmp + fsync + rename + fsync dir).

use std::fs;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use serde::Deserialize;
use serde::Serialize;

use crate::types::SnapshotMeta;

/// Snapshots are built, sent and installed as one buffer; this bounds the memory that takes.
pub const SNAPSHOT_SIZE_BYTES_MAX: usize = 1024 * 1024 * 1024;

/// Written first in every snapshot, so a stray file is never mistaken for one.
const SNAPSHOT_MAGIC: &[u8; 8] = b"SOVSNAP1";
const HEADER_SIZE_BYTES: usize = SNAPSHOT_MAGIC.len() + 4;

const SNAPSHOT_FILE_NAME: &str = "snapshot.bin";
const SNAPSHOT_TMP_FILE_NAME: &str = "snapshot.bin.tmp";

/// What a snapshot holds: the Raft meta it covers and every key/value pair of the machine image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotImage {
    pub meta: SnapshotMeta,
    pub pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("snapshot is {size_bytes} bytes, over the limit of {SNAPSHOT_SIZE_BYTES_MAX}; raise SNAPSHOT_SIZE_BYTES_MAX or shrink the heap")]
    TooLarge { size_bytes: usize },
    #[error("snapshot is corrupt: {0}; it is not installed (the sender will retry, or wipe this node's data dir)")]
    Corrupt(String),
    #[error("snapshot file i/o failed at {path}: {error}; check the disk, the node stops")]
    Io { path: String, error: std::io::Error },
}

impl SnapshotImage {
    pub fn encode(&self) -> Result<Vec<u8>, ImageError> {
        let body = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .map_err(|e| ImageError::Corrupt(format!("cannot encode: {e}")))?;
        let size_bytes = HEADER_SIZE_BYTES + body.len();
        if size_bytes > SNAPSHOT_SIZE_BYTES_MAX {
            return Err(ImageError::TooLarge { size_bytes });
        }
        let mut out = Vec::with_capacity(size_bytes);
        out.extend_from_slice(SNAPSHOT_MAGIC);
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ImageError> {
        if bytes.len() > SNAPSHOT_SIZE_BYTES_MAX {
            return Err(ImageError::TooLarge { size_bytes: bytes.len() });
        }
        if bytes.len() < HEADER_SIZE_BYTES || &bytes[..SNAPSHOT_MAGIC.len()] != SNAPSHOT_MAGIC {
            return Err(ImageError::Corrupt("missing snapshot header".into()));
        }
        let mut crc = [0u8; 4];
        crc.copy_from_slice(&bytes[SNAPSHOT_MAGIC.len()..HEADER_SIZE_BYTES]);
        let body = &bytes[HEADER_SIZE_BYTES..];
        if crc32fast::hash(body) != u32::from_le_bytes(crc) {
            return Err(ImageError::Corrupt("checksum mismatch".into()));
        }
        let config = bincode::config::standard().with_limit::<SNAPSHOT_SIZE_BYTES_MAX>();
        let (image, read) = bincode::serde::decode_from_slice::<Self, _>(body, config)
            .map_err(|e| ImageError::Corrupt(format!("cannot decode: {e}")))?;
        if read != body.len() {
            return Err(ImageError::Corrupt("trailing bytes after the image".into()));
        }
        Ok(image)
    }
}

/// Decodes a received snapshot and checks that it covers what its meta says: done before the
/// snapshot reaches Raft, so a corrupt or mislabeled stream from the network is refused instead
/// of failing the install (which stops the node).
pub fn verify_snapshot(meta: &SnapshotMeta, data: &[u8]) -> Result<SnapshotImage, ImageError> {
    let image = SnapshotImage::decode(data)?;
    if image.meta.last_log_id != meta.last_log_id {
        return Err(ImageError::Corrupt(format!(
            "snapshot meta says {:?} but its image covers {:?}",
            meta.last_log_id, image.meta.last_log_id
        )));
    }
    Ok(image)
}

/// `verify_snapshot` for callers outside the store (the node's Raft service, before it hands a
/// received snapshot to Raft).
pub fn check_received_snapshot(meta: &SnapshotMeta, data: &[u8]) -> Result<(), ImageError> {
    verify_snapshot(meta, data).map(|_| ())
}

fn io_error(path: &Path, error: std::io::Error) -> ImageError {
    ImageError::Io { path: path.display().to_string(), error }
}

/// Durably replaces the snapshot file in `dir` with `encoded`.
pub fn write_snapshot_file(dir: &Path, encoded: &[u8]) -> Result<(), ImageError> {
    let tmp = dir.join(SNAPSHOT_TMP_FILE_NAME);
    let path = dir.join(SNAPSHOT_FILE_NAME);
    let mut file = File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
    file.write_all(encoded).map_err(|e| io_error(&tmp, e))?;
    file.sync_all().map_err(|e| io_error(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error(dir, e))?;
    Ok(())
}

/// Reads the snapshot file in `dir`, if there is one.
pub fn read_snapshot_file(dir: &Path) -> Result<Option<Vec<u8>>, ImageError> {
    let path = dir.join(SNAPSHOT_FILE_NAME);
    match fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&path, e)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn image() -> SnapshotImage {
        SnapshotImage {
            meta: SnapshotMeta::default(),
            pairs: vec![(b"a".to_vec(), b"1".to_vec()), (b"b".to_vec(), vec![0; 100])],
        }
    }

    #[test]
    fn round_trip_and_every_flipped_byte_is_detected() {
        let encoded = image().encode().unwrap();
        assert_eq!(SnapshotImage::decode(&encoded).unwrap(), image());
        for i in 0..encoded.len() {
            let mut bad = encoded.clone();
            bad[i] ^= 0x40;
            assert!(SnapshotImage::decode(&bad).is_err(), "flip at {i} undetected");
        }
        assert!(SnapshotImage::decode(&encoded[..encoded.len() - 1]).is_err());
    }

    #[test]
    fn file_is_replaced_durably() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_snapshot_file(dir.path()).unwrap().is_none());
        write_snapshot_file(dir.path(), b"one").unwrap();
        write_snapshot_file(dir.path(), b"two").unwrap();
        assert_eq!(read_snapshot_file(dir.path()).unwrap().unwrap(), b"two");
    }
}
