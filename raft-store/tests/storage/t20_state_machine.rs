//! The state machine store with a real `Machine`: openraft's suite against LogStore +
//! StateMachineStore, restart from the snapshot (the log replays the rest), streamed snapshot
//! build and install, removal of an older version's sled image, and refusal of corrupt snapshots
//! and out-of-order entries.

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

/// A reopened store is at its last snapshot (empty before the first), and re-applying the log
/// entries after it (what openraft does at start) gives exactly the state before the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_store_is_at_its_snapshot_and_the_log_replays_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), KvMachine::default()).unwrap();
    apply(&mut store, vec![set(1, "a", "1"), set(2, "b", "2")]).await.unwrap();
    drop(store);
    let mut reopened = Store::open(dir.path(), KvMachine::default()).unwrap();
    assert_eq!(image(&reopened), (vec![], 0), "no snapshot yet: the whole log replays");
    assert_eq!(reopened.applied_state().await.unwrap().0, None);

    apply(&mut reopened, vec![set(1, "a", "1"), set(2, "b", "2"), set(3, "a", "3")]).await.unwrap();
    let snapshot = reopened.get_snapshot_builder().await.build_snapshot().await.unwrap();
    assert_eq!(snapshot.meta.last_log_id, Some(log_id(1, 3)));
    let at_snapshot = image(&reopened);
    let after = vec![set(4, "c", "4"), set(5, "a", "5")];
    apply(&mut reopened, after.clone()).await.unwrap();
    let before_restart = image(&reopened);
    drop(reopened);

    let mut restarted = Store::open(dir.path(), KvMachine::default()).unwrap();
    assert_eq!(image(&restarted), at_snapshot, "the image and applied index come back from the snapshot");
    assert_eq!(restarted.applied_state().await.unwrap().0, Some(log_id(1, 3)));
    apply(&mut restarted, after).await.unwrap();
    assert_eq!(image(&restarted), before_restart, "the log after the snapshot brings the rest back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), KvMachine::default()).unwrap();
    apply(&mut store, vec![set(5, "a", "1")]).await.unwrap();
    let error = apply(&mut store, vec![set(5, "a", "2")]).await.unwrap_err();
    assert!(error.to_string().contains("in order"), "{error}");
}

/// A built snapshot is streamed to the file (openraft keeps only the meta; the bytes come from
/// `get_current_snapshot`), installs on another store as the same image, and survives a reopen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_snapshot_installs_elsewhere_and_survives_a_reopen() {
    let source_dir = tempfile::tempdir().unwrap();
    let mut source = Store::open(source_dir.path(), KvMachine::default()).unwrap();
    apply(&mut source, (1..=50).map(|i| set(i, &format!("k{}", i % 7), &format!("v{i}"))).collect()).await.unwrap();
    let built = source.get_snapshot_builder().await.build_snapshot().await.unwrap();
    assert_eq!(built.meta.last_log_id, Some(log_id(1, 50)));
    let snapshot = source.get_current_snapshot().await.unwrap().expect("the built snapshot is the current one");
    assert_eq!(snapshot.meta, built.meta);
    assert_eq!(source.snapshot_counts().last_size_bytes, snapshot.snapshot.len());

    let target_dir = tempfile::tempdir().unwrap();
    let mut target = Store::open(target_dir.path(), KvMachine::default()).unwrap();
    apply(&mut target, vec![set(1, "stale", "x")]).await.unwrap();
    target.install_snapshot(&snapshot.meta, snapshot.snapshot.clone()).await.unwrap();
    assert_eq!(image(&target), image(&source), "install replaces everything with the snapshot");
    drop(target);
    let target = Store::open(target_dir.path(), KvMachine::default()).unwrap();
    assert_eq!(image(&target), image(&source));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_snapshots_and_images_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), KvMachine::default()).unwrap();
    apply(&mut store, vec![set(1, "a", "1")]).await.unwrap();
    store.get_snapshot_builder().await.build_snapshot().await.unwrap();
    let snapshot = store.get_current_snapshot().await.unwrap().unwrap();

    // A flipped byte in a received snapshot: refused, nothing changed.
    let mut bad = snapshot.snapshot.clone().into_bytes().unwrap();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let before = image(&store);
    assert!(store.install_snapshot(&snapshot.meta, bad.into()).await.is_err());
    assert_eq!(image(&store), before);

    // A corrupt snapshot file on disk stops the node at open, saying what to do.
    drop(store);
    let path = dir.path().join("snapshot.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let error = Store::open(dir.path(), KvMachine::default()).err().expect("corrupt snapshot refused");
    assert!(error.to_string().contains("corrupt"), "{error}");
    assert!(error.to_string().contains("wipe this node's data dir"), "{error}");
}

/// A snapshot that loads but breaks the machine's invariants stops the node (it is the only
/// image); a temporary file left by a crash while streaming is ignored and replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_snapshot_stops_the_node_and_a_torn_stream_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), KvMachine::default()).unwrap();
    apply(&mut store, vec![set(1, "a", "1")]).await.unwrap();
    store.get_snapshot_builder().await.build_snapshot().await.unwrap();
    let good = image(&store);
    apply(&mut store, vec![set(2, "empty", "")]).await.unwrap();
    drop(store);

    std::fs::write(dir.path().join("snapshot.bin.tmp"), vec![0x5a; 4096]).unwrap();
    let mut store = Store::open(dir.path(), KvMachine::default()).expect("a torn stream is not the snapshot");
    assert_eq!(image(&store), good);
    apply(&mut store, vec![set(2, "empty", "")]).await.unwrap();
    store.get_snapshot_builder().await.build_snapshot().await.unwrap();
    drop(store);
    let error = Store::open(dir.path(), KvMachine::default()).err().expect("an invalid image stops the node");
    assert!(error.to_string().contains("empty value"), "{error}");
}

/// An older version kept the machine image in sled beside the snapshot; the snapshot and the log
/// hold everything it did, so the store removes it and loads the snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_versions_sled_image_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), KvMachine::default()).unwrap();
    apply(&mut store, vec![set(1, "a", "1")]).await.unwrap();
    store.get_snapshot_builder().await.build_snapshot().await.unwrap();
    let at_snapshot = image(&store);
    drop(store);
    let sled_dir = dir.path().join("state");
    std::fs::create_dir_all(sled_dir.join("blobs")).unwrap();
    std::fs::write(sled_dir.join("db"), vec![0x5a; 4096]).unwrap();

    let store = Store::open(dir.path(), KvMachine::default()).unwrap();
    assert!(!sled_dir.exists(), "the sled folder is gone");
    assert_eq!(image(&store), at_snapshot);
}
