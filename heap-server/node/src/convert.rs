//! Conversions between the wire schema (`proto::heap`) and the heap's own types.
//! Wire input is validated here: a message with a missing required part is a client error. Input
//! is borrowed, so the heap service keeps the client's request intact in case it must forward it
//! to the leader (`forward.rs`), without copying it first.

use heap_machine as hm;
use proto::heap as pb;

#[derive(Debug, thiserror::Error)]
#[error("malformed request: {0}; fix the request (see proto/proto/heap.proto)")]
pub struct MalformedRequest(pub String);

fn missing(what: &str) -> MalformedRequest {
    MalformedRequest(format!("{what} is missing"))
}

pub fn value_from_pb(value: Option<&pb::Value>) -> hm::Value {
    use pb::value::Kind;
    match value.and_then(|v| v.kind.as_ref()) {
        None | Some(Kind::NullValue(_)) => hm::Value::Null,
        Some(Kind::BoolValue(b)) => hm::Value::Bool(*b),
        Some(Kind::IntValue(i)) => hm::Value::Int(*i),
        Some(Kind::FloatValue(f)) => hm::Value::Float(*f),
        Some(Kind::StringValue(s)) => hm::Value::Str(s.clone()),
        Some(Kind::BytesValue(b)) => hm::Value::Bytes(b.clone()),
        Some(Kind::RefId(id)) => hm::Value::Ref(*id),
        Some(Kind::NewRef(handle)) => hm::Value::NewRef(*handle),
    }
}

pub fn value_to_pb(value: &hm::Value) -> pb::Value {
    use pb::value::Kind;
    let kind = match value {
        hm::Value::Null => Kind::NullValue(true),
        hm::Value::Bool(b) => Kind::BoolValue(*b),
        hm::Value::Int(i) => Kind::IntValue(*i),
        hm::Value::Float(f) => Kind::FloatValue(*f),
        hm::Value::Str(s) => Kind::StringValue(s.clone()),
        hm::Value::Bytes(b) => Kind::BytesValue(b.clone()),
        hm::Value::Ref(id) => Kind::RefId(*id),
        hm::Value::NewRef(handle) => Kind::NewRef(*handle),
    };
    pb::Value { kind: Some(kind) }
}

fn target_from_pb(target: &Option<pb::Target>) -> Result<hm::Target, MalformedRequest> {
    match target.as_ref().and_then(|t| t.kind).ok_or_else(|| missing("op target"))? {
        pb::target::Kind::Id(id) => Ok(hm::Target::Id(id)),
        pb::target::Kind::NewHandle(handle) => Ok(hm::Target::New(handle)),
    }
}

pub fn kind_from_pb(kind: i32) -> Result<hm::ObjectKind, MalformedRequest> {
    match pb::ObjectKind::try_from(kind) {
        Ok(pb::ObjectKind::Fields) => Ok(hm::ObjectKind::Fields),
        Ok(pb::ObjectKind::Map) => Ok(hm::ObjectKind::Map),
        Ok(pb::ObjectKind::List) => Ok(hm::ObjectKind::List),
        Err(_) => Err(MalformedRequest(format!("unknown object kind {kind}"))),
    }
}

pub fn kind_to_pb(kind: hm::ObjectKind) -> pb::ObjectKind {
    match kind {
        hm::ObjectKind::Fields => pb::ObjectKind::Fields,
        hm::ObjectKind::Map => pb::ObjectKind::Map,
        hm::ObjectKind::List => pb::ObjectKind::List,
    }
}

