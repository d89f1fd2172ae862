//! A node's only image on disk is its snapshot: SIGKILLed after snapshots and writes beyond the
//! last one, it restarts from the snapshot and the log and serves every acknowledged write. A
//! damaged snapshot stops the node with a message that says what to do (it never serves a guess),
//! and doing what it says (wiping the data dir) brings the node back with every write. A clean
//! shutdown (SIGTERM) snapshots what was applied, so the next start loads it instead of replaying.

use std::time::Duration;
use std::time::Instant;

use super::support::*;

/// How long a node with a damaged snapshot may take to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

async fn write_roots(
    client: &heap_client::ClusterClient,
    acknowledged: &mut Vec<(String, u64)>,
    from: u64,
    to: u64,
) -> u64 {
    let mut last = 0;
    for sequence in from..=to {
        let name = format!("root-{}", sequence % 10);
        last = set_root(client, &name, sequence).await.expect("write");
        acknowledged.retain(|(n, _)| *n != name);
        acknowledged.push((name, sequence));
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarts_from_its_snapshot_and_a_damaged_one_stops_it_until_wiped() {
    let mut test = TestCluster::start("restart-from-snapshot", 3, &["--snapshot-logs", "20", "--logs-to-keep", "5"]);
    test.leader().await;
    let client = test.client();
    let mut acknowledged = Vec::new();
    // 65 writes: snapshots at every 20 entries, and entries after the last one for the log.
    let last = write_roots(&client, &mut acknowledged, 1, 65).await;
    let victim = test.cluster.ids()[0];
    test.cluster.wait_for_applied(victim, last, CONDITION_TIMEOUT).await.expect("in sync");
    let snapshot = test.cluster.node_data_dir(victim).join("sm").join("snapshot.bin");
    assert!(snapshot.is_file(), "the node has a snapshot at {}", snapshot.display());
    test.cluster.kill(victim);
    test.cluster.start(victim).expect("restart");
    test.cluster.wait_for_applied(victim, last, CONDITION_TIMEOUT).await.expect("back at the last write");
    check_roots_on_node(&test, victim, &acknowledged, last).await;
    test.phase(&format!("node {victim} SIGKILLed and restarted from its snapshot and log: every root there"));

    let last = write_roots(&client, &mut acknowledged, 66, 90).await;
    test.cluster.wait_for_applied(victim, last, CONDITION_TIMEOUT).await.expect("in sync");
    test.cluster.kill(victim);
    let mut bytes = std::fs::read(&snapshot).expect("read the snapshot");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&snapshot, bytes).expect("damage the snapshot");
    test.cluster.start(victim).expect("restart on a damaged snapshot");
    let started = Instant::now();
    let status = loop {
        if let Some((_, status)) = test.cluster.exited().into_iter().find(|(id, _)| *id == victim) {
            break status;
        }
        assert!(started.elapsed() < STOP_TIMEOUT, "a node with a damaged snapshot stops");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success(), "it stops with a failure status: {status}");
    let log = test.cluster.log_tail(victim, 200);
    assert!(log.contains("cannot be loaded") && log.contains("wipe this node's data dir"), "says what to do: {log}");
    test.phase(&format!("node {victim} with a damaged snapshot stopped ({status}) and said to wipe its data dir"));

    let last = write_roots(&client, &mut acknowledged, 91, 100).await;
    std::fs::remove_dir_all(test.cluster.node_data_dir(victim)).expect("wipe the data dir");
    test.cluster.start(victim).expect("restart on an empty data dir");
    test.cluster.wait_for_applied(victim, last, CONDITION_TIMEOUT).await.expect("the wiped node catches up");
    check_roots_on_node(&test, victim, &acknowledged, last).await;
    test.phase(&format!("node {victim} wiped as told: caught up with every root"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_shutdown_snapshots_so_the_next_start_loads_instead_of_replaying() {
    // The default --snapshot-logs (10,000): no snapshot but the shutdown's.
    let mut test = TestCluster::start("shutdown-snapshot", 3, &[]);
    test.leader().await;
    let client = test.client();
    let mut acknowledged = Vec::new();
    let last = write_roots(&client, &mut acknowledged, 1, 150).await;
    let leader = test.cluster.wait_for_leader(CONDITION_TIMEOUT).await.expect("a leader");
    let victim = test.cluster.ids().into_iter().find(|id| *id != leader).expect("a follower");
    test.cluster.wait_for_applied(victim, last, CONDITION_TIMEOUT).await.expect("in sync");
    let snapshot = test.cluster.node_data_dir(victim).join("sm").join("snapshot.bin");
    assert!(!snapshot.exists(), "no snapshot before the shutdown");
    assert!(test.cluster.terminate(victim), "node {victim} stops on SIGTERM");
    assert!(snapshot.is_file(), "the shutdown wrote {}", snapshot.display());
    let log = test.cluster.log_tail(victim, 200);
    assert!(log.contains("snapshot built at shutdown"), "the node says so: {log}");
    test.phase(&format!("node {victim} snapshotted at SIGTERM"));

    test.cluster.start(victim).expect("restart");
    test.cluster.wait_for_applied(victim, last, CONDITION_TIMEOUT).await.expect("back at the last write");
    check_roots_on_node(&test, victim, &acknowledged, last).await;
    test.phase(&format!("node {victim} restarted from the shutdown snapshot with every root"));
}
