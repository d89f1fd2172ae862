//! `ClusterError`: what can go wrong while running a `LocalCluster` (starting, signalling and
//! watching its heap-server processes).

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot start heap-server {binary} for node {id}: {error}")]
    Spawn { binary: String, id: u64, error: std::io::Error },
    #[error("{0} not found; build it first (cargo build --release -p heap-server puts it beside this tool)")]
    MissingServerBinary(String),
    #[error("cannot prepare {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("no node {0} in this cluster")]
    UnknownNode(u64),
    #[error("cannot signal node {id} ({signal}): {error}")]
    Signal { id: u64, signal: &'static str, error: String },
    #[error("timed out after {waited_ms} ms waiting for {what}")]
    Timeout { what: String, waited_ms: u64 },
    #[error(transparent)]
    Client(#[from] heap_client::ClientError),
    #[error(transparent)]
    Security(#[from] crate::pki_error::PkiError),
}