fn op_from_pb(op: &pb::Op) -> Result<hm::Op, MalformedRequest> {
    use pb::op::Op as P;
    Ok(match op.op.as_ref().ok_or_else(|| missing("op"))? {
        P::Create(c) => hm::Op::Create { handle: c.handle, class: c.class_name.clone(), kind: kind_from_pb(c.kind)? },
        P::SetField(s) => hm::Op::SetField {
            target: target_from_pb(&s.target)?,
            field: s.field.clone(),
            value: value_from_pb(s.value.as_ref()),
        },
        P::RemoveField(r) => hm::Op::RemoveField { target: target_from_pb(&r.target)?, field: r.field.clone() },
        P::MapPut(m) => hm::Op::MapPut {
            target: target_from_pb(&m.target)?,
            key: m.key.clone(),
            value: value_from_pb(m.value.as_ref()),
        },
        P::MapRemove(m) => hm::Op::MapRemove { target: target_from_pb(&m.target)?, key: m.key.clone() },
        P::ListPush(l) => {
            hm::Op::ListPush { target: target_from_pb(&l.target)?, value: value_from_pb(l.value.as_ref()) }
        }
        P::ListInsert(l) => hm::Op::ListInsert {
            target: target_from_pb(&l.target)?,
            index: l.index,
            value: value_from_pb(l.value.as_ref()),
        },
        P::ListSet(l) => hm::Op::ListSet {
            target: target_from_pb(&l.target)?,
            index: l.index,
            value: value_from_pb(l.value.as_ref()),
        },
        P::ListRemove(l) => hm::Op::ListRemove { target: target_from_pb(&l.target)?, index: l.index },
        P::Clear(c) => hm::Op::Clear { target: target_from_pb(&c.target)? },
        P::BindRoot(b) => hm::Op::BindRoot { name: b.name.clone(), target: target_from_pb(&b.target)? },
        P::UnbindRoot(u) => hm::Op::UnbindRoot { name: u.name.clone() },
        P::CreateWithId(c) => {
            hm::Op::CreateWithId { id: c.id, class: c.class_name.clone(), kind: kind_from_pb(c.kind)? }
        }
        P::BindNewRoot(b) => hm::Op::BindNewRoot { name: b.name.clone(), target: target_from_pb(&b.target)? },
    })
}

pub fn transaction_from_pb(tx: Option<&pb::Transaction>) -> Result<hm::Transaction, MalformedRequest> {
    let tx = tx.ok_or_else(|| missing("transaction"))?;
    if tx.ops.is_empty() {
        return Err(MalformedRequest("the transaction has no ops".into()));
    }
    Ok(hm::Transaction {
        expect: tx.expect.iter().map(|e| (e.id, e.version)).collect(),
        fences: tx.fences.iter().map(|f| (f.lock.clone(), f.token)).collect(),
        ops: tx.ops.iter().map(op_from_pb).collect::<Result<_, _>>()?,
    })
}

pub fn rejection_to_pb(rejection: &hm::Rejection) -> pb::Rejection {
    use hm::Rejection as R;
    use pb::RejectionKind as K;
    let (kind, object_id, expected_version, actual_version) = match rejection {
        R::VersionConflict { id, expected, actual } => (K::VersionConflict, *id, *expected, *actual),
        R::UnknownObject { id } => (K::UnknownObject, *id, 0, 0),
        R::UnknownHandle { .. } => (K::UnknownHandle, 0, 0, 0),
        R::DuplicateHandle { .. } => (K::DuplicateHandle, 0, 0, 0),
        R::DanglingReference { to, .. } => (K::DanglingReference, *to, 0, 0),
        R::WrongKind { id, .. } => (K::WrongKind, *id, 0, 0),
        R::IndexOutOfRange { id, .. } => (K::IndexOutOfRange, *id, 0, 0),
        R::LimitExceeded { .. } => (K::LimitExceeded, 0, 0, 0),
        R::InvalidName { .. } => (K::InvalidName, 0, 0, 0),
        R::Malformed { .. } => (K::Malformed, 0, 0, 0),
        R::UnknownSession { session_id } => (K::UnknownSession, *session_id, 0, 0),
        R::SessionExpired { session_id } => (K::SessionExpired, *session_id, 0, 0),
        R::SequenceTooOld { session_id, .. } => (K::SequenceTooOld, *session_id, 0, 0),
        R::NotHolder { .. } => (K::NotHolder, 0, 0, 0),
        R::UpgradeRefused { .. } => (K::UpgradeRefused, 0, 0, 0),
        R::StaleFence { .. } => (K::StaleFence, 0, 0, 0),
        R::RootExists { id, .. } => (K::RootExists, *id, 0, 0),
        R::InvalidId { id, .. } => (K::InvalidId, *id, 0, 0),
        R::NotSessionOwner { session_id, .. } => (K::NotSessionOwner, *session_id, 0, 0),
        _ => (K::InvalidArgument, 0, 0, 0),
    };
    pb::Rejection { kind: kind as i32, message: rejection.to_string(), object_id, expected_version, actual_version }
}

