//! The purge worker: a dedicated thread that makes purges durable off Raft's path.
//!
//! openraft purges the log right after a snapshot, from its core loop. Done inline, the purge
//! point's fsync, the unlinks and the directory fsync ran under the log's state lock while the
//! disk was still flushing the snapshot (800 MB at 10 million objects): the node missed heartbeats
//! for seconds. Now `purge` changes the in-memory state at once and queues the disk work here.
//!
//! Architecture invariants: jobs run in the order they were queued, so the durable purge point
//! never goes back; a job's segment files are unlinked only after its purge point is durable, so
//! whatever a crash leaves on disk is the log before the purge or a later state, never a gap
//! (recovery skips entries at or below the purge point). A failure fails the store for good.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::disk;
use super::error::LogError;
use super::meta_file;
use super::meta_file::PURGED_FILE_NAME;
use super::segment;
use super::stats::Counters;
use crate::types::LogId;

/// Purges that may wait for the worker; `purge` blocks when it is full (the disk is that far
/// behind), which keeps the order.
pub(crate) const PURGE_QUEUE_CAPACITY: usize = 64;

const _: () = assert!(PURGE_QUEUE_CAPACITY >= 1);

const PURGER_THREAD_NAME: &str = "raft-log-purger";

/// One purge's disk work, or (with no purge point) a barrier that only reports back.
pub(crate) struct PurgeJob {
    pub(crate) purged: Option<LogId>,
    pub(crate) removed_paths: Vec<PathBuf>,
    /// Told the outcome once the job (and every job before it) is done.
    pub(crate) done: Option<mpsc::SyncSender<Result<(), ()>>>,
}

/// Handle of the purge thread. Dropping it lets the thread finish the queue, then joins it.
pub(crate) struct Purger {
    dir: PathBuf,
    sender: Option<mpsc::SyncSender<PurgeJob>>,
    thread: Option<JoinHandle<()>>,
}

impl Purger {
    pub(crate) fn start(dir: PathBuf, counters: Arc<Counters>, failed: Arc<AtomicBool>) -> io::Result<Purger> {
        let (sender, receiver) = mpsc::sync_channel(PURGE_QUEUE_CAPACITY);
        let thread_dir = dir.clone();
        let thread = std::thread::Builder::new()
            .name(PURGER_THREAD_NAME.to_string())
            .spawn(move || run(&receiver, &thread_dir, &counters, &failed))?;
        Ok(Purger { dir, sender: Some(sender), thread: Some(thread) })
    }

    /// Queues `job`; blocks while the queue is full. Fails if the thread is gone.
    pub(crate) fn submit(&self, job: PurgeJob) -> Result<(), LogError> {
        let sender = self.sender.as_ref().ok_or_else(|| self.failed())?;
        sender.send(job).map_err(|_| self.failed())
    }

    fn failed(&self) -> LogError {
        LogError::Failed { dir: self.dir.clone() }
    }

    /// Queues `job` and waits until it and every job before it are on disk.
    pub(crate) fn submit_and_wait(&self, mut job: PurgeJob) -> Result<(), LogError> {
        let (done, outcome) = mpsc::sync_channel(1);
        job.done = Some(done);
        self.submit(job)?;
        // The thread logged the reason of a failure and failed the store.
        match outcome.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(self.failed()),
        }
    }
}

impl Drop for Purger {
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the log purge thread panicked");
            }
        }
    }
}

fn run(receiver: &mpsc::Receiver<PurgeJob>, dir: &std::path::Path, counters: &Counters, failed: &AtomicBool) {
    while let Ok(job) = receiver.recv() {
        let outcome = if failed.load(Ordering::SeqCst) {
            Err(())
        } else {
            apply(&job, dir, counters).map_err(|error| {
                failed.store(true, Ordering::SeqCst);
                tracing::error!(%error, "a log purge failed on disk; the log store now refuses writes");
            })
        };
        if let Some(done) = job.done {
            // The waiter may have given up; nothing else to tell.
            let _ = done.send(outcome);
        }
    }
}

/// The purge point made durable, then the files unlinked and the directory synced.
fn apply(job: &PurgeJob, dir: &std::path::Path, counters: &Counters) -> Result<(), LogError> {
    let Some(purged) = &job.purged else {
        return Ok(());
    };
    meta_file::write_meta(dir, PURGED_FILE_NAME, purged, counters)?;
    if !job.removed_paths.is_empty() {
        for path in &job.removed_paths {
            segment::remove_segment_file(path)?;
        }
        disk::sync_dir(dir, counters).map_err(|e| LogError::io("syncing", dir, e))?;
    }
    Ok(())
}
