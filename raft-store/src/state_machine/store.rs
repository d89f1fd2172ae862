//! `StateMachineStore`: openraft's state machine storage around an application `Machine`.
//!
//! The machine lives in memory behind a lock (reads take it shared, one apply batch takes it
//! exclusively, so every read sees one applied index). Its only image on disk is the snapshot
//! file, streamed from the machine and fsynced; nothing else mirrors it. Durability comes from
//! the log (fdatasync'd before any acknowledgement): at start the store loads the snapshot and
//! openraft re-applies the log after it (at most `--snapshot-logs` entries, since a snapshot is
//! built that often). A per-entry mirror (sled, until 2026-12) cost about 4 KB of memory per
//! object and a third of a node's CPU on the write path for nothing a restart needs.

use std::io;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::RwLock;

use futures::Stream;
use futures::TryStreamExt;
use openraft::storage::EntryResponder;
use openraft::storage::RaftStateMachine;
use openraft::EntryPayload;
use openraft::OptionalSend;
use openraft::RaftSnapshotBuilder;

use super::error::StateMachineError;
use super::image_file::open_snapshot;
use super::image_file::read_snapshot_file;
use super::image_file::stream_snapshot_file;
use super::image_file::verify_snapshot;
use super::image_file::write_snapshot_file;
use super::image_file::StreamedSnapshot;
use super::image_file::SNAPSHOT_FILE_NAME;
use super::runtime_wait;
use super::snapshot_activity::SnapshotActivity;
use super::snapshot_activity::SnapshotCounts;
use super::snapshot_codec::SnapshotView;
use super::snapshot_data::SnapshotData;
use super::snapshot_error::ImageError;
use super::snapshot_error::SNAPSHOT_SIZE_BYTES_CEILING;
use crate::machine::ChangeSet;
use crate::machine::Machine;
use crate::types::LogId;
use crate::types::Reply;
use crate::types::Snapshot;
use crate::types::SnapshotMeta;
use crate::types::StoredMembership;
use crate::types::TypeConfig;

struct Applied<M> {
    machine: M,
    last_applied: Option<LogId>,
    membership: StoredMembership,
}

struct Inner<M> {
    applied: RwLock<Applied<M>>,
    /// The last applied log index, published after every apply batch and image load, so request
    /// handlers can wait for a state change instead of polling.
    applied_index: tokio::sync::watch::Sender<u64>,
    snapshot_dir: PathBuf,
    snapshots: SnapshotActivity,
}

/// The folder where sled mirrored the machine image before the snapshot became the only image.
/// A store that finds one removes it: the snapshot and the log hold everything it did.
const LEGACY_SLED_DIR_NAME: &str = "state";

/// Removes the sled mirror an older version kept beside the snapshot, if there is one.
fn remove_legacy_sled(dir: &Path) -> Result<(), StateMachineError> {
    let sled_path = dir.join(LEGACY_SLED_DIR_NAME);
    if !sled_path.is_dir() {
        return Ok(());
    }
    std::fs::remove_dir_all(&sled_path).map_err(|error| {
        StateMachineError::Snapshot(ImageError::Io { path: sled_path.display().to_string(), error })
    })?;
    tracing::info!(path = %sled_path.display(), "removed the unused sled image of an older version");
    Ok(())
}

/// Loads every pair of `image` into `machine` (cleared by the caller) and checks the whole.
fn load_pairs<M: Machine>(machine: &mut M, image: &SnapshotView<'_>) -> Result<(), StateMachineError> {
    for (key, value) in image.pairs() {
        machine.load(key, value)?;
    }
    machine.validate()?;
    Ok(())
}

/// openraft state machine storage for `M`. Cheap to clone; clones share one state.
pub struct StateMachineStore<M> {
    inner: Arc<Inner<M>>,
}

