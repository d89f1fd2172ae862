//! The disk shrinks after garbage collection without waiting for the regular snapshot: with
//! `--snapshot-logs` at its default (no snapshot is due), 21,000 objects are created and
//! abandoned, and once they are collected every node snapshots on its own and its snapshot is a
//! fraction of the abandoned objects' size.

use std::time::Duration;
use std::time::Instant;

use heap_client::tx;
use heap_client::ClusterClient;
use proto::heap as pb;

use super::support::*;

const TRANSACTIONS: u64 = 21;
const OBJECTS_PER_TRANSACTION: u32 = 1_000;
/// A snapshot of the collected heap (a handful of objects): far under the ~1 MB the abandoned
/// objects took.
const SNAPSHOT_AFTER_BYTES_MAX: u64 = 64 * 1024;
const POLL_INTERVAL: Duration = Duration::from_millis(200);

async fn create_list_of_objects(client: &ClusterClient, root: &str) {
    let mut ops = vec![tx::create(0, "L", pb::ObjectKind::List), tx::bind_root(root, tx::new_target(0))];
    for handle in 1..=OBJECTS_PER_TRANSACTION {
        ops.push(tx::create(handle, "Item", pb::ObjectKind::Fields));
        ops.push(tx::list_push(tx::new_target(0), tx::value(pb::value::Kind::NewRef(handle))));
    }
    let response = client.commit(tx::transaction(ops)).await.expect("commit answered");
    assert!(matches!(response.result, Some(pb::commit_response::Result::Committed(_))), "{response:?}");
}

fn snapshot_bytes(test: &TestCluster, id: u64) -> Option<u64> {
    let path = test.cluster.node_data_dir(id).join("sm").join("snapshot.bin");
    std::fs::metadata(path).ok().map(|meta| meta.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_snapshots_after_a_large_collection() {
    let test = TestCluster::start("gc-compaction", 3, &[]);
    test.leader().await;
    let client = test.client();
    for i in 0..TRANSACTIONS {
        create_list_of_objects(&client, &format!("c/{i}")).await;
    }
    let roots: Vec<String> = (0..TRANSACTIONS).map(|i| format!("c/{i}")).collect();
    for id in test.cluster.ids() {
        assert_eq!(snapshot_bytes(&test, id), None, "node {id} has no snapshot yet (none is due)");
    }
    test.phase(&format!("{} objects created under {TRANSACTIONS} roots", TRANSACTIONS * 1_001));

    let unbind: Vec<pb::Op> = roots.iter().map(|root| tx::unbind_root(root)).collect();
    let response = client.commit(tx::transaction(unbind)).await.expect("unbind answered");
    assert!(matches!(response.result, Some(pb::commit_response::Result::Committed(_))), "{response:?}");
    let started = Instant::now();
    let mut waiting: Vec<u64> = test.cluster.ids();
    while !waiting.is_empty() {
        waiting.retain(|id| snapshot_bytes(&test, *id).is_none_or(|bytes| bytes > SNAPSHOT_AFTER_BYTES_MAX));
        assert!(started.elapsed() < CONDITION_TIMEOUT, "nodes {waiting:?} did not snapshot the collected heap");
        std::thread::sleep(POLL_INTERVAL);
    }
    for id in test.cluster.ids() {
        let log = test.cluster.log_tail(id, 400);
        assert!(log.contains("snapshotting after garbage collection"), "node {id} says why: {log}");
    }
    let sizes: Vec<Option<u64>> = test.cluster.ids().iter().map(|id| snapshot_bytes(&test, *id)).collect();
    test.phase(&format!(
        "collected; every node snapshotted on its own within {} ms: snapshot bytes {sizes:?}",
        started.elapsed().as_millis()
    ));
}
