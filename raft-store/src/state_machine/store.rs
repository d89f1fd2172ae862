//! `StateMachineStore`: openraft's state machine storage around an application `Machine`.
//!
//! The machine lives in memory behind a lock (reads take it shared, one apply batch takes it
//! exclusively, so every read sees one applied index). Its image is mirrored in sled by the
//! `ImageWriter`: each apply batch stages its change set, and the writer thread writes the staged
//! sets, coalesced, with the last applied log id and membership in one atomic sled batch. sled is
//! not fsynced here: durability comes from the log (fdatasync'd before any acknowledgement) and
//! from the snapshot file (fsynced); after a crash sled holds a consistent prefix, the snapshot
//! fills in anything older, and the log replays the rest.

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
use super::image_file::read_snapshot_file;
use super::image_file::verify_snapshot;
use super::image_file::write_snapshot_file;
use super::image_writer::ImageWriter;
use super::keys::decode_meta;
use super::keys::encode_applied_meta;
use super::keys::machine_key;
use super::keys::KEY_LAST_APPLIED;
use super::keys::KEY_MEMBERSHIP;
use super::keys::MACHINE_PREFIX;
use super::snapshot_activity::SnapshotActivity;
use super::snapshot_activity::SnapshotCounts;
use super::snapshot_codec::encode_snapshot;
use super::snapshot_codec::SnapshotView;
use super::snapshot_error::ImageError;
use super::snapshot_error::SNAPSHOT_SIZE_BYTES_CEILING;
use crate::machine::ChangeSet;
use crate::machine::Machine;
use crate::types::LogId;
use crate::types::Reply;
use crate::types::Snapshot;
use crate::types::SnapshotData;
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
    writer: ImageWriter,
    snapshot_dir: PathBuf,
    snapshots: SnapshotActivity,
}

/// What `open_image` read from sled.
struct OpenedImage {
    tree: sled::Tree,
    last_applied: Option<LogId>,
    membership: StoredMembership,
}

/// sled's page cache. sled's default (1 GiB) would keep the whole image in memory a second time
/// at a few million objects; the machine already holds every object, and sled is read only at
/// start, so a small cache costs nothing but memory saved.
pub const SLED_CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// Pairs per sled batch when an image replaces sled's contents.
const SLED_REPLACE_PAIRS_PER_BATCH: usize = 100_000;

/// How long opening sled waits for its file lock. The lock is freed only when the last of
/// sled's background threads of an earlier handle in this process has let go of it, which under
/// load can take a moment after the handle is dropped (a store reopened at once: restore, tests).
const SLED_LOCK_WAIT_MS: u64 = 10_000;
const SLED_LOCK_RETRY_MS: u64 = 20;

