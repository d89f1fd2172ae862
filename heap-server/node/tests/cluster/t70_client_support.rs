//! What the client library builds on: reserved id ranges with CreateWithId, BindNewRoot agreeing
//! on one root object, and the Watch stream naming every changed object with its applied index.

use std::sync::Arc;

use heap_client::tx::*;
use proto::heap as pb;

use super::support::*;

fn create_with_id(id: u64) -> pb::Op {
    op(pb::op::Op::CreateWithId(pb::CreateWithId { id, class_name: "Cart".into(), kind: pb::ObjectKind::Map as i32 }))
}

fn bind_new_root(name: &str, target: Option<pb::Target>) -> pb::Op {
    op(pb::op::Op::BindNewRoot(pb::BindNewRoot { name: name.into(), target }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_ids_new_roots_and_the_change_stream() {
    let test = TestCluster::start("client-support", 3, &[]);
    let leader = test.leader().await;
    let client = Arc::new(test.client());

    let first = client.allocate_ids(1_000).await.expect("ids");
    let second = client.allocate_ids(1_000).await.expect("ids");
    assert!(second.first >= first.first + u64::from(first.count), "ranges do not overlap: {first:?} {second:?}");
    let id = first.first;
    let reply = client.commit(transaction(vec![create_with_id(id), bind_new_root("cart", id_target(id))])).await;
    assert!(matches!(reply.expect("answer").result, Some(pb::commit_response::Result::Committed(_))));
    let again = client
        .commit(transaction(vec![create_with_id(id + 1), bind_new_root("cart", id_target(id + 1))]))
        .await
        .expect("answer");
    match again.result {
        Some(pb::commit_response::Result::Rejected(r)) => {
            assert_eq!(r.kind, pb::RejectionKind::RootExists as i32);
            assert_eq!(r.object_id, id, "the rejection names the bound object");
        }
        other => panic!("a second BindNewRoot was accepted: {other:?}"),
    }
    test.phase("id ranges are disjoint; BindNewRoot binds once and names the winner");

    // Watch a follower: a change committed through the leader shows up with its index.
    let follower = test.cluster.ids().into_iter().find(|n| *n != leader).expect("a follower");
    let follower_index = (follower - 1) as usize;
    let mut stream = client.watch_at(follower_index).await.expect("watch");
    let start = stream.message().await.expect("first message").expect("open stream");
    let committed = client
        .commit(transaction(vec![map_put(id_target(id), "total", value(pb::value::Kind::IntValue(42)))]))
        .await
        .expect("answer");
    let Some(pb::commit_response::Result::Committed(committed)) = committed.result else { panic!("{committed:?}") };
    let mut seen = false;
    let deadline = tokio::time::Instant::now() + CONDITION_TIMEOUT;
    while !seen {
        let message = tokio::time::timeout_at(deadline, stream.message())
            .await
            .expect("a change message in time")
            .expect("stream")
            .expect("open");
        assert!(message.applied_index >= start.applied_index, "indexes never go back");
        // The stream may first deliver the object's creation (the follower may not have applied
        // it when the stream started); the write at `committed.log_index` must follow.
        if message.changed_ids.contains(&id) && message.applied_index >= committed.log_index {
            seen = true;
        }
    }
    test.phase(&format!("the follower's change stream named object {id} by index {}", committed.log_index));
}