fn committed_to_pb(log_index: u64, created: Vec<(u32, u64)>) -> pb::Committed {
    pb::Committed { log_index, created: created.into_iter().map(|(handle, id)| pb::Created { handle, id }).collect() }
}

pub fn reply_to_pb(reply: hm::Reply) -> pb::CommitResponse {
    let result = match reply {
        hm::Reply::Committed { log_index, created } => {
            pb::commit_response::Result::Committed(committed_to_pb(log_index, created))
        }
        hm::Reply::Rejected(rejection) => pb::commit_response::Result::Rejected(rejection_to_pb(&rejection)),
        other => pb::commit_response::Result::Rejected(pb::Rejection {
            kind: pb::RejectionKind::Unspecified as i32,
            message: format!("unexpected reply to a transaction: {other:?}"),
            ..Default::default()
        }),
    };
    pb::CommitResponse { result: Some(result) }
}

fn lock_mode_from_pb(mode: i32) -> Result<hm::LockMode, MalformedRequest> {
    match pb::LockMode::try_from(mode) {
        Ok(pb::LockMode::Write) => Ok(hm::LockMode::Write),
        Ok(pb::LockMode::Read) => Ok(hm::LockMode::Read),
        Err(_) => Err(MalformedRequest(format!("unknown lock mode {mode}"))),
    }
}

fn lock_mode_to_pb(mode: hm::LockMode) -> i32 {
    match mode {
        hm::LockMode::Write => pb::LockMode::Write as i32,
        hm::LockMode::Read => pb::LockMode::Read as i32,
    }
}

/// The machine's session request for `request`, sent by `caller` (as the node authenticated it).
pub fn session_request_from_pb(
    request: &pb::SessionRequest,
    caller: hm::Caller,
) -> Result<hm::SessionRequest, MalformedRequest> {
    use pb::session_request::Command as C;
    let command = match request.command.as_ref().ok_or_else(|| missing("session command"))? {
        C::KeepAlive(_) => hm::SessionCommand::KeepAlive,
        C::Close(_) => hm::SessionCommand::Close,
        C::Lock(lock) => hm::SessionCommand::Lock {
            name: lock.name.clone(),
            thread: lock.thread,
            mode: lock_mode_from_pb(lock.mode)?,
            timeout_ms: lock.timeout_ms,
        },
        C::Unlock(unlock) => hm::SessionCommand::Unlock {
            name: unlock.name.clone(),
            thread: unlock.thread,
            commit: unlock.commit.as_ref().map(|tx| transaction_from_pb(Some(tx))).transpose()?,
        },
        C::Wait(wait) => match wait.holder_thread {
            Some(holder) if holder != wait.thread => hm::SessionCommand::WaitAs {
                name: wait.name.clone(),
                holder,
                thread: wait.thread,
                timeout_ms: wait.timeout_ms,
            },
            _ => hm::SessionCommand::Wait { name: wait.name.clone(), thread: wait.thread, timeout_ms: wait.timeout_ms },
        },
        C::Notify(notify) => {
            hm::SessionCommand::Notify { name: notify.name.clone(), thread: notify.thread, all: notify.all }
        }
        C::Transaction(tx) => hm::SessionCommand::Transaction(transaction_from_pb(Some(tx))?),
        C::Hold(hold) => hm::SessionCommand::Hold { ids: hold.ids.clone() },
        C::Release(release) => hm::SessionCommand::Release { ids: release.ids.clone() },
    };
    Ok(hm::SessionRequest {
        session_id: request.session_id,
        sequence: request.sequence,
        acknowledged_below: request.acknowledged_below,
        command,
        caller,
    })
}

