//! heap-server: one node of a Sovereign heap cluster (openraft + raft-store + the pure heap), its
//! gRPC services, and the client used by `heapctl` and the tests.

pub mod append_link;
pub mod config;
pub mod convert;
pub mod heap_service;
pub mod json;
pub mod leader_duties;
pub mod limits;
pub mod local_cluster;
pub mod machine_adapter;
pub mod network;
pub mod node;
pub mod proposer;
pub mod raft_service;
pub mod router;
pub mod tx;
pub mod watch;
pub mod wire;

/// The client library, re-exported for heapctl and the tests.
pub use heap_client::cluster as client;
pub use heap_client::session;
