//! Greedy locks (issue 12) against a real cluster: a session keeps a cluster lock its threads
//! released, so re-taking it costs no round trip and a critical section costs one commit; another
//! session's request recalls it and sees every change committed under it; local threads share it
//! with nothing lost; `wait` hands it to the waiting thread's condition; and a session that
//! vanishes while holding it greedily loses it at its lease end. Round trips are counted with the
//! client's session request counter (keep-alives excluded).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use heap_client::CommitLevel;
use heap_client::HeapClient;
use heap_client::ObjectKind;
use heap_client::Value;
use heap_client::SESSION_TTL_MS_DEFAULT;

use super::support::*;

const T1: u64 = 1;
const T2: u64 = 2;

fn long(value: Value) -> i64 {
    match value {
        Value::Long(n) => n,
        Value::Null => 0,
        other => panic!("expected a long, got {other:?}"),
    }
}

/// One critical section: read `n`, write `n + 1`, release (which commits).
async fn increment(client: &HeapClient, thread: u64, lock: &str, counter: u64) {
    assert!(client.lock(thread, lock, false, None).await.expect("lock"));
    let n = long(client.get(thread, counter, "n").await.expect("get"));
    client.set(thread, counter, "n", Value::Long(n + 1)).await.expect("set");
    client.unlock(thread, lock).await.expect("unlock commits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_lock_stays_with_the_session_and_costs_one_commit_per_critical_section() {
    let test = TestCluster::start("greedy-local", 3, &[]);
    test.leader().await;
    let a = test.heap_client().await;
    let counter = a.root(T1, "counter", ObjectKind::Fields).await.expect("root");
    increment(&a, T1, "L", counter).await;
    assert_eq!(a.greedy_locks_held(), 1, "kept after the release");

    const ROUNDS: u64 = 100;
    let before = a.session_requests();
    for _ in 0..ROUNDS {
        assert!(a.lock(T1, "L", false, None).await.expect("lock"));
        assert!(a.lock(T1, "L", false, None).await.expect("reentrant lock"));
        a.unlock(T1, "L").await.expect("inner unlock");
        a.unlock(T1, "L").await.expect("unlock");
    }
    assert_eq!(a.session_requests() - before, 0, "{ROUNDS} empty critical sections sent nothing");
    test.phase("re-taking a kept lock, reentrant or not, sends nothing");

    let before = a.session_requests();
    for _ in 0..ROUNDS {
        increment(&a, T2, "L", counter).await;
    }
    assert_eq!(a.session_requests() - before, ROUNDS, "one commit per critical section, no lock round trip");
    assert!(a.lock(T1, "L", false, None).await.expect("lock"));
    assert_eq!(long(a.get(T1, counter, "n").await.expect("get")), ROUNDS as i64 + 1);
    a.unlock(T1, "L").await.expect("unlock");
    test.phase("a critical section with a change costs exactly its commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_session_recalls_the_lock_and_sees_every_change_made_under_it() {
    let test = TestCluster::start("greedy-recall", 3, &[]);
    test.leader().await;
    let a = test.heap_client().await;
    let b = test.heap_client().await;
    let counter = a.root(T1, "counter", ObjectKind::Fields).await.expect("root");
    increment(&a, T1, "L", counter).await;
    assert_eq!(a.greedy_locks_held(), 1);

    // b asks: a's idle greedy hold is recalled and b is granted.
    let started = Instant::now();
    assert!(b.lock(T1, "L", false, Some(5_000)).await.expect("lock"), "granted after the recall");
    assert_eq!(long(b.get(T1, counter, "n").await.expect("get")), 1, "a's change, committed before the hand-over");
    b.unlock(T1, "L").await.expect("unlock");
    assert_eq!(a.greedy_locks_held(), 0, "a gave it back");
    test.phase(&format!("an idle greedy lock was recalled and granted in {:?}", started.elapsed()));

    // Alternating: every hand-over is a recall; nothing is lost and each costs a few round trips.
    const ROUNDS: u64 = 20;
    let before = a.session_requests() + b.session_requests();
    for _ in 0..ROUNDS {
        increment(&a, T1, "L", counter).await;
        increment(&b, T1, "L", counter).await;
    }
    let requests = a.session_requests() + b.session_requests() - before;
    let hand_overs = 2 * ROUNDS;
    assert!(b.lock(T1, "L", false, None).await.expect("lock"));
    assert_eq!(long(b.get(T1, counter, "n").await.expect("get")), 1 + 2 * ROUNDS as i64, "no increment lost");
    b.unlock(T1, "L").await.expect("unlock");
    // Per hand-over: the new holder's Lock, the old holder's release, and the section's commit.
    // A Lock answered Pending (a long wait) is re-sent, so allow one more on average.
    assert!(requests <= 4 * hand_overs, "{requests} session requests for {hand_overs} hand-overs");
    test.phase(&format!(
        "{hand_overs} alternating critical sections: {requests} session requests ({:.2} per hand-over, commit included)",
        requests as f64 / hand_overs as f64
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_threads_share_a_greedy_lock_without_losing_an_update() {
    let test = TestCluster::start("greedy-threads", 3, &[]);
    test.leader().await;
    let a = Arc::new(test.heap_client().await);
    let counter = a.root(T1, "counter", ObjectKind::Fields).await.expect("root");
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 25;
    let before = a.session_requests();
    let workers: Vec<_> = (1..=THREADS)
        .map(|thread| {
            let a = Arc::clone(&a);
            tokio::spawn(async move {
                for _ in 0..ROUNDS {
                    increment(&a, thread, "L", counter).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let requests = a.session_requests() - before;
    assert!(a.lock(T1, "L", false, None).await.expect("lock"));
    assert_eq!(long(a.get(T1, counter, "n").await.expect("get")), (THREADS * ROUNDS) as i64, "no update lost");
    a.unlock(T1, "L").await.expect("unlock");
    assert_eq!(requests, THREADS * ROUNDS + 1, "one grant for the session, then one commit per section");
    test.phase(&format!("{THREADS} threads x {ROUNDS} increments under one greedy lock: {requests} requests"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_hands_the_greedy_hold_to_the_waiting_thread_and_a_local_notify_wakes_it() {
    let test = TestCluster::start("greedy-wait", 3, &[]);
    test.leader().await;
    let a = Arc::new(test.heap_client().await);
    let flag = a.root(T1, "flag", ObjectKind::Fields).await.expect("root");
    assert!(a.lock(T1, "cond", false, None).await.expect("lock"));
    let waiter = {
        let a = Arc::clone(&a);
        tokio::spawn(async move {
            let notified = a.wait(T1, "cond", Some(20_000)).await.expect("wait");
            let seen = a.get(T1, flag, "ready").await.expect("get");
            a.set(T1, flag, "seen", Value::Bool(true)).await.expect("set after wait");
            a.unlock(T1, "cond").await.expect("unlock after wait commits");
            (notified, seen)
        })
    };
    // Thread 2 of the same client can take the lock only once thread 1 waits.
    assert!(a.lock(T2, "cond", false, Some(10_000)).await.expect("lock"), "the wait released the session's hold");
    a.set(T2, flag, "ready", Value::Bool(true)).await.expect("set");
    a.notify(T2, "cond", false).await.expect("notify");
    a.unlock(T2, "cond").await.expect("unlock");
    let (notified, seen) = waiter.await.expect("waiter");
    assert!(notified, "woken by the notify, not the timeout");
    assert_eq!(seen, Value::Bool(true), "the waiter sees what the notifier committed");
    let b = test.heap_client().await;
    assert!(b.lock(T1, "cond", false, Some(10_000)).await.expect("lock"));
    assert_eq!(b.get(T1, flag, "seen").await.expect("get"), Value::Bool(true), "the waiter's change committed");
    b.unlock(T1, "cond").await.expect("unlock");
    assert!(matches!(a.notify(T1, "cond", false).await, Err(heap_client::HeapError::IllegalState(_))));
    test.phase("wait handed the lock over, a local notify woke the waiter, its changes committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_vanishes_holding_a_greedy_lock_loses_it_at_its_lease_end() {
    let test = TestCluster::start("greedy-vanish", 3, &[]);
    test.leader().await;
    let a = test.heap_client().await;
    let b = test.heap_client().await;
    let counter = a.root(T1, "counter", ObjectKind::Fields).await.expect("root");
    increment(&a, T1, "L", counter).await;
    assert!(a.lock(T1, "L", false, None).await.expect("lock"));
    a.set(T1, counter, "n", Value::Long(1_000)).await.expect("set, never committed");
    // Gone without a word: no release, no keep-alive, no answer to the recall.
    drop(a);
    let started = Instant::now();
    assert!(b.lock(T1, "L", false, Some(3 * SESSION_TTL_MS_DEFAULT)).await.expect("lock"), "granted at lease end");
    let waited = started.elapsed();
    assert_eq!(long(b.get(T1, counter, "n").await.expect("get")), 1, "the uncommitted change is not there");
    b.unlock(T1, "L").await.expect("unlock");
    assert!(waited >= Duration::from_millis(SESSION_TTL_MS_DEFAULT / 2), "not before the lease could end: {waited:?}");
    test.phase(&format!("the vanished session's greedy lock came free after {waited:?}"));
}

/// The asynchronous level: `unlock` returns once the section is queued, this client's threads see
/// queued changes at once, sections go out batched and in order, and another session that takes
/// the lock (a recall) sees every one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asynchronous_sections_are_seen_locally_at_once_and_by_the_next_holder_all_in_order() {
    let test = TestCluster::start("greedy-async", 3, &[]);
    test.leader().await;
    let a = test.heap_client().await;
    let b = test.heap_client().await;
    let counter = a.root(T1, "counter", ObjectKind::Fields).await.expect("root");
    a.set_commit_level("L", CommitLevel::Async).expect("level");
    const SECTIONS: u64 = 2_000;
    let before = a.session_requests();
    let started = Instant::now();
    for round in 0..SECTIONS {
        let thread = 1 + round % 3;
        increment(&a, thread, "L", counter).await;
    }
    let elapsed = started.elapsed();
    let requests = a.session_requests() - before;
    // Every increment read the previous one's queued value, whatever thread made it.
    assert!(a.lock(T1, "L", false, None).await.expect("lock"));
    assert_eq!(long(a.get(T1, counter, "n").await.expect("get")), SECTIONS as i64, "local reads see queued changes");
    a.unlock(T1, "L").await.expect("unlock");
    assert!(requests < SECTIONS / 2, "{requests} requests for {SECTIONS} sections: batched");
    assert!(b.lock(T1, "L", false, Some(10_000)).await.expect("lock"), "recalled after the queue drained");
    assert_eq!(long(b.get(T1, counter, "n").await.expect("get")), SECTIONS as i64, "the next holder sees them all");
    b.unlock(T1, "L").await.expect("unlock");
    test.phase(&format!(
        "{SECTIONS} asynchronous sections in {elapsed:?} ({:.0}/s, debug build) with {requests} requests; the next holder saw all",
        SECTIONS as f64 / elapsed.as_secs_f64()
    ));
}

/// The client's bound on idle greedy locks (`GREEDY_IDLE_LOCKS_MAX` in heap-client's `greedy.rs`,
/// documented in README.md; the crate does not export it).
const GREEDY_IDLE_LOCKS_MAX: usize = 1_024;

/// Names of the locks the cluster lists as held by anyone, polled until at most `bound` remain
/// (the client's releaser gives evicted locks back in the background).
async fn held_locks_within(test: &TestCluster, bound: usize) -> BTreeSet<String> {
    let cluster = test.client();
    let started = Instant::now();
    loop {
        let locks = cluster.list_locks().await.expect("list locks").locks;
        let held: BTreeSet<String> =
            locks.into_iter().filter(|lock| !lock.holders.is_empty()).map(|lock| lock.name).collect();
        if held.len() <= bound {
            return held;
        }
        assert!(started.elapsed() < CONDITION_TIMEOUT, "{} locks still held, over {bound}", held.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Request threads of a web server: `THREADS` threads of `client` lock and unlock `names` between
/// them, each name once, each lock waiting at most `timeout_ms` (Some(0): trying once).
async fn lock_each_once(client: &Arc<HeapClient>, names: &[String], timeout_ms: Option<u64>) {
    const THREADS: usize = 32;
    let workers: Vec<_> = (0..THREADS)
        .map(|worker| {
            let client = Arc::clone(client);
            let mine: Vec<String> = names.iter().skip(worker).step_by(THREADS).cloned().collect();
            tokio::spawn(async move {
                let thread = 1 + worker as u64;
                for name in &mine {
                    assert!(client.lock(thread, name, false, timeout_ms).await.expect("lock"), "{name} not granted");
                    client.unlock(thread, name).await.expect("unlock");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
}

/// A Tomcat locks each HTTP session's name once, from many request threads: past the idle bound
/// the session gives the least recently used back, so the cluster's lock table stays bounded,
/// every lock given back is free for another client at once (no recall), and one taken again
/// costs one grant. (Which locks are oldest depends on how the threads interleave; the table's
/// own tests check the order exactly.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_takes_many_names_once_each_keeps_at_most_the_idle_bound() {
    const EXTRA: usize = 200;
    let test = TestCluster::start("greedy-bound", 3, &[]);
    test.leader().await;
    let a = Arc::new(test.heap_client().await);
    let names: Vec<String> = (0..GREEDY_IDLE_LOCKS_MAX + EXTRA).map(|index| format!("http-session-{index}")).collect();
    let started = Instant::now();
    lock_each_once(&a, &names, None).await;
    test.phase(&format!("took and released {} distinct locks in {:?}", names.len(), started.elapsed()));

    let held = held_locks_within(&test, GREEDY_IDLE_LOCKS_MAX).await;
    assert_eq!(held.len(), GREEDY_IDLE_LOCKS_MAX, "the bound, no fewer: only the excess went back");
    assert!(held.iter().all(|name| names.contains(name)), "nothing but this session's locks");
    assert_eq!(a.greedy_locks_held(), GREEDY_IDLE_LOCKS_MAX, "the client's table agrees");
    let given_back: Vec<String> = names.iter().filter(|name| !held.contains(*name)).cloned().collect();
    test.phase(&format!("the cluster lists {} held locks; {} went back", held.len(), given_back.len()));

    let b = Arc::new(test.heap_client().await);
    lock_each_once(&b, &given_back[1..], Some(0)).await;
    let kept = held.first().expect("some kept");
    assert!(b.lock(T1, kept, false, Some(10_000)).await.expect("lock"), "a kept lock still comes by a recall");
    b.unlock(T1, kept).await.expect("unlock");
    test.phase(&format!("another client took {} given-back locks, trying each once", given_back.len() - 1));

    let before = a.session_requests();
    assert!(a.lock(T1, &given_back[0], false, None).await.expect("lock"));
    assert_eq!(a.session_requests() - before, 1, "a lock given back and taken again costs one grant");
    a.unlock(T1, &given_back[0]).await.expect("unlock");
    test.phase("a lock it gave back, taken again by the session, cost one grant");
}
