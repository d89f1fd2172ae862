//! Helpers shared by the unit tests and property tests: building envelopes and applying ops.

use crate::command::{Command, Envelope, Op, Transaction};
use crate::heap::Heap;
use crate::object::ObjectKind;
use crate::reply::Reply;
use crate::value::ObjectId;

pub(crate) fn envelope(expect: Vec<(ObjectId, u64)>, ops: Vec<Op>) -> Envelope {
    Envelope { leader_time_ms: 0, command: Command::Transaction(Transaction { expect, ops }) }
}

pub(crate) fn create(handle: u32, kind: ObjectKind) -> Op {
    Op::Create { handle, class: "C".to_string(), kind }
}

/// Applies `ops` at `log_index` and returns the reply, checking the heap stays valid.
pub(crate) fn try_ops(heap: &mut Heap, log_index: u64, ops: Vec<Op>) -> Reply {
    let reply = heap.apply_command(log_index, &envelope(Vec::new(), ops), &mut Vec::new());
    if let Err(error) = heap.validate() {
        panic!("heap invalid after log index {log_index}: {error}");
    }
    reply
}

/// Applies `ops` at `log_index`, which must commit; returns the created ids in op order.
pub(crate) fn apply_ops(heap: &mut Heap, log_index: u64, ops: Vec<Op>) -> Vec<ObjectId> {
    match try_ops(heap, log_index, ops) {
        Reply::Committed { created, .. } => created.into_iter().map(|(_, id)| id).collect(),
        Reply::Rejected(rejection) => panic!("transaction rejected: {rejection}"),
    }
}
