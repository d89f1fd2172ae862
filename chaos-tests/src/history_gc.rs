//! The values the gc workload records in the history (inside `history::Op`'s `gc-*` operations):
//! the shape of a subgraph it builds, and what a graph read saw (objects with the ids they
//! reference, missing ids and roots), so the gc checker can tell from the history alone which
//! objects had to exist and whether any reference dangled.

use serde::Deserialize;
use serde::Serialize;

/// A reference from the object created with handle `from` to the one created with handle `to`,
/// stored in field `field` (`next` along the chain, `back` closing a cycle, `side` a shortcut).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcEdge {
    pub from: u32,
    pub field: String,
    pub to: u32,
}

/// A root binding as a read returned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcRoot {
    pub name: String,
    pub id: u64,
}

/// An object as a read returned it: its id and every object id its body references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcObject {
    pub id: u64,
    pub refs: Vec<u64>,
}

/// What one linearizable graph read returned (all of it as of one applied index).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcSeen {
    pub roots: Vec<GcRoot>,
    pub missing_roots: Vec<String>,
    pub objects: Vec<GcObject>,
    pub missing_ids: Vec<u64>,
    /// The server's object or byte budget cut the walk short: absent references prove nothing.
    pub truncated: bool,
}
