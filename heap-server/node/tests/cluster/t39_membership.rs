//! Membership changes online, with writes running: 3 -> 5 nodes (`heapctl member add`, the new
//! nodes started with `--join`), the leader removed, a follower replaced, back to 3 nodes; a
//! removed node exits by itself with status 78 and says why; every acknowledged write reads
//! back at the end (a writer records each acknowledgement, and writes whose outcome is unknown
//! are not counted). Then the identity checks: a removed node restarted on its old data dir, and a
//! new node joining with an id the cluster has at another address, both exit 78 with the reason.

use std::process::Command;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use heap_client::ClusterClient;
use heap_testkit::free_ports;
use heapctl::json;
use proto::heap as pb;
use proto::security::SECURITY_DIR_ENV;

use super::support::*;

/// heap-server's exit status when the membership does not name it (`member_check.rs`).
const EXIT_NOT_A_MEMBER: i32 = 78;
/// A membership change includes a new node's catch-up; generous for a loaded 2-core machine.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(90);
/// Roots read back per linearizable read at the end.
const READ_BATCH_ROOTS: usize = 200;

/// Runs heapctl with `args`; its stdout, or a panic with its stderr.
fn heapctl(test: &TestCluster, endpoints: &[String], args: &[&str]) -> String {
    let mut command = Command::new(heapctl_binary());
    command.env(SECURITY_DIR_ENV, test.security().dir()).arg("--endpoints").arg(endpoints.join(",")).args(args);
    let output = command.output().expect("heapctl runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "heapctl {args:?} failed: {stderr}\n{stdout}");
    stdout
}

/// The members `heapctl member list --json` reports: (id, voter) pairs and the leader.
fn members(test: &TestCluster, endpoints: &[String]) -> (Vec<(u64, bool)>, u64) {
    let text = heapctl(test, endpoints, &["member", "list", "--json"]);
    let document: serde_json::Value = serde_json::from_str(text.trim()).expect("member list --json is JSON");
    let rows = document["members"].as_array().expect("members").iter();
    let members = rows.map(|m| (m["id"].as_u64().expect("id"), m["voter"].as_bool().expect("voter"))).collect();
    (members, document["leader_id"].as_u64().unwrap_or(0))
}

/// Waits until node `id`'s process exits by itself; its exit code.
async fn wait_for_exit(test: &mut TestCluster, id: u64, timeout: Duration) -> Option<i32> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some((_, status)) = test.cluster.exited().into_iter().find(|(exited, _)| *exited == id) {
            return status.code();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Writes roots `w-<n>` until told to stop; returns the acknowledged sequence numbers.
fn spawn_writer(client: ClusterClient, stop: Arc<Mutex<bool>>) -> tokio::task::JoinHandle<Vec<u64>> {
    tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        let mut sequence = 0;
        while !*stop.lock().expect("stop flag") {
            sequence += 1;
            if set_root(&client, &format!("w-{sequence}"), sequence).await.is_ok() {
                acknowledged.push(sequence);
            } else {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        acknowledged
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_change_online_with_no_acknowledged_write_lost() {
    let mut test = TestCluster::start("membership", 3, &["--snapshot-logs", "200", "--logs-to-keep", "50"]);
    test.leader().await;
    let ports = free_ports(3).expect("ports for nodes 4 to 6");
    let new_addrs: Vec<String> = ports.iter().map(|port| format!("127.0.0.1:{port}")).collect();
    let mut everyone = test.cluster.endpoints();
    everyone.extend(new_addrs.iter().cloned());
    let writer_client =
        ClusterClient::connect(&everyone, &test.cluster.client_security(), CLIENT_DEADLINE).expect("a client");
    let stop = Arc::new(Mutex::new(false));
    let writer = spawn_writer(writer_client, Arc::clone(&stop));

    // 3 -> 5: nodes 4 and 5 start with --join, then heapctl adds them.
    for (id, addr) in [(4, &new_addrs[0]), (5, &new_addrs[1])] {
        test.cluster.add_joining_node(id, addr, Vec::new()).expect("register the new node");
        test.cluster.start(id).expect("start the joining node");
        test.phase(&format!("adding node {id}"));
        heapctl(&test, &everyone, &["--timeout-ms", "90000", "member", "add", &id.to_string(), addr]);
        test.phase(&format!("node {id} added"));
    }
    let (five, _) = members(&test, &everyone);
    assert_eq!(five, [(1, true), (2, true), (3, true), (4, true), (5, true)], "five voters");

    // Remove the leader: it steps down, leaves, and its process exits with the reason.
    let leader = test.leader().await;
    heapctl(&test, &everyone, &["member", "remove", &leader.to_string()]);
    let code = wait_for_exit(&mut test, leader, CHANGE_TIMEOUT).await;
    assert_eq!(code, Some(EXIT_NOT_A_MEMBER), "the removed leader exits 78");
    assert!(test.cluster.log_tail(leader, 40).contains("not a member"), "the removed leader says why");
    test.phase(&format!("leader {leader} removed; it exited 78"));

    // Replace a follower with node 6.
    let new_leader = test.leader().await;
    let old = test.cluster.ids().into_iter().find(|id| *id != new_leader && *id <= 3 && *id != leader);
    let old = old.expect("an original follower");
    test.cluster.add_joining_node(6, &new_addrs[2], Vec::new()).expect("register node 6");
    test.cluster.start(6).expect("start node 6");
    heapctl(&test, &everyone, &["member", "replace", &old.to_string(), "6", &new_addrs[2]]);
    assert_eq!(wait_for_exit(&mut test, old, CHANGE_TIMEOUT).await, Some(EXIT_NOT_A_MEMBER), "the replaced node exits");
    test.cluster.forget_node(old);
    test.phase(&format!("node {old} replaced by node 6"));

    // Back to 3.
    let (four, _) = members(&test, &everyone);
    let spare = four.iter().map(|(id, _)| *id).find(|id| *id != 6 && *id <= 5).expect("a node to remove");
    heapctl(&test, &everyone, &["member", "remove", &spare.to_string()]);
    assert_eq!(wait_for_exit(&mut test, spare, CHANGE_TIMEOUT).await, Some(EXIT_NOT_A_MEMBER));
    test.cluster.forget_node(spare);
    let (three, leader_now) = members(&test, &everyone);
    assert_eq!(three.len(), 3, "three members: {three:?}");
    assert!(three.iter().all(|(_, voter)| *voter), "all voters: {three:?}");
    test.phase(&format!("back to three: {three:?}, leader {leader_now}"));

    *stop.lock().expect("stop flag") = true;
    let acknowledged = writer.await.expect("the writer ends");
    assert!(acknowledged.len() > 50, "writes ran throughout ({} acknowledged)", acknowledged.len());
    let reader = ClusterClient::connect(&everyone, &test.cluster.client_security(), CLIENT_DEADLINE).expect("reader");
    for batch in acknowledged.chunks(READ_BATCH_ROOTS) {
        let names: Vec<String> = batch.iter().map(|sequence| format!("w-{sequence}")).collect();
        let request = pb::ReadRequest { roots: names, depth: json::JSON_DEPTH_MAX, ..Default::default() };
        let graph = reader.read(request).await.expect("a linearizable read");
        for sequence in batch {
            let name = format!("w-{sequence}");
            let root = graph.roots.iter().find(|root| root.name == name);
            let got = root.map(|root| json::graph_to_json(root.id, &graph.objects).expect("a JSON document"));
            assert_eq!(got, Some(document(&name, *sequence)), "acknowledged write {name} survives");
        }
    }
    test.phase(&format!("all {} acknowledged writes read back", acknowledged.len()));

    // A removed node restarted on its old data dir says so and exits 78.
    test.cluster.start(leader).expect("restart the removed node");
    assert_eq!(wait_for_exit(&mut test, leader, CONDITION_TIMEOUT).await, Some(EXIT_NOT_A_MEMBER));
    assert!(test.cluster.log_tail(leader, 20).contains("not a member"), "the restarted removed node says why");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_node_whose_id_is_taken_elsewhere_exits_with_the_reason() {
    let mut test = TestCluster::start("membership-identity", 3, &[]);
    test.leader().await;
    let port = free_ports(1).expect("a port")[0];
    // Node 2 exists at another address: a second "node 2" joining must not sit there silently.
    test.cluster.forget_node(2);
    test.cluster.add_joining_node(2, &format!("127.0.0.1:{port}"), Vec::new()).expect("register");
    test.cluster.start(2).expect("start the impostor");
    assert_eq!(wait_for_exit(&mut test, 2, CONDITION_TIMEOUT).await, Some(EXIT_NOT_A_MEMBER));
    let log = test.cluster.log_tail(2, 20);
    assert!(log.contains("the cluster knows node 2 at"), "the node names the address the cluster has: {log}");
}

/// A follower that was away while a node was added, and that node then took over as leader
/// (`heapctl member transfer-leader`), holds a membership without its new leader. Regression: its
/// consensus gate refused that leader's log for ever ("not a member"). Now it asks the members it
/// knows, admits the newer membership they report, and catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_missed_the_change_adding_its_leader_catches_up() {
    let mut test = TestCluster::start("membership-lagging", 3, &[]);
    let leader = test.leader().await;
    let away = test.cluster.ids().into_iter().find(|id| *id != leader).expect("a follower");
    let addr = format!("127.0.0.1:{}", free_ports(1).expect("a port")[0]);
    let mut present: Vec<String> = test
        .cluster
        .ids()
        .into_iter()
        .filter(|id| *id != away)
        .map(|id| test.cluster.addr(id).expect("addr").to_string())
        .collect();
    present.push(addr.clone());
    test.cluster.pause(away).expect("pause the follower");
    test.cluster.add_joining_node(4, &addr, Vec::new()).expect("register node 4");
    test.cluster.start(4).expect("start node 4");
    heapctl(&test, &present, &["member", "add", "4", &addr]);
    heapctl(&test, &present, &["member", "transfer-leader", "4"]);
    test.phase(&format!("node {away} paused; node 4 added and leading"));

    let client = ClusterClient::connect(&present, &test.cluster.client_security(), CLIENT_DEADLINE).expect("client");
    let index = set_root(&client, "while-away", 1).await.expect("a write under the new leader");
    test.cluster.resume(away).expect("resume the follower");
    test.cluster.wait_for_applied(away, index, CONDITION_TIMEOUT).await.expect("the lagging node catches up");
    check_roots_on_node(&test, away, &[("while-away".to_string(), 1)], index).await;
    test.phase(&format!("node {away} caught up with leader 4 to index {index}"));
}
