//! openraft's storage conformance suite run against `LogStore`: on a fresh directory per test,
//! with the default entry cache and with none (every read from the segment files), and with a
//! store that is closed and reopened from disk after every write.

use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::path::PathBuf;
use std::sync::Arc;

use openraft::storage::IOFlushed;
use openraft::storage::LogState;
use openraft::storage::RaftLogStorage;
use openraft::testing::log::StoreBuilder;
use openraft::testing::log::Suite;
use openraft::OptionalSend;
use openraft::RaftLogReader;
use openraft::StorageError;
use raft_store::Entry;
use raft_store::LogId;
use raft_store::LogOptions;
use raft_store::LogStore;
use raft_store::TypeConfig;
use raft_store::Vote;
use tempfile::TempDir;
use tokio::sync::Mutex;

use self::memory_state_machine::MemoryStateMachine;

/// A minimal in-memory state machine: just enough for the suite's state-machine steps.
mod memory_state_machine {
    use std::io;
    use std::sync::Arc;
    use std::sync::Mutex;

    use futures::Stream;
    use futures::TryStreamExt;
    use openraft::entry::RaftEntry;
    use openraft::storage::EntryResponder;
    use openraft::storage::RaftStateMachine;
    use openraft::OptionalSend;
    use openraft::RaftSnapshotBuilder;
    use raft_store::LogId;
    use raft_store::Reply;
    use raft_store::Snapshot;
    use raft_store::SnapshotData;
    use raft_store::SnapshotMeta;
    use raft_store::StoredMembership;
    use raft_store::TypeConfig;

    #[derive(Default)]
    struct State {
        last_applied: Option<LogId>,
        membership: StoredMembership,
        snapshot: Option<(SnapshotMeta, SnapshotData)>,
    }

    #[derive(Clone, Default)]
    pub struct MemoryStateMachine {
        state: Arc<Mutex<State>>,
    }

    impl RaftSnapshotBuilder<TypeConfig> for MemoryStateMachine {
        type SnapshotData = SnapshotData;

        async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
            let mut state = self.state.lock().unwrap();
            let meta = SnapshotMeta { last_log_id: state.last_applied, last_membership: state.membership.clone() };
            let data = SnapshotData::from_bytes(Vec::new());
            state.snapshot = Some((meta.clone(), data.clone()));
            Ok(Snapshot { meta, snapshot: data })
        }
    }

    impl RaftStateMachine<TypeConfig> for MemoryStateMachine {
        type SnapshotData = SnapshotData;
        type SnapshotBuilder = Self;

        async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
            let state = self.state.lock().unwrap();
            Ok((state.last_applied, state.membership.clone()))
        }

        async fn apply<S>(&mut self, mut entries: S) -> Result<(), io::Error>
        where
            S: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + OptionalSend,
        {
            while let Some((entry, responder)) = entries.try_next().await? {
                {
                    let mut state = self.state.lock().unwrap();
                    state.last_applied = Some(entry.log_id);
                    if let Some(membership) = entry.get_membership() {
                        state.membership = StoredMembership::new(Some(entry.log_id), membership);
                    }
                }
                if let Some(responder) = responder {
                    responder.send(Reply::default());
                }
            }
            Ok(())
        }

        async fn get_snapshot_builder(&mut self) -> Self {
            self.clone()
        }

        async fn install_snapshot(&mut self, meta: &SnapshotMeta, snapshot: SnapshotData) -> Result<(), io::Error> {
            let mut state = self.state.lock().unwrap();
            state.last_applied = meta.last_log_id;
            state.membership = meta.last_membership.clone();
            state.snapshot = Some((meta.clone(), snapshot));
            Ok(())
        }

        async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
            let state = self.state.lock().unwrap();
            Ok(state.snapshot.clone().map(|(meta, snapshot)| Snapshot { meta, snapshot }))
        }
    }
}

/// Each suite step gets a `LogStore` with `options` on a fresh temporary directory.
struct FreshDirectoryBuilder {
    options: LogOptions,
}

impl StoreBuilder<TypeConfig, LogStore, MemoryStateMachine, TempDir> for FreshDirectoryBuilder {
    async fn build(&self) -> Result<(TempDir, LogStore, MemoryStateMachine), StorageError<TypeConfig>> {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open_with(dir.path(), self.options).unwrap();
        Ok((dir, store, MemoryStateMachine::default()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_store_passes_the_openraft_suite() {
    Suite::test_all(FreshDirectoryBuilder { options: LogOptions::default() }).await.unwrap();
}

/// With no entry cache every read decodes records from the segment files, checked record by record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_store_without_a_cache_passes_the_openraft_suite() {
    let options = LogOptions { cache_bytes_max: 0, ..LogOptions::default() };
    Suite::test_all(FreshDirectoryBuilder { options }).await.unwrap();
}

/// A `LogStore` that is dropped and reopened from disk after every write, so every suite
/// assertion after a write reads what recovery rebuilt, not what was in memory.
struct ReopeningLogStore {
    dir: PathBuf,
    store: Arc<Mutex<Option<LogStore>>>,
}

/// Reads through whatever store is currently open.
struct ReopeningLogReader {
    store: Arc<Mutex<Option<LogStore>>>,
}

impl ReopeningLogStore {
    /// Closes the store (its flusher completes every pending callback) and recovers it from disk.
    async fn reopen(&self) {
        let mut slot = self.store.lock().await;
        drop(slot.take());
        *slot = Some(LogStore::open(&self.dir).unwrap());
    }
}

async fn read_entries<RB>(store: &Mutex<Option<LogStore>>, range: RB) -> Result<Vec<Entry>, io::Error>
where
    RB: RangeBounds<u64> + Clone + Debug + OptionalSend,
{
    store.lock().await.as_mut().unwrap().try_get_log_entries(range).await
}

async fn read_vote(store: &Mutex<Option<LogStore>>) -> Result<Option<Vote>, io::Error> {
    store.lock().await.as_mut().unwrap().read_vote().await
}

impl RaftLogReader<TypeConfig> for ReopeningLogReader {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        read_entries(&self.store, range).await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        read_vote(&self.store).await
    }
}

impl RaftLogStorage<TypeConfig> for ReopeningLogStore {
    type LogReader = ReopeningLogReader;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        self.store.lock().await.as_mut().unwrap().get_log_state().await
    }

    async fn get_log_reader(&mut self) -> ReopeningLogReader {
        ReopeningLogReader { store: self.store.clone() }
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        self.store.lock().await.as_mut().unwrap().save_vote(vote).await?;
        self.reopen().await;
        Ok(())
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<TypeConfig>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        self.store.lock().await.as_mut().unwrap().append(entries, callback).await?;
        self.reopen().await;
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        self.store.lock().await.as_mut().unwrap().truncate_after(last_log_id).await?;
        self.reopen().await;
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        self.store.lock().await.as_mut().unwrap().purge(log_id).await?;
        self.reopen().await;
        Ok(())
    }
}

struct ReopeningBuilder;

impl StoreBuilder<TypeConfig, ReopeningLogStore, MemoryStateMachine, TempDir> for ReopeningBuilder {
    async fn build(&self) -> Result<(TempDir, ReopeningLogStore, MemoryStateMachine), StorageError<TypeConfig>> {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        let reopening = ReopeningLogStore { dir: dir.path().to_path_buf(), store: Arc::new(Mutex::new(Some(store))) };
        Ok((dir, reopening, MemoryStateMachine::default()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_store_reopened_after_every_write_passes_the_openraft_suite() {
    Suite::test_all(ReopeningBuilder).await.unwrap();
}
