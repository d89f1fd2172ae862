//! `HeapClient`'s holds against a real cluster: the objects it creates are held while pinned and
//! released (then collected) once unpinned, in batches, without closing the session; a pinned
//! object another client detaches survives the collector, and once collected, using it says so;
//! `delete_root` lets the root's graph go.

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use heap_client::tx;
use heap_client::ClusterClient;
use heap_client::HeapClient;
use heap_client::HeapError;
use heap_client::ObjectKind;
use heap_client::Value;
use proto::heap as pb;

use super::support::*;

const T1: u64 = 1;
/// Objects created under a lock, per release: each transaction makes this many creation holds.
const LOCKED_CREATES: usize = 5_500;
const LOCKED_TRANSACTIONS: usize = 2;
/// Lone creates (each its own commit), spread over `CREATORS` tasks.
const LONE_CREATES: usize = 1_000;
const CREATORS: u64 = 4;
/// More creation holds than one Release request carries (`HOLD_IDS_PER_REQUEST_MAX`).
const CREATES: usize = LOCKED_CREATES * LOCKED_TRANSACTIONS + LONE_CREATES;
/// Of which the test keeps this many pinned.
const KEPT: usize = 10;
/// How long a detached, pinned object must survive: three collector polls.
const SURVIVE: Duration = Duration::from_millis(3_500);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

fn gc_figure(test: &TestCluster, name: &str) -> u64 {
    let output = test.heapctl().args(["gc", "status", "--json"]).output().expect("heapctl runs");
    assert!(output.status.success(), "heapctl gc status: {}", String::from_utf8_lossy(&output.stderr));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("heapctl prints JSON");
    status[name].as_u64().unwrap_or_else(|| panic!("gc status has no {name}: {status}"))
}

/// Polls `condition` until it holds, failing after `CONDITION_TIMEOUT` with `what`.
async fn wait_until<F: std::future::Future<Output = bool>>(what: &str, mut condition: impl FnMut() -> F) {
    let started = Instant::now();
    while !condition().await {
        assert!(started.elapsed() < CONDITION_TIMEOUT, "{what}: not within {CONDITION_TIMEOUT:?}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Linearizable: no lagging node answers from before a create or a free.
async fn exists(client: &ClusterClient, id: u64) -> bool {
    let read = client.read(pb::ReadRequest { ids: vec![id], ..Default::default() }).await.expect("read");
    !read.missing_ids.contains(&id)
}

async fn commit(client: &ClusterClient, ops: Vec<pb::Op>) -> Vec<u64> {
    let response = client.commit(tx::transaction(ops)).await.expect("commit answered");
    match response.result {
        Some(pb::commit_response::Result::Committed(c)) => c.created.iter().map(|c| c.id).collect(),
        other => panic!("transaction not committed: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpinned_objects_are_released_and_collected_and_pinned_ones_stay() {
    let test = TestCluster::start("client-holds", 3, &[]);
    test.leader().await;
    let client = Arc::new(
        HeapClient::connect(&test.cluster.endpoints().join(","), &test.cluster.client_security())
            .await
            .expect("client connects"),
    );
    let cluster = test.client();
    // The first heapctl call builds heapctl: do it before anything is timed.
    assert_eq!(gc_figure(&test, "objects"), 0, "a new cluster is empty");

    test.phase(&format!("{CREATES} creates, under a lock and lone: each held while its pin lives"));
    let mut ids = Vec::with_capacity(CREATES);
    for _ in 0..LOCKED_TRANSACTIONS {
        assert!(client.lock(T1, "bulk", false, None).await.expect("lock"), "granted");
        for _ in 0..LOCKED_CREATES {
            ids.push(client.create(T1, "Temporary", ObjectKind::Fields).await.expect("create"));
        }
        client.unlock(T1, "bulk").await.expect("the release commits the creates");
    }
    let creators: Vec<_> = (0..CREATORS)
        .map(|thread| {
            let client = Arc::clone(&client);
            tokio::spawn(async move {
                let mut ids = Vec::with_capacity(LONE_CREATES / CREATORS as usize);
                for _ in 0..LONE_CREATES / CREATORS as usize {
                    ids.push(client.create(thread, "Temporary", ObjectKind::Fields).await.expect("create"));
                }
                ids
            })
        })
        .collect();
    for creator in creators {
        ids.extend(creator.await.expect("creator task"));
    }
    assert_eq!(ids.len(), CREATES);
    assert_eq!(gc_figure(&test, "holds"), CREATES as u64, "every create made a creation hold");
    let started = Instant::now();
    for id in &ids[KEPT..] {
        client.unpin(*id).expect("pinned by create");
    }
    wait_until("the unpinned creations released", || async { gc_figure(&test, "holds") == KEPT as u64 }).await;
    test.phase(&format!("released {} ms after the unpins", started.elapsed().as_millis()));
    wait_until("the released creations collected", || async { gc_figure(&test, "objects") == KEPT as u64 }).await;
    test.phase(&format!("collected {} ms after the unpins", started.elapsed().as_millis()));
    for id in &ids[..KEPT] {
        assert!(exists(&cluster, *id).await, "pinned object {id} was collected");
    }
    assert_eq!(client.tracked_objects(), KEPT, "the client forgot what it released");
    test.phase("released: only the pinned objects are held and stored");

    test.phase("a pinned object another client detaches survives the collector");
    let detached = commit(
        &cluster,
        vec![tx::create(0, "Shared", pb::ObjectKind::Fields), tx::bind_root("shared", tx::new_target(0))],
    )
    .await[0];
    client.pin(detached).expect("room");
    wait_until("the pin is held", || async { gc_figure(&test, "holds") == KEPT as u64 + 1 }).await;
    commit(&cluster, vec![tx::unbind_root("shared")]).await;
    let started = Instant::now();
    let run = test.heapctl().args(["gc", "run"]).output().expect("heapctl runs");
    assert!(run.status.success(), "heapctl gc run: {}", String::from_utf8_lossy(&run.stderr));
    while started.elapsed() < SURVIVE {
        assert!(exists(&cluster, detached).await, "a pinned object was collected");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    client.set(T1, detached, "seen", Value::Bool(true)).await.expect("still usable");

    test.phase("unpinned, it is collected; pinned again, using it says it was collected");
    client.unpin(detached).expect("pinned");
    wait_until("the released object is collected", || async { !exists(&cluster, detached).await }).await;
    client.pin(detached).expect("room");
    wait_until("the client learns it is gone", || async {
        matches!(client.get(T1, detached, "seen").await, Err(HeapError::Rejected(message)) if message.contains("was collected"))
    })
    .await;
    client.unpin(detached).expect("pinned");

    test.phase("delete_root: the root's graph goes once its objects are unpinned");
    let root = client.root(T1, "doomed", ObjectKind::Fields).await.expect("root");
    let child = client.create(T1, "Leaf", ObjectKind::Map).await.expect("create");
    client.set(T1, root, "child", Value::Object(child)).await.expect("link");
    client.unpin(child).expect("pinned by create");
    client.delete_root(T1, "doomed").await.expect("delete root");
    client.delete_root(T1, "never-bound").await.expect("an unbound root deletes as a no-op");
    wait_until("the deleted root's graph is collected", || async {
        !exists(&cluster, root).await && !exists(&cluster, child).await
    })
    .await;
    assert_eq!(gc_figure(&test, "objects"), KEPT as u64, "only the kept objects remain");
    client.close().await.expect("close");
    wait_until("closing ends the kept holds", || async { gc_figure(&test, "objects") == 0 }).await;
}
