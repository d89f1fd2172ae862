//! `StateMachineError`: every way the state machine store can fail, each saying what the operator
//! does next. Apart from a corrupt snapshot a peer sent (which is refused), all of them stop the
//! node.

use std::io;

use super::snapshot_error::ImageError;
use crate::machine::LoadError;

#[derive(Debug, thiserror::Error)]
pub enum StateMachineError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Snapshot(#[from] ImageError),
    #[error(
        "the snapshot file {path} cannot be loaded: {reason}; it is this node's only image and the log \
         before it is gone: wipe this node's data dir and let it catch up from its peers, or restore it \
         from a backup"
    )]
    DamagedSnapshot { path: String, reason: String },
    #[error("the state machine lock is poisoned: an earlier apply panicked; the node stops")]
    Poisoned,
    #[error("log entry {index} applied after {applied}: entries must be applied in order; the node stops")]
    OutOfOrder { index: u64, applied: u64 },
}

impl From<StateMachineError> for io::Error {
    fn from(e: StateMachineError) -> Self {
        io::Error::other(e)
    }
}
