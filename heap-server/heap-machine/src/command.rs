//! What the leader proposes to the log: an envelope carrying the leader's clock reading and one
//! command, today a transaction of preconditions and ops.

use serde::{Deserialize, Serialize};

use crate::object::ObjectKind;
use crate::value::{ObjectId, Value};

/// The object an op works on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// An object that exists before the op.
    Id(ObjectId),
    /// The object made by an earlier `Op::Create { handle, .. }` in the same transaction.
    New(u32),
}

/// One change inside a transaction. Ops apply in order; each sees the effects of the ones before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Makes an empty object; the reply maps `handle` to the id it received.
    Create { handle: u32, class: String, kind: ObjectKind },
    /// Fields objects only. `Value::Null` stores null; it does not remove the field.
    SetField { target: Target, field: String, value: Value },
    /// Fields objects only. Removing an absent field is allowed and changes nothing.
    RemoveField { target: Target, field: String },
    /// Map objects only.
    MapPut { target: Target, key: String, value: Value },
    /// Map objects only. Removing an absent key is allowed and changes nothing.
    MapRemove { target: Target, key: String },
    /// List objects only: appends.
    ListPush { target: Target, value: Value },
    /// List objects only: inserts before `index`; `index == len` appends.
    ListInsert { target: Target, index: u32, value: Value },
    /// List objects only: replaces the element at `index < len`.
    ListSet { target: Target, index: u32, value: Value },
    /// List objects only: removes the element at `index < len`, shifting later ones down.
    ListRemove { target: Target, index: u32 },
    /// Map or List objects: removes every entry or element.
    Clear { target: Target },
    /// Makes `name` a root naming the target, replacing any earlier binding.
    BindRoot { name: String, target: Target },
    /// Removes the root `name`; unbinding an unbound name changes nothing. The object stays.
    UnbindRoot { name: String },
}

/// A unit that applies whole or not at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// Preconditions `(id, expected version)`, checked against the state before any op runs.
    pub expect: Vec<(ObjectId, u64)>,
    pub ops: Vec<Op>,
}

/// Every kind of heap command. An enum so locks and sessions can join without a format change
/// for transactions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    Transaction(Transaction),
}

/// What the leader proposes. Time enters the state machine only through `leader_time_ms`, so
/// every replica sees the same time for the same entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub leader_time_ms: u64,
    pub command: Command,
}
