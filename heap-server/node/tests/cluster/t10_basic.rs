//! Basic behaviour of a healthy cluster: any node accepts writes, reads are consistent and
//! linearizable, rejections say why and change nothing.

use heap_client::tx::id_target;
use heap_client::tx::map_put;
use heap_client::tx::transaction;
use heap_client::tx::value as tx_value;
use proto::heap as pb;

use super::support::*;

fn set_field_tx(id: u64, field: &str, value: i64, expect_version: Option<u64>) -> pb::Transaction {
    let mut tx = transaction(vec![map_put(id_target(id), field, tx_value(pb::value::Kind::IntValue(value)))]);
    tx.expect = expect_version.map(|version| pb::ExpectVersion { id, version }).into_iter().collect();
    tx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_any_node_and_reads_are_linearizable() {
    let test = TestCluster::start("basic", 3, &[]);
    let leader = test.leader().await;
    test.phase(&format!("leader is node {leader}"));

    // Every node accepts a write (followers forward it) and every node answers a linearizable
    // read with the latest value, also right after a write made through another node.
    let mut last_index = 0;
    for (sequence, id) in test.cluster.ids().into_iter().enumerate() {
        let index = set_root(&test.node_client(id), "shared", sequence as u64).await.expect("write accepted");
        assert!(index > last_index, "log indexes grow: {index} after {last_index}");
        last_index = index;
        for reader in test.cluster.ids() {
            let got = get_root(&test.node_client(reader), "shared", None).await.expect("read");
            assert_eq!(got, Some(document("shared", sequence as u64)), "read on node {reader} after write via {id}");
        }
    }
    test.phase("writes via every node read back linearizably from every node");

    // Version preconditions: the stale one is rejected with the actual version, the fresh one applies.
    let client = test.client();
    let graph =
        client.read(pb::ReadRequest { roots: vec!["shared".into()], ..Default::default() }).await.expect("read");
    let object = graph.objects.first().expect("root object").clone();
    let stale = client.commit(set_field_tx(object.id, "k", 1, Some(object.version - 1))).await.expect("answer");
    match stale.result {
        Some(pb::commit_response::Result::Rejected(r)) => {
            assert_eq!(r.kind, pb::RejectionKind::VersionConflict as i32);
            assert_eq!(r.actual_version, object.version);
            assert!(r.message.contains(&object.id.to_string()), "message names the object: {}", r.message);
        }
        other => panic!("stale write not rejected: {other:?}"),
    }
    let fresh = client.commit(set_field_tx(object.id, "k", 2, Some(object.version))).await.expect("answer");
    assert!(matches!(fresh.result, Some(pb::commit_response::Result::Committed(_))), "{fresh:?}");
    test.phase("version preconditions reject exactly the stale write");

    // Status names the same leader everywhere and reports members.
    for id in test.cluster.ids() {
        let status = test.cluster.status(id).await.expect("status");
        assert_eq!(status.leader_id, leader);
        assert_eq!(status.members.len(), 3);
    }
    let roots = client.list_roots().await.expect("roots");
    assert_eq!(roots.roots.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), vec!["shared"]);

    // SIGTERM stops every node cleanly (it exits by itself within the bound).
    let mut test = test;
    for id in test.cluster.ids() {
        assert!(test.cluster.terminate(id), "node {id} exits on SIGTERM");
    }
    test.phase("every node stopped cleanly on SIGTERM");
}
