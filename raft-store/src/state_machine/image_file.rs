//! The snapshot format: a checksummed, bincode-encoded image of the state machine plus Raft meta,
//! and its durable file (`snapshot.bin`, replaced by write-tmp + fsync + rename + fsync dir), which
//! a node streams its own snapshots into.

use std::fs;
use std::fs::File;
use std::io::BufWriter;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::path::PathBuf;

use serde::Deserialize;
use serde::Serialize;

use super::snapshot_codec::decode_meta_from_head;
use super::snapshot_codec::encode_snapshot;
use super::snapshot_codec::encode_snapshot_to;
use super::snapshot_codec::PairWriter;
use super::snapshot_codec::SnapshotView;
use super::snapshot_codec::WriteFailure;
use super::snapshot_codec::CRC_OFFSET;
use super::snapshot_codec::HEADER_SIZE_BYTES;
use super::snapshot_codec::META_READ_BYTES_MAX;
use super::snapshot_data::SnapshotData;
use super::snapshot_error::ImageError;
#[cfg(test)]
use super::snapshot_error::SNAPSHOT_SIZE_BYTES_CEILING;
use crate::types::SnapshotMeta;

pub(crate) const SNAPSHOT_FILE_NAME: &str = "snapshot.bin";
const SNAPSHOT_TMP_FILE_NAME: &str = "snapshot.bin.tmp";

/// What a snapshot holds: the Raft meta it covers and every key/value pair of the machine image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotImage {
    pub meta: SnapshotMeta,
    pub pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl SnapshotImage {
    /// Encodes the image (`snapshot_codec.rs` writes the format).
    pub fn encode(&self) -> Result<Vec<u8>, ImageError> {
        let size_hint_bytes = self.pairs.iter().map(|(key, value)| key.len() + value.len() + 2).sum();
        encode_snapshot(&self.meta, self.pairs.len() as u64, size_hint_bytes, |writer| {
            for (key, value) in &self.pairs {
                writer.push(key, value);
            }
        })
    }

    /// Decodes a snapshot of at most `size_bytes_max` bytes (`SNAPSHOT_SIZE_BYTES_CEILING` for the
    /// node's own file, the configured bound for one received from a peer) into owned pairs;
    /// `SnapshotView` reads one without copying (the store does; tests compare whole images).
    #[cfg(test)]
    pub fn decode(bytes: &[u8], size_bytes_max: u64) -> Result<Self, ImageError> {
        let view = SnapshotView::decode(bytes, size_bytes_max)?;
        let pairs = view.pairs().map(|(key, value)| (key.to_vec(), value.to_vec())).collect();
        Ok(SnapshotImage { meta: view.meta, pairs })
    }
}

/// Decodes a snapshot of at most `size_bytes_max` bytes and checks that it covers what its meta
/// says: done before a received snapshot reaches Raft, so a corrupt or mislabeled stream from the
/// network is refused instead of failing the install (which stops the node).
pub fn verify_snapshot<'a>(
    meta: &SnapshotMeta,
    data: &'a [u8],
    size_bytes_max: u64,
) -> Result<SnapshotView<'a>, ImageError> {
    let image = SnapshotView::decode(data, size_bytes_max)?;
    if image.meta.last_log_id != meta.last_log_id {
        return Err(ImageError::Corrupt(format!(
            "snapshot meta says {:?} but its image covers {:?}",
            meta.last_log_id, image.meta.last_log_id
        )));
    }
    Ok(image)
}

/// `verify_snapshot` for callers outside the store (the node's Raft service, before it hands a
/// received snapshot to Raft), with the bound the node accepts from peers.
pub fn check_received_snapshot(meta: &SnapshotMeta, data: &[u8], size_bytes_max: u64) -> Result<(), ImageError> {
    verify_snapshot(meta, data, size_bytes_max).map(|_| ())
}

fn io_error(path: &Path, error: std::io::Error) -> ImageError {
    ImageError::Io { path: path.display().to_string(), error }
}

