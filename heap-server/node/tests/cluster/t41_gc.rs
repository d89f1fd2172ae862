//! Object lifecycle with real processes: `heapctl root delete` and the objects only that root
//! kept go within seconds; objects a session created unlinked stay while the session holds them
//! and go after it closes; an explicitly held object survives being detached and is kept after
//! it is re-attached and released; a detached cycle survives reference counting and is freed by
//! `heapctl gc run`; a list with more references than one Collect entry decrements goes at once
//! and its items follow once the next entries uncounted them; nothing reachable is lost; and
//! after the leader is SIGKILLed and every node restarts (each rebuilds its counts from disk
//! and validates the image), the heap is the same. And `heapctl gc pause`: a paused collector
//! frees nothing (nor runs a cycle on request), also on a node that becomes leader while paused,
//! and frees the garbage that waited once resumed; only an admin may pause it.

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use heap_client::tx;
use heap_client::tx::bind_root as bind;
use heap_client::tx::id_target;
use heap_client::tx::new_target;
use heap_client::ClusterClient;
use heap_client::Session;
use heap_testkit::APP_TOKEN_NAME;
use proto::heap as pb;
use serde_json::Value as Json;

use super::support::*;

const SESSION_TTL_MS: u64 = 60_000;
/// Collection cycles every second, so the test does not wait a minute for one.
const CYCLE_INTERVAL_MS: &str = "1000";
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Items of the big list: more references than one Collect entry decrements (4,096), and with
/// their creates and pushes (two ops each) plus the list's create and bind within one
/// transaction's 10,000 ops.
const BIG_LIST_ITEMS: u32 = 4_999;

