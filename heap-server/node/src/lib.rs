//! heap-server: one node of a Sovereign heap cluster (openraft + raft-store + the pure heap) and its
//! gRPC services.

pub mod acceptor;
pub mod append_link;
pub mod auth;
pub mod config;
pub mod consensus_gate;
pub mod consensus_guard;
pub mod context;
pub mod convert;
pub mod forward;
pub mod heap_service;
pub mod leader_duties;
pub mod limits;
pub mod machine_adapter;
pub mod network;
pub mod node;
pub mod node_stream;
pub mod open_files;
pub mod proposer;
pub mod raft_service;
pub mod router;
pub mod tls;
pub mod watch;
pub mod watchdog;
pub mod wire;
