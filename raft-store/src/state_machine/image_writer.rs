//! `ImageWriter`: mirrors the applied machine image into sled off the apply path.
//!
//! Applying an entry only changes the in-memory machine and stages its change set here; a writer
//! thread coalesces the staged sets (later writes to a key win) and writes them to sled as one
//! atomic batch together with the last applied log id and membership, every
//! `IMAGE_WRITE_INTERVAL_MS` or sooner when `PENDING_WAKE_BYTES` accumulate. Each batch covers a
//! whole prefix of applied entries, so sled always holds the image at some applied index: the same
//! "consistent prefix" guarantee as writing every apply batch, at a fraction of the cost (sled's
//! writes and its `sync_file_range` calls were a third of a node's CPU on the write path).
//! Nothing acknowledged depends on sled: the log is fdatasync'd before any acknowledgement, and
//! after a crash the log replays whatever sled had not written yet.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Condvar;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::thread::JoinHandle;
use std::time::Duration;
use std::time::Instant;

use super::error::StateMachineError;
use super::keys::machine_key;
use super::keys::MetaPairs;
use crate::machine::ChangeSet;
use crate::types::LogId;
use crate::types::StoredMembership;

/// Staged changes are written to sled at least this often. Not more often: each write (and the
/// flush sled does after it) competes for the disk with the log's fdatasync, and at 100 ms it set
/// single-client put p99; a second's worth of changes coalesces to one write per changed key.
/// A restart replays at most this much more of the log (the image is never the durable copy).
pub const IMAGE_WRITE_INTERVAL_MS: u64 = 1000;
/// The writer starts early once this many bytes of keys and values are staged.
pub const PENDING_WAKE_BYTES: usize = 4 * 1024 * 1024;
/// Appliers wait for the writer when this many bytes are staged, so a slow disk bounds memory
/// instead of growing the backlog without limit.
pub const PENDING_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Encodes the meta values (last applied log id, membership) for sled.
pub type MetaEncoder = fn(Option<LogId>, &StoredMembership) -> Result<MetaPairs, StateMachineError>;

#[derive(Default)]
struct Pending {
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    bytes: usize,
    /// The applied position the staged writes lead to; `None` when nothing is staged.
    applied: Option<(Option<LogId>, StoredMembership)>,
    stop: bool,
    /// Set when a sled write failed: every later apply fails and the node stops.
    failed: Option<String>,
}

struct Shared {
    tree: sled::Tree,
    encode_meta: MetaEncoder,
    pending: Mutex<Pending>,
    /// Wakes the writer thread (early flush, stop).
    wake: Condvar,
    /// Wakes appliers waiting for the backlog to drain.
    drained: Condvar,
    /// Held while writing to sled: background batches and whole-image replacements never
    /// interleave, so an older batch can never land after a newer image. Taken before `pending`.
    write_order: Mutex<()>,
}

/// Owns the writer thread; dropping it writes what is staged and stops the thread.
pub struct ImageWriter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

fn poisoned<T>(_: T) -> StateMachineError {
    StateMachineError::Poisoned
}