/// sled reports a held lock only as an i/o error of kind Other with this text.
fn is_lock_held(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Opens sled with its cache bounded, waiting a bounded time for a lock still held in-process.
fn open_sled(sled_path: &Path) -> Result<sled::Db, StateMachineError> {
    let started = std::time::Instant::now();
    loop {
        let opened = sled::Config::new().path(sled_path).cache_capacity(SLED_CACHE_BYTES).open();
        match opened {
            Err(error) if is_lock_held(&error) && started.elapsed().as_millis() < u128::from(SLED_LOCK_WAIT_MS) => {
                std::thread::sleep(std::time::Duration::from_millis(SLED_LOCK_RETRY_MS));
            }
            opened => {
                return opened.map_err(|error| StateMachineError::Open { path: sled_path.display().to_string(), error })
            }
        }
    }
}

/// Opens sled at `sled_path` and loads its image into `machine` (cleared first).
fn open_image<M: Machine>(sled_path: &Path, machine: &mut M) -> Result<OpenedImage, StateMachineError> {
    let db = open_sled(sled_path)?;
    let tree = db.open_tree("machine")?;
    let last_applied: Option<LogId> = match tree.get(KEY_LAST_APPLIED)? {
        Some(bytes) => decode_meta(KEY_LAST_APPLIED, &bytes)?,
        None => None,
    };
    let membership: StoredMembership = match tree.get(KEY_MEMBERSHIP)? {
        Some(bytes) => decode_meta(KEY_MEMBERSHIP, &bytes)?,
        None => StoredMembership::default(),
    };
    machine.clear();
    for item in tree.scan_prefix([MACHINE_PREFIX]) {
        let (key, value) = item?;
        machine.load(&key[1..], &value)?;
    }
    machine.validate()?;
    Ok(OpenedImage { tree, last_applied, membership })
}

/// Moves a damaged sled folder out of the way (kept for a post-mortem, never read again).
fn move_aside(sled_path: &Path) -> Result<PathBuf, StateMachineError> {
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or(0);
    let aside = sled_path.with_file_name(format!("state.damaged-{unix_ms}"));
    std::fs::rename(sled_path, &aside).map_err(|error| {
        StateMachineError::Snapshot(ImageError::Io { path: sled_path.display().to_string(), error })
    })?;
    Ok(aside)
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
    /// Opens (or creates) the store under `dir` (`dir/state` for sled, `dir/snapshot.bin`), loads
    /// the machine image into `machine`, and brings it up to the snapshot if sled is older.
    ///
    /// sled is only a cache of the snapshot and the log: if its image cannot be opened or loaded
    /// (a disk-full stop, a torn write), it is moved aside to `state.damaged-<unix ms>` and
    /// rebuilt from the snapshot, and Raft re-applies the log after it. A damaged snapshot still
    /// stops the node: it is the truth, and only the operator (or a peer's copy) can replace it.
    pub fn open(dir: &Path, mut machine: M) -> Result<Self, StateMachineError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StateMachineError::Snapshot(ImageError::Io { path: dir.display().to_string(), error: e }))?;
        let sled_path = dir.join("state");
        let image = match open_image(&sled_path, &mut machine) {
            Ok(image) => image,
            Err(error) if error.is_damaged_image() => {
                let aside = move_aside(&sled_path)?;
                tracing::warn!(
                    %error,
                    moved_to = %aside.display(),
                    "the state machine's sled image is damaged; rebuilding it from the snapshot and the log"
                );
                open_image(&sled_path, &mut machine)?
            }
            Err(error) => return Err(error),
        };
        let OpenedImage { tree, last_applied, membership } = image;

        let store = Self {
            inner: Arc::new(Inner {
                applied: RwLock::new(Applied { machine, last_applied, membership }),
                applied_index: tokio::sync::watch::Sender::new(last_applied.map(|id| id.index).unwrap_or(0)),
                writer: ImageWriter::start(tree, encode_applied_meta)?,
                snapshot_dir: dir.to_path_buf(),
                snapshots: SnapshotActivity::default(),
            }),
        };

        if let Some(bytes) = read_snapshot_file(dir)? {
            let image = SnapshotView::decode(&bytes, SNAPSHOT_SIZE_BYTES_CEILING)?;
            let newer = image.meta.last_log_id > store.last_applied()?;
            if newer {
                // sled is not fsynced; after a crash it may be older than the durable snapshot.
                tracing::warn!(
                    snapshot = ?image.meta.last_log_id,
                    "state machine store is older than the snapshot; reloading the snapshot"
                );
                store.load_image(&image)?;
            }
        }
        Ok(store)
    }

    /// Runs `read` on the machine at one applied index (the second argument).
    pub fn read<R>(&self, read: impl FnOnce(&M, u64) -> R) -> Result<R, StateMachineError> {
        let applied = self.inner.applied.read().map_err(|_| StateMachineError::Poisoned)?;
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
        let applied = self.inner.applied.read().map_err(|_| StateMachineError::Poisoned)?;
        Ok(applied.last_applied)
    }

    /// Replaces machine and sled contents with `image`. sled is rewritten in bounded batches
    /// (one batch of a large image would hold it in memory again): first the applied meta goes,
    /// so a crash part way leaves sled older than any snapshot and the start-up reloads the
    /// (already durable) snapshot; the meta comes back last.
    fn load_image(&self, image: &SnapshotView<'_>) -> Result<(), StateMachineError> {
        let mut applied = self.inner.applied.write().map_err(|_| StateMachineError::Poisoned)?;
        applied.machine.clear();
        for (key, value) in image.pairs() {
            applied.machine.load(key, value)?;
        }
        applied.machine.validate()?;
        applied.last_applied = image.meta.last_log_id;
        applied.membership = image.meta.last_membership.clone();

        self.inner.writer.replace(|tree| {
            tree.remove(KEY_LAST_APPLIED)?;
            tree.clear()?;
            let mut batch = sled::Batch::default();
            let mut in_batch = 0;
            for (key, value) in image.pairs() {
                batch.insert(machine_key(key), value);
                in_batch += 1;
                if in_batch == SLED_REPLACE_PAIRS_PER_BATCH {
                    tree.apply_batch(std::mem::take(&mut batch))?;
                    in_batch = 0;
                }
            }
            for (key, value) in encode_applied_meta(applied.last_applied, &applied.membership)? {
                batch.insert(key, value);
            }
            tree.apply_batch(batch)?;
            Ok(())
        })?;
        self.inner.applied_index.send_replace(applied.last_applied.map(|id| id.index).unwrap_or(0));
        Ok(())
    }

    /// Applies committed entries in order; returns the replies to send once the batch is stored.
    fn apply_entries(
        &self,
        entries: Vec<EntryResponder<TypeConfig>>,
    ) -> Result<Vec<(openraft::storage::ApplyResponder<TypeConfig>, Reply)>, StateMachineError> {
        let mut applied = self.inner.applied.write().map_err(|_| StateMachineError::Poisoned)?;
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
        self.inner.writer.stage(changes, applied.last_applied, &applied.membership)?;
        self.inner.applied_index.send_replace(applied.last_applied.map(|id| id.index).unwrap_or(0));
        Ok(replies)
    }
}

