//! heap-server: one node of a Sovereign heap cluster (openraft + raft-store + the pure heap) and its
//! gRPC services.

pub mod append_link;
pub mod config;
pub mod context;
pub mod convert;
pub mod forward;
pub mod heap_service;
pub mod leader_duties;
pub mod limits;
pub mod machine_adapter;
pub mod network;
pub mod node;
pub mod proposer;
pub mod raft_service;
pub mod router;
pub mod watch;
pub mod wire;
