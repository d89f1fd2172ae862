//! Failover and durability with real processes: SIGKILL the leader mid-stream, restart it, then
//! SIGKILL every node at once. No acknowledged write may be lost at any point. A linearizable
//! read outlasts a briefly frozen majority, and a follower frozen past its election timeout does
//! not depose the leader when it wakes.

use std::time::Instant;

use super::support::*;

const ROOTS: u64 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_roots_survive_leader_kill_and_full_restart() {
    let mut test = TestCluster::start("failover", 3, &[]);
    let client = test.client();
    let leader = test.leader().await;
    test.phase(&format!("leader is node {leader}"));

    let mut acknowledged = Vec::new();
    let mut last_index = 0;
    for i in 0..ROOTS {
        let name = format!("root-{i}");
        last_index = set_root(&client, &name, i).await.expect("write before the fault");
        acknowledged.push((name, i));
    }
    test.phase(&format!("{ROOTS} roots acknowledged, last at log index {last_index}"));

    // Fault: SIGKILL the leader. The next write succeeds once a new leader is elected.
    test.cluster.kill(leader);
    let killed_at = Instant::now();
    test.phase(&format!("SIGKILLed leader node {leader}"));
    let index = set_root(&client, "after-kill", 0).await.expect("a write succeeds after failover");
    test.phase(&format!("first write after the kill took {} ms", killed_at.elapsed().as_millis()));
    acknowledged.push(("after-kill".into(), 0));
    let new_leader = test.leader().await;
    assert_ne!(new_leader, leader, "a surviving node leads");

    // Check: every acknowledged root is on every surviving node.
    for id in test.cluster.ids().into_iter().filter(|id| *id != leader) {
        check_roots_on_node(&test, id, &acknowledged, index).await;
    }
    test.phase("every acknowledged root reads back from both survivors");

    // Restart the killed node on its data: it catches up.
    test.cluster.start(leader).expect("restart");
    let more = set_root(&client, "after-restart", 0).await.expect("write with all nodes up");
    acknowledged.push(("after-restart".into(), 0));
    test.cluster.wait_for_applied(leader, more, CONDITION_TIMEOUT).await.expect("restarted node catches up");
    check_roots_on_node(&test, leader, &acknowledged, more).await;
    test.phase(&format!("restarted node {leader} caught up to index {more}"));

    // Fault: SIGKILL all three at once, restart on the same data.
    test.cluster.kill_all();
    test.phase("SIGKILLed every node");
    test.cluster.start_all().expect("restart all");
    let leader = test.leader().await;
    test.phase(&format!("all restarted; leader is node {leader}"));
    for (name, sequence) in &acknowledged {
        let got = get_root(&client, name, None).await.expect("linearizable read after restart");
        assert_eq!(got, Some(document(name, *sequence)), "root {name} after full restart");
    }
    for id in test.cluster.ids() {
        check_roots_on_node(&test, id, &acknowledged, more).await;
    }
    test.phase("every acknowledged root survived SIGKILL of the whole cluster");
}

/// A linearizable read that finds no majority answering (both followers frozen for a second, as
/// in a VM stall) waits on the node until they answer again, within the request's deadline,
/// instead of failing at the first heartbeat round nobody answered. Proven with one Read RPC
/// from the client (its own retries would hide a node that gave up), answered with the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linearizable_read_waits_out_a_majority_that_is_briefly_frozen() {
    let mut test = TestCluster::start("read-frozen-majority", 3, &[]);
    let leader = test.leader().await;
    let index = set_root(&test.client(), "before-freeze", 1).await.expect("a write with all nodes up");
    let followers: Vec<u64> = test.cluster.ids().into_iter().filter(|id| *id != leader).collect();
    for id in &followers {
        test.cluster.pause(*id).expect("freeze a follower");
    }
    test.phase(&format!("followers {followers:?} frozen (SIGSTOP); reading from leader {leader}"));
    let client = test.node_client(leader);
    let read = tokio::spawn(async move {
        let got = get_root(&client, "before-freeze", None).await;
        (got, client.read_requests())
    });
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    assert!(!read.is_finished(), "a read cannot be linearizable while no majority answers");
    for id in &followers {
        test.cluster.resume(*id).expect("thaw a follower");
    }
    test.phase("followers thawed (SIGCONT)");
    let (got, read_requests) = read.await.expect("the read task");
    assert_eq!(got, Ok(Some(document("before-freeze", 1))), "the read is answered once a majority is back");
    assert_eq!(read_requests, 1, "the node waited for the majority itself: one Read RPC");
    test.phase(&format!("read answered after the thaw with one RPC (write at index {index})"));
}

/// A follower that stalls past its election timeout (SIGSTOP for 1.5 s, as a node behind a long
/// fsync or in a VM pause) and wakes while the leader is healthy does not start an election that
/// deposes it: it asks the others first (pre-vote), they still hear from the leader and refuse, so
/// no node's term moves. Without pre-vote the woken follower raises its term and the leader steps
/// down on seeing it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_frozen_past_its_election_timeout_does_not_depose_the_leader() {
    const FROZEN_MS: u64 = 1_500;
    const SETTLE_MS: u64 = 2_000;
    let mut test = TestCluster::start("frozen-follower", 3, &[]);
    let leader = test.leader().await;
    set_root(&test.client(), "before-freeze", 1).await.expect("a write with all nodes up");
    let term = test.cluster.status(leader).await.expect("the leader answers").term;
    let follower = test.cluster.ids().into_iter().find(|id| *id != leader).expect("a follower");
    test.cluster.pause(follower).expect("freeze a follower");
    test.phase(&format!("follower {follower} frozen (SIGSTOP) for {FROZEN_MS} ms; leader {leader}, term {term}"));
    tokio::time::sleep(std::time::Duration::from_millis(FROZEN_MS / 2)).await;
    set_root(&test.client(), "during-freeze", 1).await.expect("a write while one follower is frozen");
    tokio::time::sleep(std::time::Duration::from_millis(FROZEN_MS / 2)).await;
    test.cluster.resume(follower).expect("thaw the follower");
    tokio::time::sleep(std::time::Duration::from_millis(SETTLE_MS)).await;
    set_root(&test.client(), "after-freeze", 1).await.expect("a write after the thaw");
    for id in test.cluster.ids() {
        let status = test.cluster.status(id).await.expect("every node answers after the thaw");
        assert_eq!(
            (status.term, status.leader_id),
            (term, leader),
            "node {id}: the woken follower must not have started a term that deposed leader {leader}"
        );
    }
    test.phase(&format!("{SETTLE_MS} ms after the thaw every node is still in term {term} under leader {leader}"));
}
