//! Durable Raft storage for Sovereign: the log, the vote, the state machine store and snapshots.
//!
//! Architecture invariant: raft-store never interprets heap operations; it stores opaque bytes
//! and drives a `Machine` it is given.

mod backup;
mod histogram;
mod log;
mod machine;
mod state_machine;
mod types;

pub use backup::*;
pub use histogram::Histogram;
pub use histogram::BUCKET_BOUNDS_SECONDS;
pub use log::LogError;
pub use log::LogOptions;
pub use log::LogReader;
pub use log::LogStats;
pub use log::LogStore;
pub use machine::ChangeSet;
pub use machine::LoadError;
pub use machine::Machine;
pub use state_machine::check_received_snapshot;
pub use state_machine::ImageError;
pub use state_machine::SnapshotCounts;
pub use state_machine::StateMachineError;
pub use state_machine::StateMachineStore;
pub use state_machine::SNAPSHOT_SIZE_BYTES_CEILING;
pub use state_machine::SNAPSHOT_SIZE_BYTES_MAX_DEFAULT;
pub use types::*;
