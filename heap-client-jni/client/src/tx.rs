//! Short builders for wire transactions (`proto::heap` ops), shared by the JSON mapping, heapctl's
//! probes and the tests.

use proto::heap as pb;

pub fn value(kind: pb::value::Kind) -> Option<pb::Value> {
    Some(pb::Value { kind: Some(kind) })
}

/// The object created with `handle` earlier in the same transaction.
pub fn new_target(handle: u32) -> Option<pb::Target> {
    Some(pb::Target { kind: Some(pb::target::Kind::NewHandle(handle)) })
}

/// An existing object.
pub fn id_target(id: u64) -> Option<pb::Target> {
    Some(pb::Target { kind: Some(pb::target::Kind::Id(id)) })
}

pub fn op(op: pb::op::Op) -> pb::Op {
    pb::Op { op: Some(op) }
}

pub fn create(handle: u32, class_name: &str, kind: pb::ObjectKind) -> pb::Op {
    op(pb::op::Op::Create(pb::Create { handle, class_name: class_name.into(), kind: kind as i32 }))
}

pub fn bind_root(name: &str, target: Option<pb::Target>) -> pb::Op {
    op(pb::op::Op::BindRoot(pb::BindRoot { name: name.into(), target }))
}

pub fn set_field(target: Option<pb::Target>, field: &str, value: Option<pb::Value>) -> pb::Op {
    op(pb::op::Op::SetField(pb::SetField { target, field: field.into(), value }))
}

pub fn map_put(target: Option<pb::Target>, key: &str, value: Option<pb::Value>) -> pb::Op {
    op(pb::op::Op::MapPut(pb::MapPut { target, key: key.into(), value }))
}

pub fn list_push(target: Option<pb::Target>, value: Option<pb::Value>) -> pb::Op {
    op(pb::op::Op::ListPush(pb::ListPush { target, value }))
}

/// A transaction without version preconditions.
pub fn transaction(ops: Vec<pb::Op>) -> pb::Transaction {
    pb::Transaction { expect: Vec::new(), ops, fences: Vec::new() }
}
