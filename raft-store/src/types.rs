//! The openraft type configuration shared by every Sovereign node: opaque request and reply bytes.
//!
//! raft-store never interprets heap operations: a `Request` is the bytes the application proposed,
//! a `Reply` is the bytes its state machine answered. Only the application (heap-server) decodes them.

use std::fmt;

use serde::Deserialize;
use serde::Serialize;

/// One application command as proposed to Raft. Opaque to raft-store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub payload: Vec<u8>,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Request({} bytes)", self.payload.len())
    }
}

/// The state machine's answer to one applied `Request`. Opaque to raft-store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub payload: Vec<u8>,
}

openraft::declare_raft_types!(
    /// Sovereign's Raft types: u64 node ids, `BasicNode { addr }` (the node's gRPC address),
    /// opaque request/reply payloads, tokio runtime.
    pub TypeConfig:
        D = Request,
        R = Reply,
        NodeId = u64,
        Node = openraft::impls::BasicNode,
);

pub type NodeId = u64;
pub type Node = openraft::impls::BasicNode;
pub type Entry = openraft::alias::EntryOf<TypeConfig>;
pub type LogId = openraft::alias::LogIdOf<TypeConfig>;
pub type Vote = openraft::alias::VoteOf<TypeConfig>;
pub type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
pub type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
pub use crate::state_machine::SnapshotData;
pub type Snapshot = openraft::alias::SnapshotOf<TypeConfig, SnapshotData>;