impl<M: Machine> RaftSnapshotBuilder<TypeConfig> for StateMachineStore<M> {
    type SnapshotData = SnapshotData;

    /// Encodes the machine straight into one buffer under the read lock (applies wait for the
    /// copy, not for the disk), then writes it durably; the image is in memory once more, not
    /// three times (a pair list, its encoding, a copy to write).
    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        let (meta, encoded) = {
            let applied = self.inner.applied.read().map_err(|_| StateMachineError::Poisoned)?;
            let meta = SnapshotMeta { last_log_id: applied.last_applied, last_membership: applied.membership.clone() };
            let size_hint_bytes = self.inner.snapshots.counts().last_size_bytes as usize;
            let machine = &applied.machine;
            let encoded = encode_snapshot(&meta, machine.export_len() as u64, size_hint_bytes, |writer| {
                machine.export_each(&mut |key, value| writer.push(key, value));
            })
            .map_err(StateMachineError::from)?;
            (meta, encoded)
        };
        let dir = self.inner.snapshot_dir.clone();
        let encoded = tokio::task::spawn_blocking(move || write_snapshot_file(&dir, &encoded).map(|()| encoded))
            .await
            .map_err(io::Error::other)?
            .map_err(StateMachineError::from)?;
        self.inner.snapshots.record_built(encoded.len() as u64);
        tracing::info!(last_log_id = ?meta.last_log_id, size_bytes = encoded.len(), "snapshot built");
        Ok(Snapshot { meta, snapshot: encoded })
    }
}

impl<M: Machine> RaftStateMachine<TypeConfig> for StateMachineStore<M> {
    type SnapshotData = SnapshotData;
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        let applied = self.inner.applied.read().map_err(|_| StateMachineError::Poisoned)?;
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
        verify_snapshot(meta, &snapshot, SNAPSHOT_SIZE_BYTES_CEILING).map_err(StateMachineError::from)?;
        let dir = self.inner.snapshot_dir.clone();
        let size_bytes = snapshot.len() as u64;
        let snapshot = tokio::task::spawn_blocking(move || write_snapshot_file(&dir, &snapshot).map(|()| snapshot))
            .await
            .map_err(io::Error::other)?
            .map_err(StateMachineError::from)?;
        let image = SnapshotView::decode(&snapshot, SNAPSHOT_SIZE_BYTES_CEILING).map_err(StateMachineError::from)?;
        self.load_image(&image)?;
        self.inner.snapshots.record_installed(size_bytes);
        tracing::info!(last_log_id = ?meta.last_log_id, "snapshot installed");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        let dir = self.inner.snapshot_dir.clone();
        let bytes = tokio::task::spawn_blocking(move || read_snapshot_file(&dir))
            .await
            .map_err(io::Error::other)?
            .map_err(StateMachineError::from)?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let meta = SnapshotView::decode(&bytes, SNAPSHOT_SIZE_BYTES_CEILING).map_err(StateMachineError::from)?.meta;
        Ok(Some(Snapshot { meta, snapshot: bytes }))
    }
}