/// The write buffer of a streamed snapshot: large enough that writing a big image is a few
/// thousand system calls, small beside the image.
const SNAPSHOT_WRITE_BUFFER_BYTES: usize = 1024 * 1024;

/// A snapshot written into the temporary file, not yet the node's snapshot: `commit` makes it
/// durable and replaces the snapshot file (the one place that does, for built and received
/// snapshots alike). Dropped without `commit`, it leaves a stray temporary file that the next
/// snapshot overwrites; the old snapshot stays.
pub struct StreamedSnapshot {
    file: File,
    dir: PathBuf,
    size_bytes: u64,
}

/// Streams a snapshot of `meta` and the `pair_count` pairs `write_pairs` pushes into `dir`'s
/// temporary snapshot file. The image never exists in memory whole: a node's snapshot costs
/// the write buffer, not a second copy of its heap. Not durable until `commit`.
pub fn stream_snapshot_file(
    dir: &Path,
    meta: &SnapshotMeta,
    pair_count: u64,
    write_pairs: impl FnOnce(&mut PairWriter<BufWriter<File>>),
) -> Result<StreamedSnapshot, ImageError> {
    let tmp = dir.join(SNAPSHOT_TMP_FILE_NAME);
    let file = File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
    let out = BufWriter::with_capacity(SNAPSHOT_WRITE_BUFFER_BYTES, file);
    let (out, body) = encode_snapshot_to(out, meta, pair_count, write_pairs).map_err(|failure| match failure {
        WriteFailure::Io(error) => io_error(&tmp, error),
        WriteFailure::Image(error) => error,
    })?;
    let file = out.into_inner().map_err(|e| io_error(&tmp, e.into_error()))?;
    file.write_all_at(&body.crc.to_le_bytes(), CRC_OFFSET as u64).map_err(|e| io_error(&tmp, e))?;
    Ok(StreamedSnapshot { file, dir: dir.to_path_buf(), size_bytes: body.size_bytes })
}

impl StreamedSnapshot {
    /// Makes the streamed snapshot durable and the node's snapshot file (fsync, rename, fsync of
    /// the folder). Returns its size in bytes.
    pub fn commit(self) -> Result<u64, ImageError> {
        let tmp = self.dir.join(SNAPSHOT_TMP_FILE_NAME);
        let path = self.dir.join(SNAPSHOT_FILE_NAME);
        self.file.sync_all().map_err(|e| io_error(&tmp, e))?;
        drop(self.file);
        fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))?;
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|e| io_error(&self.dir, e))?;
        Ok(self.size_bytes)
    }
}

/// Durably replaces the snapshot file in `dir` with `encoded`.
pub fn write_snapshot_file(dir: &Path, encoded: &[u8]) -> Result<(), ImageError> {
    let tmp = dir.join(SNAPSHOT_TMP_FILE_NAME);
    let mut file = File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
    file.write_all(encoded).map_err(|e| io_error(&tmp, e))?;
    StreamedSnapshot { file, dir: dir.to_path_buf(), size_bytes: encoded.len() as u64 }.commit().map(|_| ())
}

