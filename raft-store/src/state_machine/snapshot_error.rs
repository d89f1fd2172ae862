//! What the snapshot format and the snapshot file share: the size bounds and `ImageError`. A
//! leaf (it imports nothing of the crate), so the format (`snapshot_codec.rs`) and the file
//! (`image_file.rs`) both depend on it and not on each other.

/// The largest snapshot the format allows. Snapshots are built, sent and installed as one buffer,
/// so a node builds, keeps and reads back its own snapshots up to this (its heap is in memory
/// already; refusing to snapshot it would stop the node). What a node accepts from a peer is the
/// lower, configurable bound below, checked as the stream arrives (`check_received_snapshot`).
pub const SNAPSHOT_SIZE_BYTES_CEILING: u64 = 64 * 1024 * 1024 * 1024;
/// The bincode decoder's limit is a `usize`: a target where the ceiling does not fit fails here.
const _: () = assert!(SNAPSHOT_SIZE_BYTES_CEILING <= usize::MAX as u64);

/// The default for the largest snapshot a node accepts from a peer (heap-server's
/// `--snapshot-size-bytes-max`): a received stream is held in memory whole before it is checked.
pub const SNAPSHOT_SIZE_BYTES_MAX_DEFAULT: u64 = 1024 * 1024 * 1024;
const _: () = assert!(SNAPSHOT_SIZE_BYTES_MAX_DEFAULT <= SNAPSHOT_SIZE_BYTES_CEILING);

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(
        "snapshot is {size_bytes} bytes, over the limit of {size_bytes_max} bytes; raise \
         --snapshot-size-bytes-max on every node (at most {SNAPSHOT_SIZE_BYTES_CEILING}) or shrink the heap"
    )]
    TooLarge { size_bytes: u64, size_bytes_max: u64 },
    #[error("snapshot is corrupt: {0}; it is not installed (the sender will retry, or wipe this node's data dir)")]
    Corrupt(String),
    #[error("snapshot file i/o failed at {path}: {error}; check the disk, the node stops")]
    Io { path: String, error: std::io::Error },
}

pub(crate) fn check_size(size_bytes: u64, size_bytes_max: u64) -> Result<(), ImageError> {
    if size_bytes > size_bytes_max {
        return Err(ImageError::TooLarge { size_bytes, size_bytes_max });
    }
    Ok(())
}
