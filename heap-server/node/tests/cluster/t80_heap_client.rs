//! The client library (`heap_client::HeapClient`) against a real cluster: the cache and its
//! visibility rules, commit at release, read-your-writes, leased ids, wait/notify, and locked
//! updates that survive a leader's death with nothing lost or doubled.

use std::collections::BTreeSet;
use std::sync::Arc;

use heap_client::ObjectKind;
use heap_client::Value;

use super::support::*;

const T1: u64 = 1;
const T2: u64 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_visibility_commit_at_release_and_read_your_writes() {
    let test = TestCluster::start("client-cache", 3, &[]);
    test.leader().await;
    let a = test.heap_client().await;
    let b = test.heap_client().await;

    let cart = a.root(T1, "cart", ObjectKind::Fields).await.expect("root");
    assert_eq!(b.root(T1, "cart", ObjectKind::Fields).await.expect("root"), cart, "one root for both");
    assert!(matches!(b.root(T1, "cart", ObjectKind::Map).await, Err(heap_client::HeapError::TypeMismatch(_))));
    a.set(T1, cart, "total", Value::Long(1)).await.expect("set");
    assert_eq!(a.get(T1, cart, "total").await.expect("get"), Value::Long(1), "read your own write");
    // b cached the object before a's write; outside a lock it may read the older copy, but after
    // taking any lock it sees everything committed before the grant.
    assert!(b.lock(T1, "other-lock", false, None).await.expect("lock"));
    assert_eq!(b.get(T1, cart, "total").await.expect("get"), Value::Long(1));
    b.unlock(T1, "other-lock").await.expect("unlock");
    assert_eq!(b.get(T1, cart, "missing").await.expect("get"), Value::Null, "unset reads as null");
    assert!(b.cached_objects() >= 1, "b cached the object");
    test.phase("roots agree, writes are read back, reads are cached");

    // Under a lock, changes are the thread's own until the release commits them.
    assert!(a.lock(T1, "cart-lock", false, None).await.expect("lock"));
    a.set(T1, cart, "total", Value::Long(2)).await.expect("set under lock");
    assert_eq!(a.get(T1, cart, "total").await.expect("get"), Value::Long(2), "the holder sees its change");
    assert_eq!(a.get(T2, cart, "total").await.expect("get"), Value::Long(1), "other threads do not, yet");
    a.unlock(T1, "cart-lock").await.expect("unlock commits");
    // b has total=1 cached; taking the lock must show the change committed under it.
    assert!(b.lock(T1, "cart-lock", false, None).await.expect("lock"));
    assert_eq!(b.get(T1, cart, "total").await.expect("get"), Value::Long(2), "after lock(): the last holder's change");
    b.unlock(T1, "cart-lock").await.expect("unlock");
    test.phase("commit at release is visible to the next holder despite its cache");

    // Every value type round-trips, including a reference to a new object.
    let child = a.create(T1, "Item", ObjectKind::Map).await.expect("create");
    let values = [
        Value::Null,
        Value::Bool(true),
        Value::Long(i64::MIN),
        Value::Double(-0.25),
        Value::String("Zoë".into()),
        Value::Bytes(vec![0, 255, 7]),
        Value::Object(child),
    ];
    for (i, value) in values.iter().enumerate() {
        a.set(T1, cart, &format!("v{i}"), value.clone()).await.expect("set");
    }
    assert!(b.lock(T1, "cart-lock", false, None).await.expect("lock"));
    for (i, value) in values.iter().enumerate() {
        assert_eq!(&b.get(T1, cart, &format!("v{i}")).await.expect("get"), value);
    }
    b.unlock(T1, "cart-lock").await.expect("unlock");

    // Ids come from leased ranges: many objects, all distinct, no round trip each.
    let mut ids = BTreeSet::new();
    assert!(a.lock(T1, "bulk", false, None).await.expect("lock"));
    for _ in 0..1_500 {
        ids.insert(a.create(T1, "Node", ObjectKind::Fields).await.expect("create"));
    }
    a.unlock(T1, "bulk").await.expect("unlock commits 1,500 creates");
    assert_eq!(ids.len(), 1_500);
    test.phase("every value type round-trips; 1,500 objects created under one lock");
    a.close().await.expect("close");
    assert!(matches!(a.get(T1, cart, "total").await, Err(heap_client::HeapError::Closed)));
    b.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_and_notify_between_clients() {
    let test = TestCluster::start("client-wait", 3, &[]);
    test.leader().await;
    let a = Arc::new(test.heap_client().await);
    let b = test.heap_client().await;
    let flag = a.root(T1, "flag", ObjectKind::Fields).await.expect("root");
    assert!(a.lock(T1, "cond", false, None).await.expect("lock"));
    let waiter = {
        let a = Arc::clone(&a);
        tokio::spawn(async move {
            let notified = a.wait(T1, "cond", Some(20_000)).await.expect("wait");
            let seen = a.get(T1, flag, "ready").await.expect("get");
            a.unlock(T1, "cond").await.expect("unlock");
            (notified, seen)
        })
    };
    // b can take the lock only once a waits (the wait released it).
    assert!(b.lock(T1, "cond", false, None).await.expect("lock"));
    b.set(T1, flag, "ready", Value::Bool(true)).await.expect("set");
    b.notify(T1, "cond", false).await.expect("notify");
    b.unlock(T1, "cond").await.expect("unlock");
    let (notified, seen) = waiter.await.expect("waiter");
    assert!(notified, "woken by the notify, not the timeout");
    assert_eq!(seen, Value::Bool(true), "the waiter sees what the notifier committed");
    test.phase("wait released the lock, notify woke the waiter, which saw the change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_updates_survive_a_leader_death_without_loss_or_duplicates() {
    let mut test = TestCluster::start("client-failover", 3, &[]);
    test.leader().await;
    let a = test.heap_client().await;
    let counter = a.root(T1, "counter", ObjectKind::Fields).await.expect("root");
    const ROUNDS: i64 = 40;
    for round in 0..ROUNDS {
        if round == ROUNDS / 2 {
            let leader = test.leader().await;
            test.cluster.kill(leader);
            test.phase(&format!("SIGKILLed leader node {leader} at round {round}"));
        }
        assert!(a.lock(T1, "counter-lock", false, None).await.expect("lock across failover"));
        let value = match a.get(T1, counter, "n").await.expect("get") {
            Value::Long(n) => n,
            Value::Null => 0,
            other => panic!("unexpected {other:?}"),
        };
        a.set(T1, counter, "n", Value::Long(value + 1)).await.expect("set");
        a.unlock(T1, "counter-lock").await.expect("unlock across failover");
    }
    let b = test.heap_client().await;
    assert!(b.lock(T1, "counter-lock", false, None).await.expect("lock"));
    assert_eq!(b.get(T1, counter, "n").await.expect("get"), Value::Long(ROUNDS), "no update lost or doubled");
    b.unlock(T1, "counter-lock").await.expect("unlock");
    test.phase(&format!("{ROUNDS} locked increments across a leader death: counter = {ROUNDS}"));
}
