//! The group-commit flusher: a dedicated thread that takes every pending append callback, calls
//! fdatasync once per segment they wrote to, then completes them all in order.
//!
//! Architecture invariant: an append callback is completed with `Ok` only after an fdatasync that
//! started after the append's `pwrite` returned. A failed fdatasync poisons the store forever
//! (after a failed fsync Linux may drop the dirty pages and report success next time), so every
//! later callback completes with an error too.

use std::fs::File;
use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use openraft::storage::IOFlushed;
use tokio::sync::mpsc;

use super::disk;
use super::stats::Counters;
use crate::types::TypeConfig;

/// Append callbacks that may wait for the flusher; `append` waits (asynchronously) when it is full.
pub(crate) const FLUSH_QUEUE_CAPACITY: usize = 1024;

/// Callbacks completed by one fdatasync at most.
pub(crate) const FLUSH_BATCH_CALLBACKS_MAX: usize = FLUSH_QUEUE_CAPACITY;

const _: () = assert!(FLUSH_QUEUE_CAPACITY >= 1);
const _: () = assert!(FLUSH_BATCH_CALLBACKS_MAX >= 1);

const FLUSHER_THREAD_NAME: &str = "raft-log-flusher";

/// One append waiting to be durable: the segment it ended in (None if the log has no segment)
/// and openraft's callback.
pub(crate) struct FlushRequest {
    pub(crate) file: Option<Arc<File>>,
    pub(crate) callback: IOFlushed<TypeConfig>,
}

/// Handle of the flusher thread. Dropping it lets the thread finish the queue, then joins it.
pub(crate) struct Flusher {
    sender: Option<mpsc::Sender<FlushRequest>>,
    thread: Option<JoinHandle<()>>,
    /// Requests submitted whose callbacks have not completed yet.
    queued: Arc<AtomicUsize>,
}

/// Unit tests pause the flusher after it takes its first callback of a batch and before it syncs,
/// to observe a callback that is queued but not yet durable, or to let many queue up.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct SyncGate {
    paused: std::sync::Mutex<bool>,
    resumed: std::sync::Condvar,
}

#[cfg(test)]
impl SyncGate {
    pub(crate) fn pause(&self) {
        *self.paused.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
    }

    pub(crate) fn resume(&self) {
        *self.paused.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = false;
        self.resumed.notify_all();
    }

    fn wait_while_paused(&self) {
        let mut paused = self.paused.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while *paused {
            paused = self.resumed.wait(paused).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

impl Flusher {
    pub(crate) fn start(
        counters: Arc<Counters>,
        failed: Arc<AtomicBool>,
        #[cfg(test)] gate: Arc<SyncGate>,
    ) -> io::Result<Flusher> {
        let (sender, receiver) = mpsc::channel(FLUSH_QUEUE_CAPACITY);
        let queued = Arc::new(AtomicUsize::new(0));
        let thread_queued = Arc::clone(&queued);
        let thread = std::thread::Builder::new().name(FLUSHER_THREAD_NAME.to_string()).spawn(move || {
            run(
                receiver,
                &counters,
                &failed,
                &thread_queued,
                #[cfg(test)]
                &gate,
            )
        })?;
        Ok(Flusher { sender: Some(sender), thread: Some(thread), queued })
    }

    /// True when every submitted callback has completed: a sync done by the caller now cannot
    /// complete out of order with an earlier one.
    pub(crate) fn is_idle(&self) -> bool {
        self.queued.load(Ordering::SeqCst) == 0
    }

    /// Queues `request`; waits while the queue is full.
    pub(crate) async fn submit(&self, request: FlushRequest) -> io::Result<()> {
        let Some(sender) = &self.sender else {
            return Err(io::Error::other("the log flusher is shut down"));
        };
        self.queued.fetch_add(1, Ordering::SeqCst);
        match sender.send(request).await {
            Ok(()) => Ok(()),
            Err(mpsc::error::SendError(request)) => {
                self.queued.fetch_sub(1, Ordering::SeqCst);
                let error = io::Error::other("the log flusher thread is gone; restart the node");
                request.callback.io_completed(Err(io::Error::other("the log flusher thread is gone")));
                Err(error)
            }
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the log flusher thread panicked");
            }
        }
    }
}

fn run(
    mut receiver: mpsc::Receiver<FlushRequest>,
    counters: &Counters,
    failed: &AtomicBool,
    queued: &AtomicUsize,
    #[cfg(test)] gate: &SyncGate,
) {
    let mut batch: Vec<FlushRequest> = Vec::with_capacity(FLUSH_BATCH_CALLBACKS_MAX);
    while let Some(first) = receiver.blocking_recv() {
        Counters::add(&counters.flush_request_count, 1);
        #[cfg(test)]
        gate.wait_while_paused();

        batch.push(first);
        while batch.len() < FLUSH_BATCH_CALLBACKS_MAX {
            match receiver.try_recv() {
                Ok(request) => {
                    Counters::add(&counters.flush_request_count, 1);
                    batch.push(request);
                }
                Err(_) => break,
            }
        }

        let result = sync_batch(&batch, counters, failed);
        Counters::add(&counters.flush_batch_count, 1);
        for request in batch.drain(..) {
            let outcome = match &result {
                Ok(()) => Ok(()),
                Err(error) => Err(io::Error::new(error.kind(), error.to_string())),
            };
            // Counted first, so whoever sees the completion also sees the count.
            Counters::add(&counters.flushed_callback_count, 1);
            request.callback.io_completed(outcome);
            // Only after the completion: until then an inline sync in `append` could report a
            // later entry ahead of this one.
            queued.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// fdatasync of every distinct segment in the batch (almost always one), unless the store failed.
fn sync_batch(batch: &[FlushRequest], counters: &Counters, failed: &AtomicBool) -> io::Result<()> {
    let mut synced: Vec<&Arc<File>> = Vec::new();
    for file in batch.iter().filter_map(|request| request.file.as_ref()) {
        if synced.iter().any(|synced_file| Arc::ptr_eq(synced_file, file)) {
            continue;
        }
        sync_file(Some(file), counters, failed)?;
        synced.push(file);
    }
    sync_file(None, counters, failed)
}

/// fdatasync of `file` (if any), unless the store failed; a failure fails the store for good.
pub(crate) fn sync_file(file: Option<&Arc<File>>, counters: &Counters, failed: &AtomicBool) -> io::Result<()> {
    if failed.load(Ordering::SeqCst) {
        return Err(io::Error::other("the log store failed earlier and refuses writes; restart the node"));
    }
    if let Some(file) = file {
        if let Err(error) = disk::sync_data(file, counters) {
            failed.store(true, Ordering::SeqCst);
            tracing::error!(%error, "fdatasync of a log segment failed; the log store now refuses writes");
            return Err(error);
        }
    }
    Ok(())
}
