//! Sovereign's wire schema: the client-facing `Heap` service and the internal `RaftTransport`; and
//! the subset of etcd's v3 API that heap-bench's etcd client speaks.

/// Largest client request or response on the wire, for clients and servers alike: room for the
/// largest graph read and any transaction (heap-server asserts both fit).
pub const CLIENT_MESSAGE_SIZE_BYTES_MAX: usize = 32 * 1024 * 1024;

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

/// etcd 3.4's KV `Put`/`Range` and Maintenance `Status` (package `etcdserverpb`), client side only:
/// heap-bench benchmarks etcd side by side with Sovereign.
pub mod etcd {
    #![allow(clippy::all)]
    tonic::include_proto!("etcdserverpb");
}
