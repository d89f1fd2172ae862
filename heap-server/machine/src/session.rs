//! A client session's persisted header: its client, owner, lease and acknowledged sequence.
//! Its stored replies live in `Heap::replies`, one image key each, so renewing a lease rewrites
//! a few bytes, not the whole reply table. What the server asks about sessions is in
//! `session_info.rs`.

use serde::{Deserialize, Serialize};

/// A session's persisted header (`s/<id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Session {
    pub client: String,
    /// The credential that opened the session (`Command::OpenSession::owner`); only it may
    /// send the session's requests, except that an admin may close it.
    pub owner: String,
    pub ttl_ms: u64,
    /// The session expires at the first `Tick` with `now_ms >= expires_at_ms`.
    pub expires_at_ms: u64,
    /// The highest `acknowledged_below` the client sent: final replies below it are forgotten,
    /// and new requests below it are refused (`SequenceTooOld`) because a retry could no longer
    /// be told from a new request.
    pub acknowledged_below: u64,
}

#[cfg(test)]
#[path = "session_test.rs"]
mod tests;
