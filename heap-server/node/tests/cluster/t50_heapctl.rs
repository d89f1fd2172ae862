//! heapctl against a real cluster: status, root set/get/list, object get, and bad input (one clear
//! line on stderr, non-zero exit, nothing changed).

use std::process::Command;
use std::process::Output;
use std::time::Instant;

use super::support::*;

fn heapctl(test: &TestCluster, args: &[&str]) -> Output {
    test.heapctl().args(["--timeout-ms", "5000"]).args(args).output().expect("heapctl runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_fails_with(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "expected failure, got {output:?}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line on stderr: {stderr:?}");
    assert!(stderr.contains(needle), "stderr {stderr:?} should contain {needle:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heapctl_round_trips_json_and_reports_errors() {
    let test = TestCluster::start("heapctl", 3, &[]);
    let leader = test.leader().await;

    let status = heapctl(&test, &["status", "--json"]);
    assert!(status.status.success(), "{status:?}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&status)).expect("status --json is JSON");
    let keys: Vec<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["leader", "members", "nodes", "term"]);
    assert_eq!(json["leader"], leader);
    let nodes = json["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 3);
    for node in nodes {
        let keys: Vec<&str> = node.as_object().expect("node").keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["addr", "disk_free_bytes", "disk_warning", "id", "last_applied", "reachable"]);
        assert_eq!(node["reachable"], true);
    }
    test.phase("status --json has exactly the documented keys");

    let document = r#"{"cart": {"items": [{"sku": "a-1", "qty": 2, "price": 9.5}, {"sku": "b", "qty": 1, "price": -0.25}],
        "owner": "Zoë", "paid": false, "note": null, "tags": [], "meta": {}}, "big": 9007199254740993}"#;
    let set = heapctl(&test, &["root", "set", "session-42", document]);
    assert!(set.status.success(), "{set:?}");
    let get = heapctl(&test, &["root", "get", "session-42"]);
    assert!(get.status.success(), "{get:?}");
    let stored: serde_json::Value = serde_json::from_str(document).expect("test document");
    let read: serde_json::Value = serde_json::from_str(&stdout(&get)).expect("root get prints JSON");
    assert_eq!(read, stored, "root get prints what root set stored");
    let list = heapctl(&test, &["root", "list"]);
    assert!(stdout(&list).starts_with("session-42\t"), "{list:?}");
    let id = stdout(&list).trim().split('\t').nth(1).expect("id column").to_string();
    let object = heapctl(&test, &["object", "get", &id, "--depth", "1"]);
    assert!(object.status.success(), "{object:?}");
    let first: serde_json::Value =
        serde_json::from_str(stdout(&object).lines().next().expect("a line")).expect("object JSON");
    assert_eq!(first["id"].to_string(), id);
    assert_eq!(first["kind"], "map");
    assert_eq!(first["entries"]["big"]["int"], 9007199254740993_i64);
    test.phase("root set/get/list and object get round trip");

    let applied_before = test.cluster.status(leader).await.expect("status").last_applied;
    assert_fails_with(&heapctl(&test, &["root", "set", "bad", "{not json"]), "invalid JSON");
    assert_fails_with(&heapctl(&test, &["root", "set", "bad", "17"]), "object or array");
    assert_fails_with(&heapctl(&test, &["root", "get", "no-such-root"]), "unknown root");
    assert_fails_with(&heapctl(&test, &["object", "get", "123456789"]), "unknown object id 123456789");
    let applied_after = test.cluster.status(leader).await.expect("status").last_applied;
    assert_eq!(applied_before, applied_after, "bad input proposed nothing");
    test.phase("bad input: one line on stderr, non-zero exit, nothing proposed");

    let dead = "127.0.0.1:9,127.0.0.1:19";
    let started = Instant::now();
    let output = Command::new(heapctl_binary())
        .args(["--endpoints", dead, "--timeout-ms", "1500", "root", "list"])
        .output()
        .expect("heapctl runs");
    assert_fails_with(&output, dead);
    assert!(started.elapsed().as_millis() < 10_000, "bounded time: {:?}", started.elapsed());
    let status = Command::new(heapctl_binary()).args(["--endpoints", dead, "--timeout-ms", "5000", "status"]).output();
    assert_fails_with(&status.expect("heapctl runs"), "no node answered");
    test.phase("an unreachable cluster is reported within the timeout, naming the endpoints");
}
