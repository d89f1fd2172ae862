//! A snapshot that holds the machine for long must not stall the node's async runtime: the
//! encoding runs off the runtime's workers, and an apply or read that has to wait for the lock
//! waits off them too. Each test runs on a runtime with one worker, as a node's two workers both
//! were when this failed (a 10-million-object snapshot; no heartbeats for seconds; elections),
//! and times a task that should tick every few milliseconds meanwhile.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use futures::stream;
use openraft::entry::RaftEntry;
use openraft::storage::RaftStateMachine;
use openraft::vote::RaftLeaderIdExt;
use openraft::RaftSnapshotBuilder;
use raft_store::ChangeSet;
use raft_store::Entry;
use raft_store::LoadError;
use raft_store::LogId;
use raft_store::Machine;
use raft_store::Request;
use raft_store::StateMachineStore;
use raft_store::TypeConfig;

/// How long the slow machine's export (a large snapshot's encoding) or a held lock lasts.
const HOLD_MS: u64 = 800;
/// The ticker's period.
const TICK_MS: u64 = 5;
/// The longest gap between ticks that still shows a free runtime (a blocked one shows `HOLD_MS`).
const STALL_MS_MAX: u64 = 300;

/// A key/value machine whose export takes `HOLD_MS`, like a heap of millions of objects.
#[derive(Default)]
struct SlowExportMachine {
    data: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Machine for SlowExportMachine {
    fn apply(&mut self, _log_index: u64, command: &[u8], changes: &mut ChangeSet) -> Vec<u8> {
        changes.put(command.to_vec(), command.to_vec());
        self.data.insert(command.to_vec(), command.to_vec());
        Vec::new()
    }

    fn clear(&mut self) {
        self.data.clear();
    }

    fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), LoadError> {
        self.data.insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn export(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        std::thread::sleep(Duration::from_millis(HOLD_MS));
        self.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn validate(&self) -> Result<(), LoadError> {
        Ok(())
    }
}

type Store = StateMachineStore<SlowExportMachine>;

fn entry(index: u64) -> Entry {
    let log_id = LogId::new(openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(1, 1), index);
    Entry::new_normal(log_id, Request { payload: format!("key{index}").into_bytes() })
}

async fn apply(mut store: Store, index: u64) {
    store.apply(stream::iter(vec![Ok::<_, std::io::Error>((entry(index), None))])).await.unwrap();
}

/// A task ticking every `TICK_MS` on the runtime; `stop` ends it and gives the longest gap.
struct Ticker {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Duration>,
}

impl Ticker {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut longest = Duration::ZERO;
            while !stopped.load(Ordering::SeqCst) {
                let started = Instant::now();
                tokio::time::sleep(Duration::from_millis(TICK_MS)).await;
                longest = longest.max(started.elapsed());
            }
            longest
        });
        Self { stop, task }
    }

    async fn longest_gap(self) -> Duration {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap()
    }
}

/// `build_snapshot`, spawned as openraft spawns it: a task on the runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn encoding_a_snapshot_leaves_the_runtime_free() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SlowExportMachine::default()).unwrap();
    apply(store.clone(), 1).await;
    let ticker = Ticker::start();
    let mut builder = store.clone();
    let built = tokio::spawn(async move { builder.get_snapshot_builder().await.build_snapshot().await });
    let snapshot = built.await.unwrap().unwrap();
    let gap = ticker.longest_gap().await;
    assert_eq!(snapshot.meta.last_log_id.map(|id| id.index), Some(1));
    assert!(gap < Duration::from_millis(STALL_MS_MAX), "the runtime stalled {gap:?} while a snapshot was encoded");
}

/// An apply batch waiting for the write lock, and a read queued behind it, wait off the runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn an_apply_and_a_read_waiting_for_the_lock_leave_the_runtime_free() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), SlowExportMachine::default()).unwrap();
    apply(store.clone(), 1).await;
    // A long reader outside the runtime, as a snapshot's encoding now is.
    let holding = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, holding) = (store.clone(), Arc::clone(&holding));
        std::thread::spawn(move || {
            store
                .read(|_, _| {
                    holding.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(HOLD_MS));
                })
                .unwrap()
        })
    };
    while !holding.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let ticker = Ticker::start();
    let applied = tokio::spawn(apply(store.clone(), 2));
    // Give the apply time to queue for the write lock: the read then queues behind it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let read_store = store.clone();
    let read = tokio::spawn(async move { read_store.read(|_, applied_index| applied_index).unwrap() });
    applied.await.unwrap();
    let read_index = read.await.unwrap();
    let gap = ticker.longest_gap().await;
    reader.join().unwrap();
    assert!(gap < Duration::from_millis(STALL_MS_MAX), "the runtime stalled {gap:?} while an apply waited");
    assert!(read_index >= 1, "the read was answered");
    assert_eq!(store.read(|_, applied_index| applied_index).unwrap(), 2, "the apply landed");
}