fn heapctl_json(test: &TestCluster, args: &[&str]) -> Json {
    let output = test.heapctl().args(args).output().expect("heapctl runs");
    assert!(output.status.success(), "heapctl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("heapctl prints JSON")
}

fn heapctl_ok(test: &TestCluster, args: &[&str]) -> String {
    let output = test.heapctl().args(args).output().expect("heapctl runs");
    assert!(output.status.success(), "heapctl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// How long a paused collector is watched for freeing nothing: three poll intervals and three
/// cycle intervals, in which a running one frees a deleted root (the test above waits for that).
const PAUSED_WATCH: Duration = Duration::from_millis(3_000);

fn gc_figure(test: &TestCluster, name: &str) -> u64 {
    heapctl_json(test, &["gc", "status", "--json"])[name].as_u64().expect("a number")
}

/// Waits until `gc status` reports `objects == expected`.
fn wait_for_objects(test: &TestCluster, expected: u64, what: &str) {
    let started = Instant::now();
    loop {
        let objects = gc_figure(test, "objects");
        if objects == expected {
            return;
        }
        assert!(started.elapsed() < CONDITION_TIMEOUT, "{what}: {objects} objects, expected {expected}");
        std::thread::sleep(POLL_INTERVAL);
    }
}

fn create(handle: u32) -> pb::Op {
    tx::create(handle, "T", pb::ObjectKind::Fields)
}

fn set_ref(target: Option<pb::Target>, field: &str, value: pb::value::Kind) -> pb::Op {
    tx::set_field(target, field, tx::value(value))
}

fn created(response: pb::SessionResponse) -> Vec<u64> {
    match response.result {
        Some(pb::session_response::Result::Committed(c)) => c.created.iter().map(|c| c.id).collect(),
        other => panic!("transaction not committed: {other:?}"),
    }
}

async fn commit(client: &ClusterClient, ops: Vec<pb::Op>) -> Vec<u64> {
    let response = client.commit(tx::transaction(ops)).await.expect("commit answered");
    match response.result {
        Some(pb::commit_response::Result::Committed(c)) => c.created.iter().map(|c| c.id).collect(),
        other => panic!("transaction not committed: {other:?}"),
    }
}

/// Two new objects referencing each other, the first bound to root "ring"; returns their ids.
async fn commit_ring(client: &ClusterClient) -> Vec<u64> {
    commit(
        client,
        vec![
            create(0),
            create(1),
            set_ref(new_target(0), "next", pb::value::Kind::NewRef(1)),
            set_ref(new_target(1), "next", pb::value::Kind::NewRef(0)),
            bind("ring", new_target(0)),
        ],
    )
    .await
}

async fn exists(client: &ClusterClient, id: u64) -> bool {
    let read = client.read(pb::ReadRequest { ids: vec![id], ..Default::default() }).await.expect("read");
    !read.missing_ids.contains(&id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_roots_released_holds_and_detached_cycles_are_collected_and_nothing_live_is() {
    let mut test = TestCluster::start("gc", 3, &["--gc-cycle-interval-ms", CYCLE_INTERVAL_MS]);
    test.leader().await;
    let client = Arc::new(test.client());

    test.phase("a kept root and a root to delete, each a JSON graph");
    heapctl_ok(&test, &["root", "set", "kept", r#"{"a":[1,2,{"b":3}],"c":{"d":"e"}}"#]);
    let kept_objects = gc_figure(&test, "objects");
    heapctl_ok(&test, &["root", "set", "doomed", r#"{"x":[{"y":1},{"y":2},{"y":3}],"z":{"w":[]}}"#]);
    let doomed_objects = gc_figure(&test, "objects") - kept_objects;
    assert_eq!(doomed_objects, 7, "the doomed document is 7 objects (3 maps in a list, a map, a list, the root map)");
    let deleted = heapctl_ok(&test, &["root", "delete", "doomed"]);
    assert!(deleted.contains("deleted"), "{deleted}");
    wait_for_objects(&test, kept_objects, "after root delete");

    test.phase("objects a session creates unlinked stay while it lives, go after it closes");
    let session = Session::open(Arc::clone(&client), "gc-test", SESSION_TTL_MS).await.expect("a session");
    let ops = vec![create(0), create(1), set_ref(new_target(0), "next", pb::value::Kind::NewRef(1))];
    let unlinked = created(session.commit(tx::transaction(ops)).await.expect("commit"));
    assert_eq!(gc_figure(&test, "held_objects"), 1, "the unlinked head is held, its child referenced");
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    for id in &unlinked {
        assert!(exists(&client, *id).await, "held object {id} was collected");
    }

    test.phase("a held object detached from its root survives, is re-attached, released, and kept");
    let ring = commit_ring(&client).await;
    let hold = pb::session_request::Command::Hold(pb::Hold { ids: vec![ring[1], 999_999] });
    match session.call(hold).await.expect("hold answered").result {
        Some(pb::session_response::Result::Held(held)) => assert_eq!(held.missing, vec![999_999]),
        other => panic!("hold not answered with Held: {other:?}"),
    }
    // Detach the whole ring; only the hold keeps ring[1] (and ring[0] through it).
    commit(&client, vec![tx::unbind_root("ring")]).await;
    heapctl_ok(&test, &["gc", "run"]);
    assert!(exists(&client, ring[0]).await && exists(&client, ring[1]).await, "a held ring was collected");
    commit(&client, vec![bind("ring-again", id_target(ring[1]))]).await;
    let release = pb::session_request::Command::Release(pb::Release { ids: vec![ring[1]] });
    session.call(release).await.expect("release answered");
    heapctl_ok(&test, &["gc", "run"]);
    assert!(exists(&client, ring[0]).await && exists(&client, ring[1]).await, "a re-attached ring was collected");

    test.phase("a detached cycle is freed by a collection cycle");
    commit(&client, vec![tx::unbind_root("ring-again")]).await;
    let run = heapctl_json(&test, &["gc", "run", "--json"]);
    let status = heapctl_json(&test, &["gc", "status", "--json"]);
    assert!(!exists(&client, ring[0]).await && !exists(&client, ring[1]).await, "the cycle survived: {run} {status}");
    assert!(status["cycles"].as_u64().unwrap_or(0) >= 1, "{status}");
    assert_eq!(status["freed_total"].as_u64(), Some(doomed_objects + 2), "{status}");

    test.phase("closing the session ends its holds; its objects go");
    session.close().await.expect("close");
    wait_for_objects(&test, kept_objects, "after the session closed");

    test.phase("a list of 4,999 items goes at once, its items once its references are uncounted");
    let mut ops = vec![tx::create(0, "L", pb::ObjectKind::List), bind("big", new_target(0))];
    for handle in 1..=BIG_LIST_ITEMS {
        ops.push(create(handle));
        ops.push(tx::list_push(new_target(0), tx::value(pb::value::Kind::NewRef(handle))));
    }
    let big = commit(&client, ops).await;
    assert_eq!(gc_figure(&test, "objects"), kept_objects + 1 + u64::from(BIG_LIST_ITEMS));
    commit(&client, vec![tx::unbind_root("big")]).await;
    wait_for_objects(&test, kept_objects, "after the big list's root was unbound");
    assert!(!exists(&client, big[0]).await && !exists(&client, big[1]).await, "the list and its items are gone");

    test.phase("SIGKILL the leader, restart every node: the heap is the same and still collects");
    let before = heapctl_ok(&test, &["root", "get", "kept"]);
    let leader = test.leader().await;
    test.cluster.kill(leader);
    test.cluster.start(leader).expect("the node restarts");
    for id in test.cluster.ids() {
        test.cluster.kill(id);
        test.cluster.start(id).expect("the node restarts");
    }
    test.leader().await;
    assert_eq!(heapctl_ok(&test, &["root", "get", "kept"]), before);
    assert_eq!(gc_figure(&test, "objects"), kept_objects);
    let client = test.client();
    commit(&client, vec![create(0), bind("late", new_target(0))]).await;
    commit(&client, vec![tx::unbind_root("late")]).await;
    wait_for_objects(&test, kept_objects, "after restart");
}

/// Checks that the paused collector has freed nothing: the garbage is all still there.
fn assert_nothing_freed(test: &TestCluster, objects: u64, freed_total: u64, what: &str) {
    let status = heapctl_json(test, &["gc", "status", "--json"]);
    assert_eq!(status["paused"].as_u64(), Some(1), "{what}: the leader reports its collector paused: {status}");
    assert_eq!(status["objects"].as_u64(), Some(objects), "{what}: the garbage is still there: {status}");
    assert_eq!(status["freed_total"].as_u64(), Some(freed_total), "{what}: nothing was freed: {status}");
    assert!(status["unreferenced"].as_u64().unwrap_or(0) >= 1, "{what}: the deleted root waits: {status}");
}

/// Waits until `gc status` names `leader` as the leader.
fn wait_for_leader_id(test: &TestCluster, leader: u64) {
    let started = Instant::now();
    while gc_figure(test, "leader_id") != leader {
        assert!(started.elapsed() < CONDITION_TIMEOUT, "node {leader} did not take over the leadership");
        std::thread::sleep(POLL_INTERVAL);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_collector_frees_nothing_even_on_a_new_leader_and_frees_it_all_once_resumed() {
    let test = TestCluster::start("gc-pause", 3, &["--gc-cycle-interval-ms", CYCLE_INTERVAL_MS]);
    let leader = test.leader().await;
    let client = test.client();
    heapctl_ok(&test, &["root", "set", "kept", r#"{"a":[1,2,{"b":3}]}"#]);
    let kept = heapctl_ok(&test, &["root", "get", "kept"]);
    let baseline = gc_figure(&test, "objects");

    test.phase("a write token (the cluster's application credential) may not pause the collector");
    let app_token = test.security().token_file(APP_TOKEN_NAME).expect("the app credential's token file");
    let refused = test.heapctl().arg("--token-file").arg(&app_token).args(["gc", "pause"]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a write token paused the collector: {stderr}");
    assert!(stderr.contains("needs role admin"), "the refusal names the role needed: {stderr}");
    assert_eq!(gc_figure(&test, "paused"), 0, "the refused pause changed nothing");

    test.phase("pause: every node answers");
    let paused = heapctl_ok(&test, &["gc", "pause"]);
    assert_eq!(paused.matches("collector paused").count(), 3, "{paused}");
    assert!(paused.contains(&format!("node {leader} at ")) && paused.contains("(leader)"), "{paused}");

    test.phase("garbage made while paused: a deleted root's 7 objects and a detached 2-object cycle");
    heapctl_ok(&test, &["root", "set", "doomed", r#"{"x":[{"y":1},{"y":2},{"y":3}],"z":{"w":[]}}"#]);
    heapctl_ok(&test, &["root", "delete", "doomed"]);
    let ring = commit_ring(&client).await;
    commit(&client, vec![tx::unbind_root("ring")]).await;
    let objects = gc_figure(&test, "objects");
    assert_eq!(objects, baseline + 9, "the garbage is in the heap");
    let freed_total = gc_figure(&test, "freed_total");
    let run = test.heapctl().args(["gc", "run"]).output().expect("heapctl runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "gc run ran a cycle while paused: {stderr}");
    assert!(stderr.contains("paused") && stderr.contains("heapctl gc resume"), "and says how to resume: {stderr}");
    // A negative needs a window: the collector must have had its chances to act.
    tokio::time::sleep(PAUSED_WATCH).await;
    assert_nothing_freed(&test, objects, freed_total, "paused on the first leader");

    test.phase("leadership moves: the new leader was paused too and frees nothing");
    let next = test.cluster.ids().into_iter().find(|id| *id != leader).expect("a second node");
    heapctl_ok(&test, &["member", "transfer-leader", &next.to_string()]);
    wait_for_leader_id(&test, next);
    tokio::time::sleep(PAUSED_WATCH).await;
    assert_nothing_freed(&test, objects, freed_total, "paused on the new leader");

    test.phase("resume: the garbage that waited goes, the kept root stays");
    let resumed = heapctl_ok(&test, &["gc", "resume"]);
    assert_eq!(resumed.matches("collector resumed").count(), 3, "{resumed}");
    wait_for_objects(&test, baseline, "after resume");
    let status = heapctl_json(&test, &["gc", "status", "--json"]);
    assert_eq!(status["paused"].as_u64(), Some(0), "{status}");
    assert_eq!(status["freed_total"].as_u64(), Some(freed_total + 9), "{status}");
    assert!(!exists(&client, ring[0]).await && !exists(&client, ring[1]).await, "the cycle was freed");
    assert_eq!(heapctl_ok(&test, &["root", "get", "kept"]), kept, "nothing live was freed");
}
