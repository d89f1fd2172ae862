//! The asynchronous commit level (issue 12): a critical section under a lock set to it returns from
//! `unlock` as soon as its changes are queued; one committer task sends the queue in order,
//! several sections per transaction, each transaction fenced with the tokens of the locks its
//! sections held. What is promised: sections commit whole and in the order their `unlock`s
//! returned; this client's threads see queued changes at once (the overlay); other sessions see
//! them once committed, and a lock goes back to the cluster (a recall, an upgrade, a `wait`) only
//! after every queued section is committed, so the next holder anywhere sees them. A crash loses
//! the sections not yet committed, never part of one and never one without those before it; a
//! refused transaction (a lock lost at lease end) discards it and everything queued after it, and
//! the next call that commits or gives a lock back reports that.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::RwLock;

use proto::heap as pb;
use tokio::sync::Notify;

use super::cache::Cache;
use super::error::HeapError;
use super::holds::HoldTable;
use super::write_effects::after_write;
use super::write_effects::creates_ended;
use super::write_effects::CreatesEnded;
use crate::session::Session;
use crate::tx;

/// Changes queued and not yet committed, in ops: past it, `unlock` waits for the committer.
pub const ASYNC_QUEUED_OPS_MAX: usize = 100_000;
/// Ops per transaction the committer sends (whole sections only; one larger section goes alone).
pub const ASYNC_BATCH_OPS_MAX: usize = 10_000;
/// Fences per transaction (the server's `TRANSACTION_FENCES_MAX`).
const ASYNC_BATCH_FENCES_MAX: usize = 1_024;

/// How a lock's critical sections commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitLevel {
    /// Durable on a majority before `unlock` returns (the default).
    #[default]
    Majority,
    /// `unlock` returns once the changes are queued (see the module doc).
    Async,
}

/// One released critical section's changes.
pub struct Section {
    pub lock: String,
    pub ops: Vec<pb::Op>,
    pub fences: Vec<(String, u64)>,
    /// Objects its ops create: the hold table learns how their creation ended.
    pub created: Vec<u64>,
    /// The objects as the section left them: this client's reads see them until committed.
    pub overlay: Vec<pb::Object>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<(u64, Section)>,
    queued_ops: usize,
    /// Sequence numbers: sections `1..next_seq` were queued, `1..=done_seq` committed or dropped.
    next_seq: u64,
    done_seq: u64,
    overlay: BTreeMap<u64, (u64, Arc<pb::Object>)>,
    /// A refused or failed transaction, until a caller is told.
    failure: Option<HeapError>,
}

impl State {
    fn drained(&self) -> bool {
        self.done_seq + 1 >= self.next_seq
    }
}

/// Where the committer sends transactions: what a synchronous commit updates, shared.
pub struct CommitSink {
    pub session: Arc<Session>,
    pub cache: Arc<RwLock<Cache>>,
    pub holds: Arc<Mutex<HoldTable>>,
    pub min_read_index: Arc<AtomicU64>,
}

#[derive(Default)]
pub struct AsyncCommits {
    state: Mutex<State>,
    /// `state.overlay.len()`, so reads skip the mutex while nothing is queued.
    overlay_len: AtomicUsize,
    /// Wakes the committer.
    queued: Notify,
    /// Wakes callers waiting for room in the queue or for it to drain.
    progressed: Notify,
}

