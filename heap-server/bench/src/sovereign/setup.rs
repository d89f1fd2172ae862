//! Before timing: the objects put, get and lock-update use (each with a 256-byte `value`, in
//! transactions of `SETUP_BATCH_OBJECTS`, listed under one root per batch so operators can find
//! them) and the graphs of graph-read (a root list referencing `GRAPH_OBJECTS - 1` objects).

use heap_client::tx::bind_root;
use heap_client::tx::create;
use heap_client::tx::list_push;
use heap_client::tx::new_target;
use heap_client::tx::set_field;
use heap_client::tx::transaction;
use heap_client::tx::value;
use heap_client::HeapStub;
use proto::heap as pb;

use crate::error::BenchError;
use crate::limits::GRAPH_OBJECTS;
use crate::limits::SETUP_BATCH_OBJECTS;
use crate::limits::VALUE_SIZE_BYTES;

/// The field every benchmark object carries its value in.
pub const VALUE_FIELD: &str = "value";
const OBJECT_CLASS: &str = "heap-bench.Object";
const LIST_CLASS: &str = "heap-bench.List";

/// The value every put writes: 256 bytes, as etcd's benchmark writes.
pub fn bench_value() -> Option<pb::Value> {
    value(pb::value::Kind::BytesValue(vec![b'v'; VALUE_SIZE_BYTES]))
}

/// A transaction creating a list bound to root `root` and `members` objects in it; the list has
/// handle `members`, the objects handles `0..members`.
fn listed_objects(root: &str, members: usize) -> Result<pb::Transaction, BenchError> {
    let list = u32::try_from(members).map_err(|_| BenchError::Setup(format!("{members} objects in one list")))?;
    let mut ops = Vec::with_capacity(3 * members + 2);
    ops.push(create(list, LIST_CLASS, pb::ObjectKind::List));
    ops.push(bind_root(root, new_target(list)));
    for handle in 0..list {
        ops.push(create(handle, OBJECT_CLASS, pb::ObjectKind::Fields));
        ops.push(set_field(new_target(handle), VALUE_FIELD, bench_value()));
        ops.push(list_push(new_target(list), value(pb::value::Kind::NewRef(handle))));
    }
    Ok(transaction(ops))
}

/// Commits `transaction`; returns the ids of handles `0..members` and the list's id.
async fn commit_listed(
    client: &mut HeapStub,
    transaction: pb::Transaction,
    members: usize,
) -> Result<(Vec<u64>, u64), BenchError> {
    let response = client
        .commit(pb::CommitRequest { transaction: Some(transaction) })
        .await
        .map_err(|e| BenchError::Setup(format!("cannot create the benchmark objects: {}", e.message())))?
        .into_inner();
    let committed = match response.result {
        Some(pb::commit_response::Result::Committed(c)) => c,
        other => return Err(BenchError::Setup(format!("benchmark objects not created: {other:?}"))),
    };
    let mut ids = vec![0; members];
    let mut list_id = 0;
    for created in committed.created {
        match usize::try_from(created.handle) {
            Ok(handle) if handle < members => ids[handle] = created.id,
            Ok(handle) if handle == members => list_id = created.id,
            _ => return Err(BenchError::Setup(format!("unexpected created handle {}", created.handle))),
        }
    }
    if list_id == 0 || ids.contains(&0) {
        return Err(BenchError::Setup("the commit did not report every created object".into()));
    }
    Ok((ids, list_id))
}

/// Creates `count` objects with a 256-byte value; returns their ids.
pub async fn create_objects(client: &mut HeapStub, count: usize, nonce: &str) -> Result<Vec<u64>, BenchError> {
    let mut ids = Vec::with_capacity(count);
    let mut batch = 0;
    while ids.len() < count {
        let members = (count - ids.len()).min(SETUP_BATCH_OBJECTS);
        let root = format!("heap-bench/{nonce}/objects/{batch}");
        let (created, _) = commit_listed(client, listed_objects(&root, members)?, members).await?;
        ids.extend(created);
        batch += 1;
    }
    Ok(ids)
}

/// Creates `count` graphs of `GRAPH_OBJECTS` objects; returns the id of each graph's root list.
pub async fn create_graphs(client: &mut HeapStub, count: usize, nonce: &str) -> Result<Vec<u64>, BenchError> {
    let mut roots = Vec::with_capacity(count);
    for graph in 0..count {
        let root = format!("heap-bench/{nonce}/graph/{graph}");
        let (_, list) = commit_listed(client, listed_objects(&root, GRAPH_OBJECTS - 1)?, GRAPH_OBJECTS - 1).await?;
        roots.push(list);
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_batch_creates_binds_sets_and_lists_every_object() {
        let tx = listed_objects("heap-bench/x/objects/0", 3).expect("small batch");
        assert_eq!(tx.ops.len(), 2 + 3 * 3);
        let creates = tx.ops.iter().filter(|op| matches!(op.op, Some(pb::op::Op::Create(_)))).count();
        let pushes = tx.ops.iter().filter(|op| matches!(op.op, Some(pb::op::Op::ListPush(_)))).count();
        assert_eq!(creates, 4);
        assert_eq!(pushes, 3);
        let Some(pb::op::Op::SetField(set)) = &tx.ops[3].op else { panic!("the first object's value is set") };
        let Some(pb::Value { kind: Some(pb::value::Kind::BytesValue(bytes)) }) = &set.value else {
            panic!("a bytes value")
        };
        assert_eq!(bytes.len(), VALUE_SIZE_BYTES);
    }
}