/// Opens the snapshot file at `path`, if there is one, and reads its meta from its head.
pub fn open_snapshot(path: &Path) -> Result<Option<(SnapshotMeta, SnapshotData)>, ImageError> {
    let data = match SnapshotData::open(path) {
        Ok(data) => data,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, e)),
    };
    let head = data.read_chunk(0, HEADER_SIZE_BYTES + META_READ_BYTES_MAX).map_err(|e| io_error(path, e))?;
    Ok(Some((decode_meta_from_head(&head)?, data)))
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
    use super::super::snapshot_codec::tests::pairs as codec_pairs;
    use super::super::snapshot_codec::{config, encode_snapshot, SnapshotView, HEADER_SIZE_BYTES};
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
        assert_eq!(SnapshotImage::decode(&encoded, SNAPSHOT_SIZE_BYTES_CEILING).unwrap(), image());
        for i in 0..encoded.len() {
            let mut bad = encoded.clone();
            bad[i] ^= 0x40;
            assert!(SnapshotImage::decode(&bad, SNAPSHOT_SIZE_BYTES_CEILING).is_err(), "flip at {i} undetected");
        }
        assert!(SnapshotImage::decode(&encoded[..encoded.len() - 1], SNAPSHOT_SIZE_BYTES_CEILING).is_err());
    }

    /// A received snapshot over the caller's bound is refused as too large (naming the bound and
    /// the setting), one at the bound is accepted: the bound is the caller's, not a constant.
    #[test]
    fn a_received_snapshot_over_the_bound_is_refused_naming_the_setting() {
        let encoded = image().encode().unwrap();
        let size_bytes = encoded.len() as u64;
        let meta = SnapshotMeta::default();
        check_received_snapshot(&meta, &encoded, size_bytes).unwrap();
        let error = check_received_snapshot(&meta, &encoded, size_bytes - 1).unwrap_err();
        assert!(matches!(error, ImageError::TooLarge { size_bytes_max, .. } if size_bytes_max == size_bytes - 1));
        let message = error.to_string();
        assert!(message.contains("--snapshot-size-bytes-max"), "{message}");
        assert!(message.contains(&(size_bytes - 1).to_string()), "{message}");
    }

    #[test]
    fn file_is_replaced_durably() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_snapshot_file(dir.path()).unwrap().is_none());
        write_snapshot_file(dir.path(), b"one").unwrap();
        write_snapshot_file(dir.path(), b"two").unwrap();
        assert_eq!(read_snapshot_file(dir.path()).unwrap().unwrap(), b"two");
    }

    /// A streamed snapshot file holds byte for byte what the in-memory encoder gives, and only
    /// `commit` makes it the snapshot file.
    #[test]
    fn a_streamed_snapshot_is_the_encoded_image_once_committed() {
        let dir = tempfile::tempdir().unwrap();
        let meta = SnapshotMeta::default();
        let push_all = |writer: &mut dyn FnMut(&[u8], &[u8])| {
            for (key, value) in codec_pairs() {
                writer(&key, &value);
            }
        };
        let in_memory =
            encode_snapshot(&meta, codec_pairs().len() as u64, 0, |w| push_all(&mut |k, v| w.push(k, v))).unwrap();
        let streamed =
            stream_snapshot_file(dir.path(), &meta, codec_pairs().len() as u64, |w| push_all(&mut |k, v| w.push(k, v)))
                .unwrap();
        assert!(read_snapshot_file(dir.path()).unwrap().is_none(), "not the snapshot before commit");
        assert_eq!(streamed.commit().unwrap(), in_memory.len() as u64);
        assert_eq!(read_snapshot_file(dir.path()).unwrap().unwrap(), in_memory);
    }

    /// The streaming encoder writes exactly what `SnapshotImage`'s bincode encoding does, so
    /// snapshots and backups written either way read back the same.
    #[test]
    fn the_stream_is_byte_for_byte_the_bincode_image() {
        let meta = SnapshotMeta::default();
        let streamed = encode_snapshot(&meta, codec_pairs().len() as u64, 0, |writer| {
            for (key, value) in codec_pairs() {
                writer.push(&key, &value);
            }
        })
        .unwrap();
        let body = bincode::serde::encode_to_vec(&SnapshotImage { meta: meta.clone(), pairs: codec_pairs() }, config());
        assert_eq!(&streamed[HEADER_SIZE_BYTES..], &body.unwrap()[..]);
        let view = SnapshotView::decode(&streamed, SNAPSHOT_SIZE_BYTES_CEILING).unwrap();
        assert_eq!(view.pairs().count(), codec_pairs().len());
        let read: Vec<(Vec<u8>, Vec<u8>)> = view.pairs().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        assert_eq!(read, codec_pairs());
    }
}
