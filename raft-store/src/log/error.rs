//! `LogError`: every way opening or writing the Raft log can fail, each saying what the operator can do.

use std::io;
use std::path::PathBuf;

/// An error of the durable Raft log. Every variant is fatal for the node: a node whose log cannot be
/// trusted must stop rather than vote or acknowledge entries it may not have.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The operating system refused an I/O operation.
    #[error("log I/O failed while {action} {path}: {error}; check the disk and restart the node")]
    Io { action: &'static str, path: PathBuf, error: io::Error },

    /// A segment holds bytes that cannot be a torn write of the last append.
    #[error(
        "the log in {dir} is corrupt at segment {segment} offset {offset_bytes}: {reason}; \
         restore this node from a healthy peer by wiping its data dir"
    )]
    CorruptSegment { dir: PathBuf, segment: PathBuf, offset_bytes: u64, reason: String },

    /// Log indexes on disk are not contiguous: entries are missing.
    #[error(
        "the log in {dir} has a gap: expected index {expected_index} but found {found_index} in {segment}; \
         restore this node from a healthy peer by wiping its data dir"
    )]
    Gap { dir: PathBuf, segment: PathBuf, expected_index: u64, found_index: u64 },

    /// A vote or purge-point file failed its checksum or could not be decoded.
    #[error(
        "the log metadata file {path} is corrupt: {reason}; \
         restore this node from a healthy peer by wiping its data dir"
    )]
    CorruptMeta { path: PathBuf, reason: String },

    /// Another `LogStore` (in this or another process) holds the directory.
    #[error("the log in {dir} is already open by another store or process; stop it before opening this one")]
    Locked { dir: PathBuf },

    /// `LogOptions` out of range.
    #[error("invalid log options: {reason}")]
    InvalidOptions { reason: String },

    /// An entry too large to be one record.
    #[error("log entry {index} encodes to {size_bytes} bytes, over the limit of {limit_bytes}; reject such requests before proposing them")]
    EntryTooLarge { index: u64, size_bytes: u64, limit_bytes: u64 },

    /// openraft asked for something the log contract forbids (a caller bug, nothing was written).
    #[error("log contract violated: {reason}; this is a bug in the caller")]
    Contract { reason: String },

    /// An earlier write or fdatasync failed; the store refuses all further writes.
    #[error("the log store in {dir} failed earlier and refuses writes; restart the node (it recovers from disk)")]
    Failed { dir: PathBuf },
}

impl LogError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, error: io::Error) -> Self {
        LogError::Io { action, path: path.into(), error }
    }
}

impl From<LogError> for io::Error {
    fn from(error: LogError) -> Self {
        let kind = match &error {
            LogError::Io { error, .. } => error.kind(),
            LogError::Contract { .. } | LogError::InvalidOptions { .. } => io::ErrorKind::InvalidInput,
            LogError::CorruptSegment { .. } | LogError::Gap { .. } | LogError::CorruptMeta { .. } => {
                io::ErrorKind::InvalidData
            }
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}
