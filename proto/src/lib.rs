//! Sovereign's wire schema: the client-facing `Heap` service, the operators' `Admin` service,
//! the internal `RaftTransport`, and the security names every side agrees on (`security`).

pub mod security;

/// Largest client request or response on the wire, for clients and servers alike: room for the
/// largest graph read and any transaction (heap-server asserts both fit).
pub const CLIENT_MESSAGE_SIZE_BYTES_MAX: usize = 32 * 1024 * 1024;

/// A session request still pending (a queued lock, a wait) is answered `Pending` after this long,
/// and the client sends it again; no RPC hangs for longer. Servers keep it; clients give each
/// attempt longer than this, so a pending answer arrives before they give up.
pub const PENDING_WAIT_MS_MAX: u64 = 5_000;

/// The client-facing heap service (package `sovereign.v1`).
pub mod heap {
    #![allow(clippy::all)]
    tonic::include_proto!("sovereign.v1");
}

/// The internal Raft transport (package `sovereign.raft.v1`).
pub mod raft {
    #![allow(clippy::all)]
    tonic::include_proto!("sovereign.raft.v1");
}

/// The operator service: membership, leadership, snapshots and backups, the collector (status, run,
/// pause) (package `sovereign.admin.v1`).
pub mod admin {
    #![allow(clippy::all)]
    tonic::include_proto!("sovereign.admin.v1");
}
