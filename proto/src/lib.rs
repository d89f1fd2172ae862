//! Sovereign's wire schema: the client-facing `Heap` service and the internal `RaftTransport`.

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
