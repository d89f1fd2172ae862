//! Builders for wire transactions (`proto::heap` ops): the one place that spells out each op's
//! message, for `HeapClient`, heapctl's JSON documents and probes, the benchmark and the tests.

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

/// Creates an object known by `handle` inside this transaction; the server picks its id.
pub fn create(handle: u32, class_name: &str, kind: pb::ObjectKind) -> pb::Op {
    op(pb::op::Op::Create(pb::Create { handle, class_name: class_name.into(), kind: kind as i32 }))
}

/// Creates an object with an id the client leased (`AllocateIds`).
pub fn create_with_id(id: u64, class_name: &str, kind: pb::ObjectKind) -> pb::Op {
    op(pb::op::Op::CreateWithId(pb::CreateWithId { id, class_name: class_name.into(), kind: kind as i32 }))
}

pub fn bind_root(name: &str, target: Option<pb::Target>) -> pb::Op {
    op(pb::op::Op::BindRoot(pb::BindRoot { name: name.into(), target }))
}

/// Removes root `name`; the objects only it kept alive are then collected.
pub fn unbind_root(name: &str) -> pb::Op {
    op(pb::op::Op::UnbindRoot(pb::UnbindRoot { name: name.into() }))
}

/// Binds root `name` only if it is unbound (rejected with `RootExists` otherwise), so two
/// clients creating one root agree on its object.
pub fn bind_new_root(name: &str, target: Option<pb::Target>) -> pb::Op {
    op(pb::op::Op::BindNewRoot(pb::BindNewRoot { name: name.into(), target }))
}

pub fn set_field(target: Option<pb::Target>, field: &str, value: Option<pb::Value>) -> pb::Op {
    op(pb::op::Op::SetField(pb::SetField { target, field: field.into(), value }))
}

pub fn remove_field(target: Option<pb::Target>, field: &str) -> pb::Op {
    op(pb::op::Op::RemoveField(pb::RemoveField { target, field: field.into() }))
}

pub fn map_put(target: Option<pb::Target>, key: &str, value: Option<pb::Value>) -> pb::Op {
    op(pb::op::Op::MapPut(pb::MapPut { target, key: key.into(), value }))
}

pub fn map_remove(target: Option<pb::Target>, key: &str) -> pb::Op {
    op(pb::op::Op::MapRemove(pb::MapRemove { target, key: key.into() }))
}

pub fn list_push(target: Option<pb::Target>, value: Option<pb::Value>) -> pb::Op {
    op(pb::op::Op::ListPush(pb::ListPush { target, value }))
}

pub fn list_insert(target: Option<pb::Target>, index: u32, value: Option<pb::Value>) -> pb::Op {
    op(pb::op::Op::ListInsert(pb::ListInsert { target, index, value }))
}

pub fn list_set(target: Option<pb::Target>, index: u32, value: Option<pb::Value>) -> pb::Op {
    op(pb::op::Op::ListSet(pb::ListSet { target, index, value }))
}

pub fn list_remove(target: Option<pb::Target>, index: u32) -> pb::Op {
    op(pb::op::Op::ListRemove(pb::ListRemove { target, index }))
}

/// A transaction without version preconditions.
pub fn transaction(ops: Vec<pb::Op>) -> pb::Transaction {
    pb::Transaction { expect: Vec::new(), ops, fences: Vec::new() }
}
