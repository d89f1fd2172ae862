//! `BackupError`: every way reading, writing or seeding from a backup fails, each saying what the
//! operator does next.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {error}; check the path and permissions")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{what} is not a Sovereign backup (no `SOVEREIGN-BACKUP` line at its start); give the file `heapctl snapshot save` wrote")]
    WrongMagic { what: String },
    #[error("{what} is a version {found} backup; this build reads version {supported} only: use the heap-server release that wrote it, or save a new backup")]
    UnsupportedVersion { what: String, found: String, supported: u32 },
    #[error("{what} is truncated or padded: {found_bytes} bytes where its header promises {expected_bytes}; copy the whole file again")]
    Truncated { what: String, expected_bytes: u64, found_bytes: u64 },
    #[error("{what} fails its SHA-256 checksum (stored {stored}, computed {computed}): the file is damaged; use another copy")]
    ChecksumMismatch { what: String, stored: String, computed: String },
    #[error(
        "{what} is {size_bytes} bytes, over the limit of {limit_bytes}; raise BACKUP_SIZE_BYTES_MAX or shrink the heap"
    )]
    TooLarge { what: String, size_bytes: u64, limit_bytes: u64 },
    #[error("{what}: the image does not decode ({reason}) although its checksum holds; it was written by an incompatible build")]
    Image { what: String, reason: String },
    #[error("{path} already holds a cluster's state; --restore seeds a new cluster: give it an empty --data-dir")]
    NotEmpty { path: PathBuf },
    #[error("seeding {path} from the backup failed: {reason}; remove that directory and try again (check the disk)")]
    Seed { path: PathBuf, reason: String },
}
