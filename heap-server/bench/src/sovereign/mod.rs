//! The Sovereign side: finding the leader (`discover`), creating the objects and graphs the
//! workloads use (`setup`), the clients of the raw-gRPC workloads (`heap_ops`) and of lock-update
//! (`lock_update`), one measurement end to end (`measure`), and a local three-node cluster for
//! `compare` (`cluster`).

pub mod cluster;
pub mod discover;
pub mod heap_ops;
pub mod lock_update;
pub mod measure;
pub mod setup;