pub fn session_reply_to_pb(reply: hm::Reply) -> pb::SessionResponse {
    use pb::session_response::Result as R;
    let result = match reply {
        hm::Reply::Committed { log_index, created } => R::Committed(committed_to_pb(log_index, created)),
        hm::Reply::Rejected(rejection) => R::Rejected(rejection_to_pb(&rejection)),
        hm::Reply::SessionOpened { .. } | hm::Reply::Done | hm::Reply::IdRange { .. } => R::Done(pb::Done {}),
        hm::Reply::LockGranted { token } => R::Granted(pb::LockGranted { token }),
        hm::Reply::Pending => R::Pending(pb::Pending {}),
        hm::Reply::LockTimedOut => R::TimedOut(pb::LockTimedOut {}),
        hm::Reply::WaitDone { token, notified } => R::WaitDone(pb::WaitDone { token, notified }),
        hm::Reply::Unlocked { commit } => R::Unlocked(pb::Unlocked {
            commit: Some(match commit {
                Some((log_index, created)) => committed_to_pb(log_index, created),
                None => pb::Committed::default(),
            }),
        }),
        hm::Reply::Held { missing } => R::Held(pb::Held { missing }),
        // Never the answer to a session request: Collect is the leader's own command.
        hm::Reply::Collected { .. } => R::Rejected(pb::Rejection {
            kind: pb::RejectionKind::Unspecified as i32,
            message: "unexpected Collected reply to a session request; this is a bug".to_string(),
            ..Default::default()
        }),
    };
    pb::SessionResponse { result: Some(result) }
}

fn waiter_to_pb(waiter: &hm::WaiterInfo) -> pb::LockWaiter {
    pb::LockWaiter { session_id: waiter.session_id, thread: waiter.thread, mode: lock_mode_to_pb(waiter.mode) }
}

pub fn lock_info_to_pb(lock: &hm::LockInfo) -> pb::LockInfo {
    pb::LockInfo {
        name: lock.name.clone(),
        mode: match lock.mode {
            Some(hm::LockMode::Write) => "write",
            Some(hm::LockMode::Read) => "read",
            None => "free",
        }
        .into(),
        holders: lock
            .holders
            .iter()
            .map(|h| pb::LockHolder { session_id: h.session_id, thread: h.thread, token: h.token, count: h.count })
            .collect(),
        waiters: lock.waiters.iter().map(waiter_to_pb).collect(),
        condition_waiters: lock.condition_waiters.iter().map(waiter_to_pb).collect(),
    }
}

pub fn object_to_pb(object: &hm::Object) -> pb::Object {
    let (kind, entries, items) = match &object.body {
        hm::Body::Fields(fields) => {
            (hm::ObjectKind::Fields, fields.iter().map(|(k, v)| (k.clone(), value_to_pb(v))).collect(), Vec::new())
        }
        hm::Body::Map(entries) => {
            (hm::ObjectKind::Map, entries.iter().map(|(k, v)| (k.clone(), value_to_pb(v))).collect(), Vec::new())
        }
        hm::Body::List(items) => (hm::ObjectKind::List, Default::default(), items.iter().map(value_to_pb).collect()),
    };
    pb::Object {
        id: object.id,
        class_name: object.class.clone(),
        version: object.version,
        kind: kind_to_pb(kind) as i32,
        entries,
        items,
    }
}

pub fn graph_to_pb(graph: hm::Graph, applied_index: u64) -> pb::ReadResponse {
    pb::ReadResponse {
        applied_index,
        roots: graph.roots.into_iter().map(|(name, id)| pb::RootBinding { name, id }).collect(),
        objects: graph.objects.iter().map(object_to_pb).collect(),
        missing_roots: graph.missing_roots,
        missing_ids: graph.missing_ids,
        truncated: graph.truncated,
    }
}