impl<M> Clone for StateMachineStore<M> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<M: Machine> StateMachineStore<M> {
    /// Opens (or creates) the store under `dir` (`dir/snapshot.bin`) and loads the snapshot, if
    /// there is one, into `machine`; openraft re-applies the log after it. A damaged snapshot
    /// stops the node: it is the node's only image and the log before it is purged, so only the
    /// operator can replace it (wipe the data dir and let the node catch up from its peers).
    pub fn open(dir: &Path, mut machine: M) -> Result<Self, StateMachineError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StateMachineError::Snapshot(ImageError::Io { path: dir.display().to_string(), error: e }))?;
        machine.clear();
        let snapshots = SnapshotActivity::default();
        let (last_applied, membership) = match read_snapshot_file(dir)? {
            Some(bytes) => {
                snapshots.record_loaded(bytes.len() as u64);
                let damaged = |reason: String| StateMachineError::DamagedSnapshot {
                    path: dir.join(SNAPSHOT_FILE_NAME).display().to_string(),
                    reason,
                };
                let image = SnapshotView::decode(&bytes, SNAPSHOT_SIZE_BYTES_CEILING).map_err(|error| match error {
                    ImageError::Corrupt(reason) => damaged(format!("it is corrupt: {reason}")),
                    error => damaged(error.to_string()),
                })?;
                load_pairs(&mut machine, &image).map_err(|error| damaged(error.to_string()))?;
                (image.meta.last_log_id, image.meta.last_membership)
            }
            None => (None, StoredMembership::default()),
        };
        remove_legacy_sled(dir)?;
        Ok(Self {
            inner: Arc::new(Inner {
                applied: RwLock::new(Applied { machine, last_applied, membership }),
                applied_index: tokio::sync::watch::Sender::new(last_applied.map(|id| id.index).unwrap_or(0)),
                snapshot_dir: dir.to_path_buf(),
                snapshots,
            }),
        })
    }

    /// Runs `read` on the machine at one applied index (the second argument).
    pub fn read<R>(&self, read: impl FnOnce(&M, u64) -> R) -> Result<R, StateMachineError> {
        let applied = runtime_wait::read(&self.inner.applied).map_err(|_| StateMachineError::Poisoned)?;
        let index = applied.last_applied.map(|id| id.index).unwrap_or(0);
        Ok(read(&applied.machine, index))
    }

    /// Changes whenever entries are applied or an image is loaded; holds the last applied index.
    /// Snapshots built and installed since start, and the last one's size.
    pub fn snapshot_counts(&self) -> SnapshotCounts {
        self.inner.snapshots.counts()
    }

    pub fn subscribe_applied(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.applied_index.subscribe()
    }

    pub fn last_applied(&self) -> Result<Option<LogId>, StateMachineError> {
        let applied = runtime_wait::read(&self.inner.applied).map_err(|_| StateMachineError::Poisoned)?;
        Ok(applied.last_applied)
    }

    /// Replaces the machine's state with `image`.
    fn load_image(&self, image: &SnapshotView<'_>) -> Result<(), StateMachineError> {
        let mut applied = runtime_wait::write(&self.inner.applied).map_err(|_| StateMachineError::Poisoned)?;
        applied.machine.clear();
        load_pairs(&mut applied.machine, image)?;
        applied.last_applied = image.meta.last_log_id;
        applied.membership = image.meta.last_membership.clone();
        self.inner.applied_index.send_replace(applied.last_applied.map(|id| id.index).unwrap_or(0));
        Ok(())
    }

    /// Encodes the machine, at one applied index, into the snapshot file (not yet durable).
    fn stream_snapshot(&self) -> Result<(SnapshotMeta, StreamedSnapshot), StateMachineError> {
        let applied = runtime_wait::read(&self.inner.applied).map_err(|_| StateMachineError::Poisoned)?;
        let meta = SnapshotMeta { last_log_id: applied.last_applied, last_membership: applied.membership.clone() };
        let machine = &applied.machine;
        let streamed = stream_snapshot_file(&self.inner.snapshot_dir, &meta, machine.export_len() as u64, |writer| {
            machine.export_each(&mut |key, value| writer.push(key, value));
        })?;
        Ok((meta, streamed))
    }

    /// Applies committed entries in order; returns the replies to send once the batch is stored.
    fn apply_entries(
        &self,
        entries: Vec<EntryResponder<TypeConfig>>,
    ) -> Result<Vec<(openraft::storage::ApplyResponder<TypeConfig>, Reply)>, StateMachineError> {
        let mut applied = runtime_wait::write(&self.inner.applied).map_err(|_| StateMachineError::Poisoned)?;
        let mut changes = ChangeSet::default();
        let mut replies = Vec::with_capacity(entries.len());
        for (entry, responder) in entries {
            let index = entry.log_id.index;
            let applied_index = applied.last_applied.map(|id| id.index);
            if applied_index.is_some_and(|a| a >= index) {
                return Err(StateMachineError::OutOfOrder { index, applied: applied_index.unwrap_or(0) });
            }
            let reply = match entry.payload {
                EntryPayload::Blank => Reply::default(),
                EntryPayload::Normal(request) => {
                    Reply { payload: applied.machine.apply(index, &request.payload, &mut changes) }
                }
                EntryPayload::Membership(membership) => {
                    applied.membership = StoredMembership::new(Some(entry.log_id), membership);
                    Reply::default()
                }
            };
            applied.last_applied = Some(entry.log_id);
            if let Some(responder) = responder {
                replies.push((responder, reply));
            }
        }
        // The change set served the machine's own bookkeeping (its change feed); nothing stores it.
        drop(changes);
        self.inner.applied_index.send_replace(applied.last_applied.map(|id| id.index).unwrap_or(0));
        Ok(replies)
    }
}