impl AsyncCommits {
    fn state(&self) -> Result<MutexGuard<'_, State>, HeapError> {
        self.state.lock().map_err(|_| HeapError::Internal("the async commit queue was poisoned by a panic".into()))
    }

    /// Queues `section` (waiting for room); a failure not yet reported is returned instead, and
    /// the section is dropped with the rest.
    pub async fn enqueue(&self, section: Section) -> Result<(), HeapError> {
        let mut section = Some(section);
        loop {
            let progressed = self.progressed.notified();
            {
                let mut state = self.state()?;
                if let Some(failure) = state.failure.take() {
                    return Err(failure);
                }
                let ops = section.as_ref().map_or(0, |s| s.ops.len());
                if state.queue.is_empty() || state.queued_ops + ops <= ASYNC_QUEUED_OPS_MAX {
                    let section = section.take().expect("queued once");
                    state.next_seq = state.next_seq.max(1);
                    let seq = state.next_seq;
                    state.next_seq += 1;
                    for object in &section.overlay {
                        state.overlay.insert(object.id, (seq, Arc::new(object.clone())));
                    }
                    state.queued_ops += ops;
                    state.queue.push_back((seq, section));
                    self.overlay_len.store(state.overlay.len(), Ordering::SeqCst);
                    break;
                }
            }
            progressed.await;
        }
        self.queued.notify_one();
        Ok(())
    }

    /// The queued version of object `id`, if a queued section changed it.
    pub fn overlay_get(&self, id: u64) -> Option<Arc<pb::Object>> {
        if self.overlay_len.load(Ordering::SeqCst) == 0 {
            return None;
        }
        self.state().ok()?.overlay.get(&id).map(|(_, object)| Arc::clone(object))
    }

    /// Waits until every section queued so far is committed or dropped.
    pub async fn drained(&self) {
        loop {
            let progressed = self.progressed.notified();
            match self.state() {
                Ok(state) if !state.drained() => {}
                _ => return,
            }
            progressed.await;
        }
    }

    /// A refused or failed asynchronous commit not yet reported, if any (reported once).
    pub fn take_failure(&self) -> Option<HeapError> {
        self.state().ok()?.failure.take()
    }

    /// The next sections to send together, oldest first.
    fn next_batch(&self) -> Vec<(u64, Section)> {
        let Ok(mut state) = self.state() else { return Vec::new() };
        let mut batch = Vec::new();
        let (mut ops, mut fences) = (0, BTreeSet::new());
        while let Some((_, next)) = state.queue.front() {
            let more_fences = next.fences.iter().filter(|f| !fences.contains(*f)).count();
            let fits =
                ops + next.ops.len() <= ASYNC_BATCH_OPS_MAX && fences.len() + more_fences <= ASYNC_BATCH_FENCES_MAX;
            if !batch.is_empty() && !fits {
                break;
            }
            let (seq, section) = state.queue.pop_front().expect("front exists");
            ops += section.ops.len();
            fences.extend(section.fences.iter().cloned());
            state.queued_ops -= section.ops.len();
            batch.push((seq, section));
        }
        batch
    }

    /// Records how the batch up to `last_seq` ended: committed, or refused with everything after.
    fn finish(&self, last_seq: u64, outcome: Result<(), (HeapError, String)>) {
        let Ok(mut state) = self.state() else { return };
        match outcome {
            Ok(()) => {
                state.overlay.retain(|_, (seq, _)| *seq > last_seq);
                state.done_seq = last_seq;
            }
            Err((error, lock)) => {
                let dropped = state.queue.len();
                state.queue.clear();
                state.queued_ops = 0;
                state.overlay.clear();
                state.done_seq = state.next_seq.saturating_sub(1);
                state.failure = Some(error.discarded_under(&lock).with_note(&format!(
                    "asynchronous commit refused; {dropped} critical sections queued after it were discarded too"
                )));
            }
        }
        self.overlay_len.store(state.overlay.len(), Ordering::SeqCst);
        drop(state);
        self.progressed.notify_waiters();
    }
}

/// The committer: sends queued sections in order until the client is dropped.
pub async fn run_committer(commits: Arc<AsyncCommits>, sink: CommitSink) {
    loop {
        commits.queued.notified().await;
        loop {
            let batch = commits.next_batch();
            let Some((last_seq, last)) = batch.last().map(|(seq, s)| (*seq, s.lock.clone())) else { break };
            let outcome = sink.commit(batch).await.map_err(|error| (error, last));
            commits.finish(last_seq, outcome);
        }
    }
}

impl CommitSink {
    /// Commits `batch` as one transaction; on success the written objects leave the cache and
    /// reads reflect the commit.
    async fn commit(&self, batch: Vec<(u64, Section)>) -> Result<(), HeapError> {
        let mut ops = Vec::new();
        let mut fences = BTreeSet::new();
        let mut created = Vec::new();
        let mut written = BTreeSet::new();
        for (_, section) in batch {
            written.extend(section.overlay.iter().map(|object| object.id));
            ops.extend(section.ops);
            fences.extend(section.fences);
            created.extend(section.created);
        }
        let mut transaction = tx::transaction(ops);
        transaction.fences = fences.into_iter().map(|(lock, token)| pb::Fence { lock, token }).collect();
        let response = self.session.commit(transaction).await;
        let ended = |outcome| creates_ended(&self.holds, &created, outcome);
        match response.map(|r| r.result) {
            Ok(Some(pb::session_response::Result::Committed(committed))) => {
                ended(CreatesEnded::Committed)?;
                let written: Vec<u64> = written.into_iter().collect();
                after_write(&self.min_read_index, &self.cache, committed.log_index, &written)
            }
            Ok(Some(pb::session_response::Result::Rejected(rejection))) => {
                ended(CreatesEnded::Refused)?;
                Err(HeapError::from_rejection(&rejection))
            }
            Ok(other) => {
                ended(CreatesEnded::Unknown)?;
                Err(HeapError::Internal(format!("unexpected answer to an asynchronous commit: {other:?}")))
            }
            Err(error) => {
                ended(CreatesEnded::Unknown)?;
                Err(error.into())
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "async_commits_test.rs"]
mod tests;
