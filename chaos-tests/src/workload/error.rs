//! `WorkloadError`: why the workload could not start (its objects not created, a worker's client
//! not built). Apart from mod.rs so that objects.rs, which mod.rs uses, can return it too.

use heap_client::ClientError;

#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("cannot set up the workload objects: {0}")]
    Setup(String),
    #[error(transparent)]
    Client(#[from] ClientError),
}