impl<M: Machine> RaftSnapshotBuilder<TypeConfig> for StateMachineStore<M> {
    type SnapshotData = SnapshotData;

    /// Streams the machine into the snapshot file under the read lock (applies wait for the
    /// encoding, which goes to the page cache, not for the disk), then makes it durable. The
    /// image is never in memory a second time. The encoding runs on a blocking thread: at 10
    /// million objects it takes seconds, which a runtime worker must not spend away from Raft.
    ///
    /// The returned snapshot is the file, opened (openraft keeps only the meta of a built one).
    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        let store = self.clone();
        let (meta, streamed) =
            tokio::task::spawn_blocking(move || store.stream_snapshot()).await.map_err(io::Error::other)??;
        let size_bytes = tokio::task::spawn_blocking(move || streamed.commit())
            .await
            .map_err(io::Error::other)?
            .map_err(StateMachineError::from)?;
        self.inner.snapshots.record_built(size_bytes);
        tracing::info!(last_log_id = ?meta.last_log_id, size_bytes, "snapshot built");
        let path = self.inner.snapshot_dir.join(SNAPSHOT_FILE_NAME);
        let snapshot = SnapshotData::open(&path)
            .map_err(|error| StateMachineError::from(ImageError::Io { path: path.display().to_string(), error }))?;
        Ok(Snapshot { meta, snapshot })
    }
}

impl<M: Machine> RaftStateMachine<TypeConfig> for StateMachineStore<M> {
    type SnapshotData = SnapshotData;
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        let applied = runtime_wait::read(&self.inner.applied).map_err(|_| StateMachineError::Poisoned)?;
        Ok((applied.last_applied, applied.membership.clone()))
    }

    async fn apply<S>(&mut self, mut entries: S) -> Result<(), io::Error>
    where
        S: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + OptionalSend,
    {
        // Collect first: the std lock must not be held across an await.
        let mut batch = Vec::new();
        while let Some(item) = entries.try_next().await? {
            batch.push(item);
        }
        let replies = self.apply_entries(batch)?;
        for (responder, reply) in replies {
            responder.send(reply);
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn install_snapshot(&mut self, meta: &SnapshotMeta, snapshot: SnapshotData) -> Result<(), io::Error> {
        // Received snapshots are in memory already; a file (tests) is read whole.
        let snapshot = tokio::task::spawn_blocking(move || snapshot.into_bytes()).await.map_err(io::Error::other)??;
        verify_snapshot(meta, &snapshot, SNAPSHOT_SIZE_BYTES_CEILING).map_err(StateMachineError::from)?;
        let dir = self.inner.snapshot_dir.clone();
        let size_bytes = snapshot.len() as u64;
        let snapshot = tokio::task::spawn_blocking(move || write_snapshot_file(&dir, &snapshot).map(|()| snapshot))
            .await
            .map_err(io::Error::other)?
            .map_err(StateMachineError::from)?;
        // Decoding and loading a large image takes seconds of this worker: off the runtime.
        runtime_wait::blocking_wait(|| {
            let image = SnapshotView::decode(&snapshot, SNAPSHOT_SIZE_BYTES_CEILING)?;
            self.load_image(&image)
        })?;
        self.inner.snapshots.record_installed(size_bytes);
        tracing::info!(last_log_id = ?meta.last_log_id, "snapshot installed");
        Ok(())
    }

    /// The snapshot file as it is now, opened, with its meta read from its head: its bytes are
    /// read only as they are sent (openraft asks for the current snapshot at start, twice, for
    /// the meta alone; at 10 million objects each read was a 600 MB copy).
    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        let path = self.inner.snapshot_dir.join(SNAPSHOT_FILE_NAME);
        let opened = tokio::task::spawn_blocking(move || open_snapshot(&path)).await.map_err(io::Error::other)?;
        Ok(opened.map_err(StateMachineError::from)?.map(|(meta, snapshot)| Snapshot { meta, snapshot }))
    }
}