impl Shared {
    fn lock(&self) -> Result<MutexGuard<'_, Pending>, StateMachineError> {
        self.pending.lock().map_err(poisoned)
    }

    /// Writes everything staged so far as one sled batch.
    fn write_pending(&self) -> Result<(), StateMachineError> {
        let _order = self.write_order.lock().map_err(poisoned)?;
        let (writes, applied) = {
            let mut pending = self.lock()?;
            if let Some(failed) = &pending.failed {
                return Err(StateMachineError::ImageWrite(failed.clone()));
            }
            pending.bytes = 0;
            let writes = std::mem::take(&mut pending.writes);
            let applied = pending.applied.take();
            self.drained.notify_all();
            (writes, applied)
        };
        let Some((last_applied, membership)) = applied else {
            return Ok(());
        };
        let mut batch = sled::Batch::default();
        for (key, value) in writes {
            let key = machine_key(&key);
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        for (key, value) in (self.encode_meta)(last_applied, &membership)? {
            batch.insert(key, value);
        }
        self.tree.apply_batch(batch).map_err(StateMachineError::from)
    }

    fn fail(&self, error: &StateMachineError) {
        tracing::error!(%error, "writing the state machine image to sled failed; the node stops");
        if let Ok(mut pending) = self.pending.lock() {
            pending.failed = Some(error.to_string());
        }
        self.drained.notify_all();
    }

    fn run(&self) {
        let interval = Duration::from_millis(IMAGE_WRITE_INTERVAL_MS);
        loop {
            let stop = {
                let Ok(mut pending) = self.pending.lock() else { return };
                let deadline = Instant::now() + interval;
                while !pending.stop && pending.bytes < PENDING_WAKE_BYTES {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        break;
                    }
                    pending = match self.wake.wait_timeout(pending, remaining) {
                        Ok((guard, _)) => guard,
                        Err(_) => return,
                    };
                }
                pending.stop
            };
            if let Err(error) = self.write_pending() {
                self.fail(&error);
                return;
            }
            if stop {
                return;
            }
        }
    }
}

impl ImageWriter {
    /// Starts the writer thread for `tree`.
    pub fn start(tree: sled::Tree, encode_meta: MetaEncoder) -> Result<Self, StateMachineError> {
        let shared = Arc::new(Shared {
            tree,
            encode_meta,
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            drained: Condvar::new(),
            write_order: Mutex::new(()),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("sm-image-writer".into())
            .spawn(move || worker.run())
            .map_err(|e| StateMachineError::ImageWrite(format!("cannot start the image writer thread: {e}")))?;
        Ok(Self { shared, thread: Some(thread) })
    }

    /// Stages one apply batch's changes, which lead to `last_applied` and `membership`. Waits
    /// while the backlog is over `PENDING_BYTES_MAX`.
    pub fn stage(
        &self,
        changes: ChangeSet,
        last_applied: Option<LogId>,
        membership: &StoredMembership,
    ) -> Result<(), StateMachineError> {
        let mut pending = self.shared.lock()?;
        if let Some(failed) = &pending.failed {
            return Err(StateMachineError::ImageWrite(failed.clone()));
        }
        for (key, value) in changes.writes {
            pending.bytes += key.len() + value.as_ref().map_or(0, Vec::len);
            pending.writes.insert(key, value);
        }
        pending.applied = Some((last_applied, membership.clone()));
        if pending.bytes >= PENDING_WAKE_BYTES {
            self.shared.wake.notify_one();
        }
        while pending.bytes > PENDING_BYTES_MAX && pending.failed.is_none() {
            pending = self.shared.drained.wait(pending).map_err(poisoned)?;
        }
        match &pending.failed {
            Some(failed) => Err(StateMachineError::ImageWrite(failed.clone())),
            None => Ok(()),
        }
    }

    /// Drops everything staged and runs `replace` on the tree with no background write in
    /// between or after it: for loading a whole image (snapshot install).
    pub fn replace(
        &self,
        replace: impl FnOnce(&sled::Tree) -> Result<(), StateMachineError>,
    ) -> Result<(), StateMachineError> {
        let _order = self.shared.write_order.lock().map_err(poisoned)?;
        {
            let mut pending = self.shared.lock()?;
            pending.writes.clear();
            pending.bytes = 0;
            pending.applied = None;
            self.shared.drained.notify_all();
        }
        replace(&self.shared.tree)
    }
}

impl Drop for ImageWriter {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.shared.pending.lock() {
            pending.stop = true;
        }
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Err(error) = self.shared.tree.flush() {
            tracing::warn!(%error, "flushing sled at shutdown failed; the log replays the difference at start");
        }
    }
}

#[cfg(test)]
#[path = "image_writer_test.rs"]
mod tests;
