//! Cluster locks, leases and exactly-once requests with real processes: a lock holder's death
//! frees the lock within its lease, a leader's death keeps holders and FIFO waiters, an expired
//! holder's fencing token is refused, and a retried request applies once across a leader change.

use std::io::BufRead;
use std::io::BufReader;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use heap_client::tx::*;
use heap_client::ClusterClient;
use heap_client::LockOutcome;
use heap_client::Session;
use proto::heap as pb;

use super::support::*;

const TTL_MS: u64 = 1_000;
/// What may pass, beyond the lease itself, between a holder's death and the next grant: the
/// leader's deadline check, one Tick commit and the waiter's answer, on a loaded 2-core machine.
const EXPIRY_SLACK_MS: u64 = 3_000;

async fn wait_for_waiters(client: &ClusterClient, lock: &str, count: usize) {
    let started = Instant::now();
    loop {
        let locks = client.list_locks().await.expect("list locks");
        if locks.locks.iter().find(|l| l.name == lock).is_some_and(|l| l.waiters.len() == count) {
            return;
        }
        assert!(started.elapsed() < CONDITION_TIMEOUT, "lock {lock} never had {count} waiters: {locks:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts `heapctl lock hold NAME` (holding for ten minutes) and waits until it prints its grant;
/// returns the process, the fencing token and the printed line.
fn hold_with_heapctl(test: &TestCluster, name: &str, ttl_ms: u64) -> (std::process::Child, u64, String) {
    let mut holder = test
        .heapctl()
        .args(["lock", "hold", name, "--ms", "600000", "--ttl-ms", &ttl_ms.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("heapctl lock hold starts");
    let mut line = String::new();
    BufReader::new(holder.stdout.take().expect("stdout")).read_line(&mut line).expect("granted line");
    let token: u64 = line.split_whitespace().nth(3).and_then(|t| t.parse().ok()).expect("token in output");
    (holder, token, line)
}

fn granted(outcome: Result<LockOutcome, heap_client::ClientError>) -> u64 {
    match outcome.expect("lock answered") {
        LockOutcome::Granted { token } => token,
        LockOutcome::TimedOut => panic!("lock timed out"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_holder_frees_the_lock_within_its_lease() {
    let test = TestCluster::start("lock-holder-kill", 3, &[]);
    test.leader().await;
    let (mut holder, holder_token, line) = hold_with_heapctl(&test, "cart", TTL_MS);
    test.phase(&format!("heapctl holds the lock: {}", line.trim()));

    let client = Arc::new(test.client());
    let waiter = Session::open(Arc::clone(&client), "waiter", 10_000).await.expect("session");
    let waiting = tokio::spawn(async move {
        let outcome = waiter.lock("cart", 1, pb::LockMode::Write, None).await;
        (outcome, Instant::now(), waiter)
    });
    wait_for_waiters(&client, "cart", 1).await;

    holder.kill().expect("SIGKILL heapctl");
    let _ = holder.wait();
    let killed = Instant::now();
    test.phase("SIGKILLed the holder");
    let (outcome, granted_at, _waiter) = waiting.await.expect("waiter task");
    let token = granted(outcome);
    let waited_ms = granted_at.duration_since(killed).as_millis() as u64;
    test.phase(&format!("next grant {waited_ms} ms after the holder's death (lease {TTL_MS} ms)"));
    assert!(token > holder_token, "fencing tokens increase: {token} after {holder_token}");
    assert!(waited_ms <= TTL_MS + EXPIRY_SLACK_MS, "lock freed {waited_ms} ms after death, lease is {TTL_MS} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_leader_death_the_holder_still_holds_and_waiters_keep_fifo_order() {
    let mut test = TestCluster::start("lock-failover", 3, &[]);
    test.leader().await;
    let client = Arc::new(test.client());
    let a = Session::open(Arc::clone(&client), "a", 5_000).await.expect("session a");
    let b = Session::open(Arc::clone(&client), "b", 5_000).await.expect("session b");
    let c = Session::open(Arc::clone(&client), "c", 5_000).await.expect("session c");
    let token_a = granted(a.lock("L", 1, pb::LockMode::Write, None).await);
    let b_task = tokio::spawn(async move { (b.lock("L", 1, pb::LockMode::Write, None).await, b) });
    wait_for_waiters(&client, "L", 1).await;
    let c_task = tokio::spawn(async move { (c.lock("L", 1, pb::LockMode::Write, None).await, c) });
    wait_for_waiters(&client, "L", 2).await;
    test.phase("a holds L; b then c wait");

    let leader = test.leader().await;
    test.cluster.kill(leader);
    test.phase(&format!("SIGKILLed leader node {leader}"));
    let new_leader = test.leader().await;
    let locks = client.list_locks().await.expect("locks after failover");
    let lock = locks.locks.iter().find(|l| l.name == "L").expect("L exists");
    assert_eq!(lock.holders.len(), 1);
    assert_eq!(lock.holders[0].session_id, a.id(), "a still holds L after failover");
    assert_eq!(lock.holders[0].token, token_a);
    assert_eq!(lock.waiters.len(), 2, "both waiters survive the failover");
    test.phase(&format!("node {new_leader} leads; a still holds L with token {token_a}, 2 waiters"));

    let released = a.unlock("L", 1, None).await.expect("a releases");
    assert!(matches!(released.result, Some(pb::session_response::Result::Unlocked(_))), "{released:?}");
    let (outcome, b) = b_task.await.expect("b task");
    let token_b = granted(outcome);
    assert!(!c_task.is_finished(), "c waits behind b");
    let locks = client.list_locks().await.expect("locks");
    let lock = locks.locks.iter().find(|l| l.name == "L").expect("L exists");
    assert_eq!(lock.holders[0].session_id, b.id(), "the first waiter got the lock");
    test.phase("a released; b (first in line) got L");

    b.unlock("L", 1, None).await.expect("b releases");
    let (outcome, _c) = c_task.await.expect("c task");
    let token_c = granted(outcome);
    assert!(token_a < token_b && token_b < token_c, "tokens increase: {token_a} {token_b} {token_c}");
    test.phase("b released; c got L; tokens increase");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_holder_cannot_commit_with_its_stale_token() {
    let test = TestCluster::start("lock-fence", 3, &[]);
    test.leader().await;
    let client = Arc::new(test.client());
    let cart = create_root_object(&client, "cart", "Cart", pb::ObjectKind::Map).await;

    let a = Session::open(Arc::clone(&client), "a", TTL_MS).await.expect("session a");
    let token_a = granted(a.lock("cart-lock", 1, pb::LockMode::Write, None).await);
    // Cut a off: no more keep-alives, as if a partition isolated it.
    a.stop_keepalive();
    test.phase(&format!("a holds cart-lock with token {token_a}, then goes silent"));
    let started = Instant::now();
    loop {
        let sessions = client.list_sessions().await.expect("sessions");
        if !sessions.sessions.iter().any(|s| s.id == a.id()) {
            break;
        }
        assert!(started.elapsed() < CONDITION_TIMEOUT, "a's session never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    test.phase(&format!("a's session expired after {} ms", started.elapsed().as_millis()));

    let b = Session::open(Arc::clone(&client), "b", 10_000).await.expect("session b");
    let token_b = granted(b.lock("cart-lock", 1, pb::LockMode::Write, Some(5_000)).await);
    assert!(token_b > token_a);

    let write = |token: u64, value: &str| {
        let mut tx = transaction(vec![map_put(id_target(cart), "owner", value_of(value))]);
        tx.fences = vec![pb::Fence { lock: "cart-lock".into(), token }];
        tx
    };
    let stale = client.commit(write(token_a, "a")).await.expect("answer");
    match stale.result {
        Some(pb::commit_response::Result::Rejected(r)) => {
            assert_eq!(r.kind, pb::RejectionKind::StaleFence as i32, "{r:?}");
        }
        other => panic!("a stale token was accepted: {other:?}"),
    }
    let via_session = a.commit(write(token_a, "a")).await.expect("answer");
    assert!(matches!(via_session.result, Some(pb::session_response::Result::Rejected(_))), "{via_session:?}");
    let fresh = client.commit(write(token_b, "b")).await.expect("answer");
    assert!(matches!(fresh.result, Some(pb::commit_response::Result::Committed(_))), "{fresh:?}");
    let graph = client.read(pb::ReadRequest { ids: vec![cart], ..Default::default() }).await.expect("read");
    let owner = graph.objects[0].entries.get("owner").cloned();
    assert_eq!(owner, value_of("b"), "only the current holder's write landed");
    test.phase("the stale token was refused, the current holder's write applied");
}

/// Creates an empty object of `kind` bound to root `name`; returns its id.
async fn create_root_object(client: &ClusterClient, name: &str, class: &str, kind: pb::ObjectKind) -> u64 {
    let reply =
        client.commit(transaction(vec![create(0, class, kind), bind_root(name, new_target(0))])).await.expect("commit");
    match reply.result {
        Some(pb::commit_response::Result::Committed(c)) => c.created[0].id,
        other => panic!("root object not created: {other:?}"),
    }
}

fn value_of(text: &str) -> Option<pb::Value> {
    value(pb::value::Kind::StringValue(text.into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_request_applies_once_across_a_leader_change() {
    let mut test = TestCluster::start("exactly-once", 3, &[]);
    test.leader().await;
    let client = Arc::new(test.client());
    let list = create_root_object(&client, "log", "Log", pb::ObjectKind::List).await;
    let session = Session::open(Arc::clone(&client), "retrier", 5_000).await.expect("session");

    // A request with a fixed (session, sequence), sent twice with a leader death in between.
    let request = pb::SessionRequest {
        session_id: session.id(),
        sequence: 1_000_000,
        acknowledged_below: 0,
        command: Some(pb::session_request::Command::Transaction(transaction(vec![list_push(
            id_target(list),
            value_of("once"),
        )]))),
    };
    let first = client.session(request.clone()).await.expect("first send");
    let leader = test.leader().await;
    test.cluster.kill(leader);
    test.phase(&format!("sent once, then SIGKILLed leader node {leader}"));
    let second = client.session(request).await.expect("retry");
    assert_eq!(first, second, "the retry gets the first answer");
    let graph = client.read(pb::ReadRequest { ids: vec![list], ..Default::default() }).await.expect("read");
    assert_eq!(graph.objects[0].items.len(), 1, "applied exactly once");
    test.phase("the retry after failover returned the first answer and changed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heapctl_lists_locks_and_sessions_as_documented() {
    let test = TestCluster::start("lock-heapctl", 3, &[]);
    test.leader().await;
    let (mut holder, token, _) = hold_with_heapctl(&test, "report", 5_000);

    let run = |args: &[&str]| {
        let output = test.heapctl().args(args).output().expect("runs");
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("JSON output")
    };
    let keys =
        |value: &serde_json::Value| -> Vec<String> { value.as_object().expect("an object").keys().cloned().collect() };
    let locks = run(&["lock", "list", "--json"]);
    let lock = &locks.as_array().expect("an array")[0];
    assert_eq!(keys(lock), ["holders", "mode", "name", "waiters"]);
    assert_eq!(lock["name"], "report");
    assert_eq!(lock["mode"], "write");
    assert_eq!(keys(&lock["holders"][0]), ["session", "thread", "token"]);
    assert_eq!(lock["holders"][0]["token"], token);
    let sessions = run(&["session", "list", "--json"]);
    let session = &sessions.as_array().expect("an array")[0];
    assert_eq!(keys(session), ["client", "expires_in_ms", "id"]);
    assert_eq!(session["client"], "heapctl");
    assert_eq!(session["id"], lock["holders"][0]["session"]);
    test.phase("lock list and session list show the holder with the documented keys");
    holder.kill().expect("stop the holder");
    let _ = holder.wait();
}
