//! The state machine store with a real `Machine`: openraft's suite against LogStore +
//! StateMachineStore, restart from sled, snapshot build/install, recovery when sled is older than
//! the durable snapshot, and refusal of corrupt snapshots and out-of-order entries.

use std::collections::BTreeMap;

use futures::stream;
use openraft::entry::RaftEntry;
use openraft::storage::RaftStateMachine;
use openraft::testing::log::StoreBuilder;
use openraft::testing::log::Suite;
use openraft::vote::RaftLeaderIdExt;
use openraft::RaftSnapshotBuilder;
use openraft::StorageError;
use raft_store::ChangeSet;
use raft_store::Entry;
use raft_store::LoadError;
use raft_store::LogId;
use raft_store::LogStore;
use raft_store::Machine;
use raft_store::Request;
use raft_store::StateMachineStore;
use raft_store::TypeConfig;
use tempfile::TempDir;

/// A key/value machine: command `key=value` sets a key and replies with the previous value.
/// `validate` insists every value is non-empty, so a corrupt image can be planted.
#[derive(Default)]
struct KvMachine {
    data: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Machine for KvMachine {
    fn apply(&mut self, _log_index: u64, command: &[u8], changes: &mut ChangeSet) -> Vec<u8> {
        let Some(split) = command.iter().position(|b| *b == b'=') else {
            return b"malformed".to_vec();
        };
        let (key, value) = (command[..split].to_vec(), command[split + 1..].to_vec());
        changes.put(key.clone(), value.clone());
        self.data.insert(key, value).unwrap_or_default()
    }

    fn clear(&mut self) {
        self.data.clear();
    }

    fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), LoadError> {
        self.data.insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn export(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn validate(&self) -> Result<(), LoadError> {
        match self.data.iter().find(|(_, v)| v.is_empty()) {
            Some((key, _)) => Err(LoadError { key: key.clone(), reason: "empty value".into() }),
            None => Ok(()),
        }
    }
}

type Store = StateMachineStore<KvMachine>;

fn log_id(term: u64, index: u64) -> LogId {
    LogId::new(openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(term, 1), index)
}

fn set(index: u64, key: &str, value: &str) -> Entry {
    Entry::new_normal(log_id(1, index), Request { payload: format!("{key}={value}").into_bytes() })
}

async fn apply(store: &mut Store, entries: Vec<Entry>) -> Result<(), std::io::Error> {
    let items: Vec<Result<_, std::io::Error>> = entries.into_iter().map(|e| Ok((e, None))).collect();
    store.apply(stream::iter(items)).await
}

/// The machine's key/value image and the applied index it is at.
type Image = (Vec<(Vec<u8>, Vec<u8>)>, u64);

fn image(store: &Store) -> Image {
    store.read(|m, applied| (m.export(), applied)).unwrap()
}

struct RealStoresBuilder;

impl StoreBuilder<TypeConfig, LogStore, Store, TempDir> for RealStoresBuilder {
    async fn build(&self) -> Result<(TempDir, LogStore, Store), StorageError<TypeConfig>> {
        let dir = tempfile::tempdir().unwrap();
        let log = LogStore::open(&dir.path().join("log")).unwrap();
        let sm = Store::open(&dir.path().join("sm"), KvMachine::default()).unwrap();
        Ok((dir, log, sm))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_and_state_machine_stores_pass_the_openraft_suite() {
    Suite::test_all(RealStoresBuilder).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_state_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), KvMachine::default()).unwrap();
    apply(&mut store, vec![set(1, "a", "1"), set(2, "b", "2"), set(3, "a", "3")]).await.unwrap();
    let before = image(&store);
    assert_eq!(before.1, 3);
    drop(store);
    let mut reopened = Store::open(dir.path(), KvMachine::default()).unwrap();
    assert_eq!(image(&reopened), before, "the image and applied index come back from sled");
    let (applied, _) = reopened.applied_state().await.unwrap();
    assert_eq!(applied, Some(log_id(1, 3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), KvMachine::default()).unwrap();
    apply(&mut store, vec![set(5, "a", "1")]).await.unwrap();
    let error = apply(&mut store, vec![set(5, "a", "2")]).await.unwrap_err();
    assert!(error.to_string().contains("in order"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_installs_elsewhere_and_recovers_a_store_that_lost_its_sled_data() {
    let source_dir = tempfile::tempdir().unwrap();
    let mut source = Store::open(source_dir.path(), KvMachine::default()).unwrap();
    apply(&mut source, (1..=50).map(|i| set(i, &format!("k{}", i % 7), &format!("v{i}"))).collect()).await.unwrap();
    let snapshot = source.get_snapshot_builder().await.build_snapshot().await.unwrap();
    assert_eq!(snapshot.meta.last_log_id, Some(log_id(1, 50)));

    // Install on a fresh store: identical image, and it survives a reopen.
    let target_dir = tempfile::tempdir().unwrap();
    let mut target = Store::open(target_dir.path(), KvMachine::default()).unwrap();
    apply(&mut target, vec![set(1, "stale", "x")]).await.unwrap();
    target.install_snapshot(&snapshot.meta, snapshot.snapshot.clone()).await.unwrap();
    assert_eq!(image(&target), image(&source), "install replaces everything with the snapshot");
    drop(target);
    let target = Store::open(target_dir.path(), KvMachine::default()).unwrap();
    assert_eq!(image(&target), image(&source));

    // sled is not fsynced: if it loses everything, the durable snapshot brings the store back.
    drop(source);
    std::fs::remove_dir_all(source_dir.path().join("state")).unwrap();
    let mut recovered = Store::open(source_dir.path(), KvMachine::default()).unwrap();
    assert_eq!(image(&recovered).1, 50, "recovered from the snapshot");
    assert_eq!(image(&recovered), image(&target));
    let current = recovered.get_current_snapshot().await.unwrap().unwrap();
    assert_eq!(current.meta, snapshot.meta);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_snapshots_and_images_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), KvMachine::default()).unwrap();
    apply(&mut store, vec![set(1, "a", "1")]).await.unwrap();
    let snapshot = store.get_snapshot_builder().await.build_snapshot().await.unwrap();

    // A flipped byte in a received snapshot: refused, nothing changed.
    let mut bad = snapshot.snapshot.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let before = image(&store);
    assert!(store.install_snapshot(&snapshot.meta, bad).await.is_err());
    assert_eq!(image(&store), before);

    // A corrupt snapshot file on disk stops the node at open.
    drop(store);
    let path = dir.path().join("snapshot.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let error = Store::open(dir.path(), KvMachine::default()).err().expect("corrupt snapshot refused");
    assert!(error.to_string().contains("corrupt"), "{error}");
}

/// sled is a cache of the snapshot and the log: an image that cannot be loaded (here one that
/// breaks the machine's invariants, then sled files overwritten with garbage) is moved aside and
/// rebuilt from the snapshot; Raft re-applies the log after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_sled_image_is_rebuilt_from_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), KvMachine::default()).unwrap();
    apply(&mut store, (1..=20).map(|i| set(i, &format!("k{}", i % 5), &format!("v{i}"))).collect()).await.unwrap();
    let snapshot = store.get_snapshot_builder().await.build_snapshot().await.unwrap();
    let at_snapshot = image(&store);
    apply(&mut store, vec![set(21, "empty", "")]).await.unwrap();
    drop(store);

    let rebuilt = Store::open(dir.path(), KvMachine::default()).expect("the invalid image is rebuilt, not fatal");
    assert_eq!(image(&rebuilt), at_snapshot, "the machine is the snapshot's; the log supplies the rest");
    let moved: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("state.damaged-"))
        .collect();
    assert_eq!(moved.len(), 1, "the damaged image is kept aside for a post-mortem: {moved:?}");
    drop(rebuilt);

    // Garbage over every sled file: rebuilt again, from the same snapshot.
    for entry in std::fs::read_dir(dir.path().join("state")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::write(&path, vec![0x5a; 4096]).unwrap();
        }
    }
    let mut rebuilt = Store::open(dir.path(), KvMachine::default()).expect("garbage sled files are rebuilt");
    assert_eq!(image(&rebuilt), at_snapshot);
    assert_eq!(rebuilt.get_current_snapshot().await.unwrap().unwrap().meta, snapshot.meta);
}
