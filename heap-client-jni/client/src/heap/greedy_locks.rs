//! The greedy lock table shared by the client's threads, its change-stream watcher (which
//! delivers recalls) and its releaser task (which gives recalled idle locks back): the table
//! behind a mutex, a `Notify` that wakes local threads waiting for any lock after every change,
//! and one that wakes the releaser when idle recalled locks are waiting to go back.

use std::sync::Arc;
use std::sync::Mutex;

use tokio::sync::Notify;

use super::async_commits::AsyncCommits;
use super::error::HeapError;
use super::greedy::Grant;
use super::greedy::GreedyError;
use super::greedy::GreedyTable;
use super::greedy::Mode;
use super::greedy::Step;
use super::greedy::GREEDY_THREAD;
use crate::session::Session;

#[derive(Default)]
pub struct GreedyLocks {
    table: Mutex<GreedyTable>,
    /// Woken after every change of the table: local threads waiting for a lock look again.
    pub changed: Notify,
    /// Woken when recalled locks nobody local holds are waiting to be given back.
    release_wanted: Notify,
}

impl GreedyLocks {
    /// Runs `change` on the table, then wakes whoever that may concern.
    pub fn with<R>(&self, change: impl FnOnce(&mut GreedyTable) -> R) -> Result<R, HeapError> {
        self.change(change, true)
    }

    /// `GreedyTable::try_take`. Only a reader taking the lock can let the next waiter in (another
    /// reader); anything else it does leaves the waiters where they were, so it wakes nobody (a
    /// wake-up here would wake the caller's own wait at once, and waiting threads would spin).
    pub fn try_take(&self, name: &str, thread: u64, mode: Mode) -> Result<Result<Step, GreedyError>, HeapError> {
        self.change(
            |table| {
                let step = table.try_take(name, thread, mode);
                let wakes = matches!(step, Ok(Step::Taken(Grant { mode: Mode::Read, .. })));
                (step, wakes)
            },
            false,
        )
        .map(|(step, wakes)| {
            if wakes {
                self.changed.notify_waiters();
            }
            step
        })
    }

    fn change<R>(&self, change: impl FnOnce(&mut GreedyTable) -> R, wake: bool) -> Result<R, HeapError> {
        let (result, releases) = {
            let mut table = self
                .table
                .lock()
                .map_err(|_| HeapError::Internal("the greedy lock table was poisoned by a panic".into()))?;
            let result = change(&mut table);
            (result, table.has_to_release())
        };
        if wake {
            self.changed.notify_waiters();
        }
        if releases {
            self.release_wanted.notify_one();
        }
        Ok(result)
    }

    /// Recalls `names` (the change stream reached `index` and named them contended).
    pub fn recall(&self, names: &[String], index: u64) {
        if names.is_empty() {
            return;
        }
        let _ = self.with(|table| names.iter().for_each(|name| table.recall(name, index)));
    }

    /// Recalls every lock: the change stream may have missed recalls up to `index`.
    pub fn recall_all(&self, index: u64) {
        let _ = self.with(|table| table.recall_all(index));
    }
}

/// The client's releaser: gives recalled locks that no local thread holds back to the cluster.
pub async fn run_releaser(locks: Arc<GreedyLocks>, session: Arc<Session>, commits: Arc<AsyncCommits>) {
    loop {
        locks.release_wanted.notified().await;
        let Ok(batch) = locks.with(|table| table.take_to_release()) else { return };
        for (name, _grant) in batch {
            give_back(&locks, &session, &commits, &name).await;
        }
    }
}

/// Releases the session's hold of `name`, after every queued asynchronous section (so the next
/// holder sees them); the table then counts it released whatever the answer:
/// a refusal means the session no longer held it (its lease ended), and a cluster that cannot be
/// reached for the whole request deadline has let the session's lease run out too.
pub async fn give_back(locks: &GreedyLocks, session: &Session, commits: &AsyncCommits, name: &str) {
    commits.drained().await;
    if let Err(error) = session.unlock(name, GREEDY_THREAD, None).await {
        tracing::warn!(lock = name, %error, "giving a greedy lock back failed; the session's lease frees it");
    }
    let _ = locks.with(|table| table.released(name));
}
