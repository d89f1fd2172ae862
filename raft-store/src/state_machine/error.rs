//! `StateMachineError`: every way the state machine store can fail, each saying what the operator
//! does next. Apart from a corrupt snapshot a peer sent (which is refused), all of them stop the
//! node.

use std::io;

use super::snapshot_error::ImageError;
use crate::machine::LoadError;

#[derive(Debug, thiserror::Error)]
pub enum StateMachineError {
    #[error("cannot open the state machine store at {path}: {error}; check the path and permissions")]
    Open { path: String, error: sled::Error },
    #[error("state machine store i/o failed: {0}; the node stops (check the disk)")]
    Sled(#[from] sled::Error),
    #[error("state machine meta key {key} is corrupt: {reason}; wipe this node's data dir and let it catch up from its peers")]
    CorruptMeta { key: String, reason: String },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Snapshot(#[from] ImageError),
    #[error("the state machine lock is poisoned: an earlier apply panicked; the node stops")]
    Poisoned,
    #[error("log entry {index} applied after {applied}: entries must be applied in order; the node stops")]
    OutOfOrder { index: u64, applied: u64 },
    #[error("writing the machine image to sled failed: {0}; the node stops (check the disk)")]
    ImageWrite(String),
}

impl StateMachineError {
    /// Whether the error says the sled image is damaged (it can be rebuilt from the snapshot and
    /// the log), as opposed to an error of the disk, the snapshot or the process.
    pub fn is_damaged_image(&self) -> bool {
        match self {
            StateMachineError::CorruptMeta { .. } | StateMachineError::Load(_) => true,
            StateMachineError::Open { error, .. } | StateMachineError::Sled(error) => sled_damage(error),
            _ => false,
        }
    }
}

/// A sled error that means its files are damaged, not that the disk or the process is unwell
/// (permissions, missing folders, out of descriptors or space stop the node as before).
fn sled_damage(error: &sled::Error) -> bool {
    match error {
        sled::Error::Corruption { .. } | sled::Error::Unsupported(_) | sled::Error::ReportableBug(_) => true,
        sled::Error::Io(io_error) => {
            matches!(io_error.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData)
        }
        _ => false,
    }
}

impl From<StateMachineError> for io::Error {
    fn from(e: StateMachineError) -> Self {
        io::Error::other(e)
    }
}
