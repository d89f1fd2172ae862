//! `BenchError`: everything that can go wrong in heap-bench's library, each saying what to fix.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("cannot connect to {endpoint}: {message}")]
    Connect { endpoint: String, message: String },
    #[error("no leader found among {endpoints} within {waited_ms} ms (last: {last}); check that the cluster runs")]
    NoLeader { endpoints: String, waited_ms: u64, last: String },
    /// Preparing a measurement (objects, keys, sessions) failed: the system is not usable.
    #[error("setup failed: {0}")]
    Setup(String),
    /// One request failed or was rejected; counted as an error, the run goes on.
    #[error("{0}")]
    Request(String),
    #[error("cannot start {system}: {message}")]
    Start { system: String, message: String },
    #[error("{system} stopped during the run:{message}")]
    Died { system: String, message: String },
    #[error("{0} is not supported by {1}")]
    Unsupported(String, String),
    /// The client side of TLS or tokens: a CA or token file not readable, or an endpoint TLS
    /// cannot use (the message says what to fix).
    #[error(transparent)]
    Security(#[from] heap_client::SecurityError),
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl BenchError {
    pub fn io(path: &Path, error: std::io::Error) -> Self {
        BenchError::Io { path: path.display().to_string(), error }
    }
}
