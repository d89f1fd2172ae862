//! A follower that was down while the leader purged its log comes back through a snapshot.

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_follower_is_brought_back_by_a_snapshot() {
    // Snapshot every 20 entries and keep only 5 behind it, so the log the follower misses is purged.
    let mut test = TestCluster::start("snapshot", 3, &["--snapshot-logs", "20", "--logs-to-keep", "5"]);
    let leader = test.leader().await;
    let follower = test.cluster.ids().into_iter().find(|id| *id != leader).expect("a follower");
    let client = test.client();
    set_root(&client, "before", 0).await.expect("write");
    let follower_applied = test.cluster.status(follower).await.expect("status").last_applied;
    test.cluster.kill(follower);
    test.phase(&format!("follower node {follower} SIGKILLed at applied index {follower_applied}"));

    let mut acknowledged = vec![("before".to_string(), 0)];
    let mut last_index = 0;
    for i in 0..120 {
        let name = format!("lag-{i}");
        last_index = set_root(&client, &name, i).await.expect("write while follower is down");
        acknowledged.push((name, i));
    }
    // The leader purges once no replication uses the entries; the dead follower's last request
    // counts as in use until its failure is reported, which openraft does at its next retry
    // (after a backoff), so the purge may come a moment after the writes.
    let deadline = std::time::Instant::now() + CONDITION_TIMEOUT;
    let leader_status = loop {
        let status = test.cluster.status(leader).await.expect("leader status");
        if status.purged_index > follower_applied || std::time::Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(leader_status.snapshot_index > follower_applied, "leader built a snapshot: {leader_status:?}");
    assert!(
        leader_status.purged_index > follower_applied,
        "leader purged past what the follower has: {leader_status:?}"
    );
    test.phase(&format!(
        "120 writes; leader snapshot at {}, log purged to {}",
        leader_status.snapshot_index, leader_status.purged_index
    ));

    test.cluster.start(follower).expect("restart follower");
    test.cluster.wait_for_applied(follower, last_index, CONDITION_TIMEOUT).await.expect("follower catches up");
    let status = test.cluster.status(follower).await.expect("follower status");
    assert!(status.snapshot_index > follower_applied, "follower installed a snapshot: {status:?}");
    check_roots_on_node(&test, follower, &acknowledged, last_index).await;
    test.phase(&format!("follower caught up through a snapshot at index {}", status.snapshot_index));

    // And it survives its own restart from that snapshot plus log.
    test.cluster.kill(follower);
    test.cluster.start(follower).expect("restart follower again");
    test.cluster.wait_for_applied(follower, last_index, CONDITION_TIMEOUT).await.expect("follower recovers");
    check_roots_on_node(&test, follower, &acknowledged, last_index).await;
    test.phase("follower restarted from its snapshot and log with everything in place");
}
