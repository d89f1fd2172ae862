//! A node whose sled image is damaged (as after a disk-full stop or a torn write) rebuilds it from
//! its snapshot and its log, which are the truth, says so in its log, and serves again; it does
//! not refuse to start.

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_a_damaged_sled_image_rebuilds_it_and_rejoins() {
    let mut test = TestCluster::start("damaged-sled", 3, &["--snapshot-logs", "20"]);
    test.leader().await;
    let client = test.client();
    let mut acknowledged = Vec::new();
    let mut last = 0;
    for sequence in 1..=60 {
        let name = format!("root-{}", sequence % 10);
        last = set_root(&client, &name, sequence).await.expect("write");
        acknowledged.retain(|(n, _): &(String, u64)| *n != name);
        acknowledged.push((name, sequence));
    }
    let victim = test.cluster.ids()[0];
    test.cluster.wait_for_applied(victim, last, CONDITION_TIMEOUT).await.expect("in sync");
    test.cluster.kill(victim);
    let sled_dir = test.cluster.node_data_dir(victim).join("sm").join("state");
    let mut damaged = 0;
    for entry in std::fs::read_dir(&sled_dir).expect("sled folder") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::write(&path, vec![0xa5; 8192]).expect("overwrite");
            damaged += 1;
        }
    }
    assert!(damaged > 0, "sled keeps files in {}", sled_dir.display());
    test.phase(&format!("node {victim} SIGKILLed and {damaged} sled files overwritten with garbage"));

    test.cluster.start(victim).expect("restart");
    last = set_root(&client, "after", 1).await.expect("the cluster writes on");
    acknowledged.push(("after".to_string(), 1));
    test.cluster
        .wait_for_applied(victim, last, CONDITION_TIMEOUT)
        .await
        .expect("the node rebuilt its image and caught up");
    check_roots_on_node(&test, victim, &acknowledged, last).await;
    let log = test.cluster.log_tail(victim, 400);
    assert!(log.contains("rebuilding it from the snapshot and the log"), "the node says what it did: {log}");
    assert!(test.cluster.exited().is_empty(), "no node exited");
    test.phase(&format!("node {victim} rebuilt its sled image, said so, and serves every root again"));
}
