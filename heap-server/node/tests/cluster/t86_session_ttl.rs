//! A session lease chosen at connect (`HeapClient::connect_with`): a client with a short lease
//! that vanishes holding a lock loses it about that lease later, not at the default's; leases at
//! both bounds are accepted by the cluster, and one outside them is refused with the bounds named.

use std::time::Duration;
use std::time::Instant;

use heap_client::HeapClient;
use heap_client::HeapError;
use heap_client::ObjectKind;
use heap_client::Value;
use heap_client::SESSION_TTL_MS_DEFAULT;
use heap_client::SESSION_TTL_MS_MAX;
use heap_client::SESSION_TTL_MS_MIN;

use super::support::*;

const T1: u64 = 1;
/// The short lease under test (what the RAP library asks for).
const SHORT_TTL_MS: u64 = 2_000;
/// How much later than the lease the lock may come free: the leader's deadline check, the Tick
/// entry's commit and the grant's, on a loaded machine.
const TAKEOVER_SLACK_MS: u64 = 1_500;
const _: () = assert!(SHORT_TTL_MS + TAKEOVER_SLACK_MS < SESSION_TTL_MS_DEFAULT);

async fn connect_with(test: &TestCluster, session_ttl_ms: u64) -> Result<HeapClient, HeapError> {
    HeapClient::connect_with(&test.cluster.endpoints().join(","), &test.cluster.client_security(), session_ttl_ms).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_client_with_a_short_lease_loses_its_lock_that_lease_later() {
    let test = TestCluster::start("session-ttl", 3, &[]);
    test.leader().await;
    let a = connect_with(&test, SHORT_TTL_MS).await.expect("a client with a 2 s lease connects");
    let b = test.heap_client().await;
    let cart = a.root(T1, "cart", ObjectKind::Fields).await.expect("root");
    assert!(a.lock(T1, "L", false, None).await.expect("lock"));
    a.set(T1, cart, "total", Value::Long(7)).await.expect("set, never committed");
    test.phase("a (2 s lease) holds L with an uncommitted change");

    // Gone without a word: dropping the client aborts its tasks, and with them the last owners of
    // its session, whose drop aborts the keep-alive task. Were keep-alives still sent, the lease
    // would never end and b would time out below.
    drop(a);
    let started = Instant::now();
    let granted = b.lock(T1, "L", false, Some(SHORT_TTL_MS + TAKEOVER_SLACK_MS)).await.expect("lock");
    let waited = started.elapsed();
    assert!(granted, "L not granted within the lease plus {TAKEOVER_SLACK_MS} ms (waited {waited:?})");
    assert!(waited < Duration::from_millis(SHORT_TTL_MS + TAKEOVER_SLACK_MS), "granted too late: {waited:?}");
    // The last keep-alive went at most a third of the lease before the drop.
    assert!(waited >= Duration::from_millis(SHORT_TTL_MS / 2), "not before the lease could end: {waited:?}");
    assert_eq!(b.get(T1, cart, "total").await.expect("get"), Value::Null, "the uncommitted change is not there");
    b.unlock(T1, "L").await.expect("unlock");
    test.phase(&format!("the vanished client's lock came free after {waited:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_at_the_bounds_connect_and_leases_outside_them_are_refused_naming_them() {
    let test = TestCluster::start("session-ttl-bounds", 3, &[]);
    test.leader().await;
    for ttl_ms in [SESSION_TTL_MS_MIN, SESSION_TTL_MS_MAX] {
        let client = connect_with(&test, ttl_ms).await.expect("the cluster accepts a lease at the bounds");
        client.root(T1, "bounds", ObjectKind::Fields).await.expect("the session works");
        client.close().await.expect("close");
    }
    test.phase("leases at both bounds connect");
    let bounds = format!("{SESSION_TTL_MS_MIN}..={SESSION_TTL_MS_MAX} ms");
    for ttl_ms in [0, SESSION_TTL_MS_MIN - 1, SESSION_TTL_MS_MAX + 1] {
        match connect_with(&test, ttl_ms).await {
            Err(HeapError::Rejected(message)) => {
                assert!(message.contains(&format!("{ttl_ms} ms")), "{message}");
                assert!(message.contains(&bounds), "{message}");
            }
            Err(other) => panic!("ttl {ttl_ms}: expected a rejection naming the bounds, got {other:?}"),
            Ok(_) => panic!("ttl {ttl_ms} ms was accepted"),
        }
    }
    test.phase("leases outside the bounds are refused with the bounds named");
}

/// A short lease outlives a leader's SIGKILL: the new leader extends leases by the time without a
/// leader and the client's keep-alives find it, so the session (and a lock it holds) survives and
/// its next commit goes through. A session lost here would end every lock of an app server at
/// each election.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_lease_survives_the_leader_being_killed() {
    const AFTER_KILL_MS: u64 = 3 * SHORT_TTL_MS;
    let mut test = TestCluster::start("session-ttl-failover", 3, &[]);
    let leader = test.leader().await;
    let a = connect_with(&test, SHORT_TTL_MS).await.expect("a client with a 2 s lease connects");
    let cart = a.root(T1, "cart", ObjectKind::Fields).await.expect("root");
    assert!(a.lock(T1, "L", false, None).await.expect("lock"));
    test.cluster.kill(leader);
    test.phase(&format!("leader {leader} SIGKILLed while a (2 s lease) holds L"));
    tokio::time::sleep(Duration::from_millis(AFTER_KILL_MS)).await;
    a.set(T1, cart, "total", Value::Long(9)).await.expect("set under L");
    a.unlock(T1, "L").await.expect("the commit under L goes through: the session and its lock survived");
    assert_eq!(a.get(T1, cart, "total").await.expect("get"), Value::Long(9));
    test.phase(&format!("{AFTER_KILL_MS} ms after the kill the session still holds L and commits"));
}
