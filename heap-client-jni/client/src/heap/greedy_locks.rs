//! The greedy lock table shared by the client's threads, its change-stream watcher (which
//! delivers recalls) and its releaser task (which gives back recalled idle locks and the least
//! recently used idle locks past `GREEDY_IDLE_LOCKS_MAX`): the table behind a mutex, a `Notify`
//! that wakes local threads waiting for any lock after every change, and one that wakes the
//! releaser when such locks are waiting to go back.

use std::sync::Arc;
use std::sync::Mutex;

use futures::StreamExt;
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

/// Give-backs the releaser has in flight at once. Evictions come one per release of a new lock, so
/// on a JVM whose threads take new names in parallel they arrive as fast as those threads get
/// grants; one at a time the releaser would fall behind (and `EVICTIONS_PENDING_MAX` would then
/// hold the threads back). Each is one session request, well inside the server's reply table.
pub const GIVE_BACKS_IN_FLIGHT_MAX: usize = 16;
const _: () = assert!(GIVE_BACKS_IN_FLIGHT_MAX as u64 <= heap_machine::REPLIES_PER_SESSION_MAX / 16);

#[derive(Default)]
pub struct GreedyLocks {
    table: Mutex<GreedyTable>,
    /// Woken after every change of the table: local threads waiting for a lock look again.
    pub changed: Notify,
    /// Woken when recalled or evicted locks nobody local holds are waiting to be given back.
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

/// The client's releaser: gives recalled locks that no local thread holds, and idle locks evicted
/// for the bound, back to the cluster, up to `GIVE_BACKS_IN_FLIGHT_MAX` at once.
pub async fn run_releaser(locks: Arc<GreedyLocks>, session: Arc<Session>, commits: Arc<AsyncCommits>) {
    loop {
        locks.release_wanted.notified().await;
        let Ok(batch) = locks.with(|table| table.take_to_release()) else { return };
        futures::stream::iter(batch)
            .for_each_concurrent(GIVE_BACKS_IN_FLIGHT_MAX, |(name, _grant)| {
                let (locks, session, commits) = (&locks, &session, &commits);
                async move { give_back(locks, session, commits, &name).await }
            })
            .await;
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
