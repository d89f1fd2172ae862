//! `PkiError`: what can go wrong while making or reading a cluster's CA, node certificates and
//! tokens (`pki.rs`, `tokens.rs`, `cluster_security.rs`); each message says what to do.

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot {action} {path}: {error}; check the path and its permissions")]
    Io { action: &'static str, path: String, error: std::io::Error },
    #[error("{path} already exists; {what}")]
    Exists { path: String, what: &'static str },
    #[error("{path} is {size_bytes} bytes, more than the {size_bytes_max} expected; is it the right file?")]
    TooLarge { path: String, size_bytes: u64, size_bytes_max: u64 },
    #[error("cannot make a certificate or key: {0}")]
    Generate(String),
    #[error("{path} is not usable: {reason}; make a CA with `heapctl cert ca --dir DIR`")]
    BadCa { path: String, reason: String },
    #[error("the certificate just issued for node {id} does not verify against the CA: {reason}; the CA in this folder was not made by `heapctl cert ca` or its key does not match ca.pem: make a new CA")]
    IssuedDoesNotVerify { id: u64, reason: String },
    #[error("invalid validity window: {0}")]
    Validity(String),
    #[error("invalid node address {0:?}: give HOST:PORT")]
    Address(String),
    #[error("invalid token name {0:?}: use 1 to 64 characters of A-Z a-z 0-9 . _ -")]
    TokenName(String),
    #[error(transparent)]
    Role(#[from] proto::security::UnknownRole),
    #[error("a token named {name:?} is already in {path}; pick another name (names must be unique)")]
    DuplicateToken { name: String, path: String },
    #[error("{path} already has {count} tokens, the most a node accepts; remove unused entries first")]
    TooManyTokens { path: String, count: usize },
    #[error("{path} is not a valid tokens file: {reason}; fix or remove the entry it names")]
    BadTokensFile { path: String, reason: String },
    #[error("the operating system gave no random bytes: {0}; retry")]
    Random(String),
    #[error("no node {0} in this security folder; issue its certificate first")]
    UnknownNode(u64),
    #[error(transparent)]
    Client(#[from] heap_client::SecurityError),
}
