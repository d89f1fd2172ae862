//! Unit tests of the follower's inline sync: entries another node proposed are synced in `append`
//! itself when the flusher has nothing queued, the leader's own go through the flusher, and a
//! follower append never completes ahead of an earlier one still queued.
#![allow(clippy::unwrap_used)]

use futures::FutureExt;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use openraft::type_config::TypeConfigExt;

use crate::log::testing::*;
use crate::log::LogOptions;
use crate::log::LogStore;
use crate::types::TypeConfig;

/// The node the store under test runs on; the entries' proposer decides which path they take.
const OWN_NODE: u64 = 2;
const OTHER_NODE: u64 = 1;

fn open_as_node(dir: &std::path::Path) -> LogStore {
    LogStore::open_with(dir, LogOptions { local_node: Some(OWN_NODE), ..LogOptions::default() }).unwrap()
}

#[tokio::test]
async fn a_follower_append_is_durable_when_append_returns() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_as_node(dir.path());
    let gate = store.flusher_gate();
    let syncs_before = store.stats().fdatasync_count;

    // A paused flusher proves the sync did not go through it.
    gate.pause();
    let (sender, mut receiver) = TypeConfig::oneshot();
    store.append([entry_by(1, OTHER_NODE, 0)], IOFlushed::signal(sender)).await.unwrap();
    let completed = (&mut receiver).now_or_never().expect("not completed when append returned");
    completed.unwrap().unwrap();
    let stats = store.stats();
    assert_eq!(stats.inline_sync_count, 1);
    assert_eq!(stats.fdatasync_count, syncs_before + 1, "completed after one fdatasync");
    assert_eq!(stats.flush_request_count, 0);
    gate.resume();

    drop(store);
    let mut reopened = LogStore::open(dir.path()).unwrap();
    assert_eq!(all_entries(&mut reopened).await, vec![entry_by(1, OTHER_NODE, 0)]);
}

#[tokio::test]
async fn a_leader_append_goes_through_the_flusher() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_as_node(dir.path());
    let gate = store.flusher_gate();

    gate.pause();
    let (sender, mut receiver) = TypeConfig::oneshot();
    store.append([entry_by(1, OWN_NODE, 0)], IOFlushed::signal(sender)).await.unwrap();
    wait_until("the flusher took the callback", || store.stats().flush_request_count == 1).await;
    assert!((&mut receiver).now_or_never().is_none(), "the leader's append completed without the flusher");
    assert_eq!(store.stats().inline_sync_count, 0);

    gate.resume();
    receiver.await.unwrap().unwrap();
    assert_eq!(store.stats().flushed_callback_count, 1);
}

#[tokio::test]
async fn a_follower_append_queues_behind_an_earlier_pending_append() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_as_node(dir.path());
    let gate = store.flusher_gate();

    // This node led term 1 and its entry is still waiting for the flusher when it starts to
    // follow in term 2: completing the term-2 entry first would report a log prefix with a hole.
    gate.pause();
    let (first_sender, mut first) = TypeConfig::oneshot();
    store.append([entry_by(1, OWN_NODE, 0)], IOFlushed::signal(first_sender)).await.unwrap();
    wait_until("the flusher took the first callback", || store.stats().flush_request_count == 1).await;
    let (second_sender, mut second) = TypeConfig::oneshot();
    store.append([entry_by(2, OTHER_NODE, 1)], IOFlushed::signal(second_sender)).await.unwrap();
    assert!((&mut second).now_or_never().is_none(), "the later append completed ahead of the earlier one");
    assert!((&mut first).now_or_never().is_none());
    assert_eq!(store.stats().inline_sync_count, 0);

    gate.resume();
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(store.stats().flushed_callback_count, 2);

    // With the queue drained, the next follower append takes the inline path again. The flusher
    // counts a request done only after its completion was delivered, a moment after the receiver
    // can see it.
    wait_until("the flusher is idle", || store.flusher_is_idle()).await;
    let (sender, mut receiver) = TypeConfig::oneshot();
    store.append([entry_by(2, OTHER_NODE, 2)], IOFlushed::signal(sender)).await.unwrap();
    (&mut receiver).now_or_never().expect("not completed when append returned").unwrap().unwrap();
    assert_eq!(store.stats().inline_sync_count, 1);
}

#[tokio::test]
async fn without_a_local_node_every_append_goes_through_the_flusher() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = LogStore::open(dir.path()).unwrap();
    append_durable(&mut store, vec![entry_by(1, OTHER_NODE, 0)]).await;
    let stats = store.stats();
    assert_eq!(stats.inline_sync_count, 0);
    assert_eq!(stats.flushed_callback_count, 1);
}
