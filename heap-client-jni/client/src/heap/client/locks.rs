//! Cluster locks for the application's threads, greedy (`greedy.rs`): the session keeps a cluster
//! lock its threads released, so the next `lock` from any of its threads is local; reentrant
//! holds are counted per thread and never sent. A thread's changes under its locks commit at its
//! outermost release, fenced with the grant's token, before `unlock` returns (one commit per
//! critical section, none when nothing changed). Another session's request recalls the lock
//! (the change stream names it); it goes back once no local thread has it.
//!
//! `wait` hands the session's hold to the waiting thread's condition on the cluster (`WaitAs`), so
//! a remote `notify` reaches it; the thread comes back holding the lock as itself ("direct"), and
//! its outermost `unlock` releases that hold with its changes, as before greedy locks.

use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

use proto::heap as pb;
use tokio::sync::oneshot;

use super::lock;
use super::unexpected;
use super::write_lock;
use super::CreatesEnded;
use super::HeapClient;
use super::RootRace;
use super::WATCH_CATCH_UP_MS;
use crate::heap::async_commits::CommitLevel;
use crate::heap::async_commits::Section;
use crate::heap::error::HeapError;
use crate::heap::greedy::Grant;
use crate::heap::greedy::Mode;
use crate::heap::greedy::Step;
use crate::heap::greedy::GREEDY_THREAD;
use crate::heap::greedy_locks::give_back;
use crate::heap::threads::HoldKind;
use crate::heap::threads::REENTRANT_HOLDS_MAX;
use crate::session::LockOutcome;
use crate::tx;

/// A transaction carries at most this many fences (the server's `TRANSACTION_FENCES_MAX`).
const FENCES_PER_COMMIT_MAX: usize = 1_024;

/// Locks with a commit level of their own, at most (`set_commit_level`).
pub const COMMIT_LEVEL_LOCKS_MAX: usize = 4_096;

/// What a thread's outermost release takes out of its state to commit.
struct Released {
    ops: Vec<pb::Op>,
    created: Vec<u64>,
    fences: Vec<(String, u64)>,
    /// The objects as the thread left them (its uncommitted view).
    overlay: Vec<pb::Object>,
}

impl HeapClient {
    /// Acquires cluster lock `name` for `thread`; `timeout_ms` None waits until granted, Some(0)
    /// tries once. Returns false when it timed out.
    pub async fn lock(&self, thread: u64, name: &str, read: bool, timeout_ms: Option<u64>) -> Result<bool, HeapError> {
        self.check_open()?;
        let mode = if read { Mode::Read } else { Mode::Write };
        if self.reenter(thread, name, mode)? {
            return Ok(true);
        }
        let deadline = timeout_ms.map(|ms| Instant::now() + Duration::from_millis(ms));
        loop {
            // Made before looking, so a change between the look and the wait still wakes it.
            let changed = self.greedy.changed.notified();
            let step = self
                .greedy
                .try_take(name, thread, mode)?
                .map_err(|error| HeapError::Rejected(format!("{error}; use fewer threads per lock")))?;
            match step {
                Step::Taken(grant) => {
                    self.taken(thread, name, grant)?;
                    return Ok(true);
                }
                Step::Acquire(mode) => {
                    if !self.acquire(thread, name, mode, deadline).await? {
                        return Ok(false);
                    }
                }
                Step::Release(_) => give_back(&self.greedy, &self.session, &self.async_commits, name).await,
                Step::Wait => {
                    let in_time = match deadline {
                        None => {
                            changed.await;
                            true
                        }
                        Some(deadline) => tokio::time::timeout_at(deadline.into(), changed).await.is_ok(),
                    };
                    if !in_time {
                        self.greedy.with(|table| table.leave_queue(name, thread))?;
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// One more hold of a lock `thread` already has: no I/O. False when it holds no part of it.
    fn reenter(&self, thread: u64, name: &str, mode: Mode) -> Result<bool, HeapError> {
        let mut threads = lock(&self.threads)?;
        let Some(state) = threads.get_mut(&thread) else { return Ok(false) };
        let holds_read = matches!(state.kinds.get(name), Some(HoldKind::Greedy { read: true, .. }));
        let Some(count) = state.holds.get_mut(name) else { return Ok(false) };
        if holds_read && mode == Mode::Write {
            return Err(HeapError::Rejected(format!(
                "lock {name:?} is held for reading by this thread and cannot be upgraded to writing (two upgrading \
                 readers would deadlock); release the read lock first, then lock for writing"
            )));
        }
        if *count >= REENTRANT_HOLDS_MAX {
            return Err(HeapError::Rejected(format!(
                "thread {thread} holds lock {name:?} {count} times, the limit; release it as often as it is taken"
            )));
        }
        *count += 1;
        Ok(true)
    }

    /// The thread took the lock locally under `grant`: its reads reflect the grant from now.
    fn taken(&self, thread: u64, name: &str, grant: Grant) -> Result<(), HeapError> {
        let mut threads = lock(&self.threads)?;
        let state = threads.entry(thread).or_default();
        state.holds.insert(name.to_string(), 1);
        let read = grant.mode == Mode::Read;
        state.kinds.insert(name.to_string(), HoldKind::Greedy { token: grant.token, read });
        state.grant_index = state.grant_index.max(grant.grant_index);
        self.threads_with_state.store(threads.len(), Ordering::SeqCst);
        Ok(())
    }

    /// Asks the cluster for `name` for the session; false when it timed out.
    async fn acquire(&self, thread: u64, name: &str, mode: Mode, deadline: Option<Instant>) -> Result<bool, HeapError> {
        let pb_mode = if mode == Mode::Read { pb::LockMode::Read } else { pb::LockMode::Write };
        let timeout_ms = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()).as_millis() as u64);
        match self.session.lock(name, GREEDY_THREAD, pb_mode, timeout_ms).await {
            Ok(LockOutcome::Granted { token }) => {
                let grant_index = heap_machine::token_log_index(token);
                self.catch_up(grant_index).await?;
                self.greedy.with(|table| table.acquired(name, Grant { mode, token, grant_index }))?;
                Ok(true)
            }
            Ok(LockOutcome::TimedOut) => {
                self.greedy.with(|table| table.acquire_failed(name, thread))?;
                Ok(false)
            }
            Err(error) => {
                self.greedy.with(|table| table.acquire_failed(name, thread))?;
                Err(error.into())
            }
        }
    }

    /// After a grant at `grant_index`: the cache must hold nothing older than the grant.
    async fn catch_up(&self, grant_index: u64) -> Result<(), HeapError> {
        let mut seen = self.seen.clone();
        let caught_up =
            tokio::time::timeout(Duration::from_millis(WATCH_CATCH_UP_MS), seen.wait_for(|seen| *seen >= grant_index))
                .await;
        if !matches!(caught_up, Ok(Ok(_))) {
            // The change stream is behind or broken: forget everything instead.
            write_lock(&self.cache)?.clear();
        }
        Ok(())
    }

    /// Releases one hold; the outermost release commits the thread's pending changes first.
    pub async fn unlock(&self, thread: u64, name: &str) -> Result<(), HeapError> {
        self.check_open()?;
        let kind = {
            let mut threads = lock(&self.threads)?;
            let state = threads.get_mut(&thread).ok_or_else(|| not_held(name, thread))?;
            let count = state.holds.get_mut(name).ok_or_else(|| not_held(name, thread))?;
            if *count > 1 {
                *count -= 1;
                return Ok(());
            }
            *state.kinds.get(name).ok_or_else(|| HeapError::Internal(format!("lock {name:?} held without a kind")))?
        };
        let released = self.end_hold(thread, name)?;
        match kind {
            HoldKind::Greedy { .. } => self.unlock_greedy(thread, name, released).await,
            HoldKind::Direct => self.unlock_direct(thread, name, released).await,
        }
    }

    /// Takes the thread's pending changes and its hold of `name` out of its state.
    fn end_hold(&self, thread: u64, name: &str) -> Result<Released, HeapError> {
        let mut threads = lock(&self.threads)?;
        let state = threads.get_mut(&thread).ok_or_else(|| not_held(name, thread))?;
        let mut fences = state.greedy_fences();
        // The released lock's fence first: it is the one others take next.
        fences.sort_by_key(|(fenced, _)| fenced != name);
        fences.truncate(FENCES_PER_COMMIT_MAX);
        state.holds.remove(name);
        state.kinds.remove(name);
        let released = Released {
            ops: std::mem::take(&mut state.ops),
            created: std::mem::take(&mut state.created),
            fences,
            overlay: std::mem::take(&mut state.overlay).into_values().collect(),
        };
        if state.is_idle() {
            threads.remove(&thread);
            self.threads_with_state.store(threads.len(), Ordering::SeqCst);
        }
        Ok(released)
    }

    /// Commits the changes, fenced (or queues them, at the asynchronous level), then leaves the
    /// lock locally (giving it back if recalled).
    async fn unlock_greedy(&self, thread: u64, name: &str, released: Released) -> Result<(), HeapError> {
        let level = self.commit_level(name)?;
        if level == CommitLevel::Majority && self.greedy.with(|t| t.release_local_if_last(name, thread))?.is_some() {
            // Going back anyway (recalled, or eager after a recent recall): the commit and the
            // release in one entry, as `Unlock { commit }`.
            let unlocked = self.unlock_direct(GREEDY_THREAD, name, released).await;
            self.greedy.with(|table| table.released(name))?;
            unlocked?;
            return self.async_commits.take_failure().map_or(Ok(()), Err);
        }
        let committed = if level == CommitLevel::Async && !released.ops.is_empty() {
            let section = Section {
                lock: name.to_string(),
                ops: released.ops,
                fences: released.fences,
                created: released.created,
                overlay: released.overlay,
            };
            self.async_commits.enqueue(section).await
        } else {
            self.commit_fenced(name, released).await
        };
        if matches!(&committed, Err(HeapError::Conflict(_))) {
            // A stale fence: the session lost the lock (its lease ran out while cut off).
            self.greedy.with(|table| {
                table.release_local(name, thread);
                table.released(name);
            })?;
            return committed;
        }
        if self.greedy.with(|table| table.release_local(name, thread))?.is_some() {
            give_back(&self.greedy, &self.session, &self.async_commits, name).await;
        }
        committed?;
        // An earlier asynchronous section refused meanwhile is this caller's to hear about.
        self.async_commits.take_failure().map_or(Ok(()), Err)
    }

    /// Sets how critical sections under lock `name` commit, for this client (`CommitLevel`);
    /// `Majority` (the default) forgets the setting.
    pub fn set_commit_level(&self, name: &str, level: CommitLevel) -> Result<(), HeapError> {
        self.check_open()?;
        let mut levels = lock(&self.commit_levels)?;
        if level == CommitLevel::Majority {
            levels.remove(name);
        } else {
            if levels.len() >= COMMIT_LEVEL_LOCKS_MAX && !levels.contains_key(name) {
                return Err(HeapError::Rejected(format!(
                    "more than {COMMIT_LEVEL_LOCKS_MAX} locks with their own commit level; set it on fewer locks"
                )));
            }
            levels.insert(name.to_string(), level);
        }
        Ok(())
    }

    /// Whether this client keeps cluster locks whose names start with `name_prefix` after its
    /// threads released them (the default) or gives each back in the same entry as the commit of
    /// its last local holder (`GreedyTable::set_kept`). From each lock's next grant.
    pub fn set_locks_kept(&self, name_prefix: &str, kept: bool) -> Result<(), HeapError> {
        self.check_open()?;
        if name_prefix.len() as u64 > heap_machine::NAME_LENGTH_BYTES_MAX {
            return Err(HeapError::Rejected(format!(
                "a lock-name prefix of {} bytes is longer than any lock name ({} bytes at most); shorten it",
                name_prefix.len(),
                heap_machine::NAME_LENGTH_BYTES_MAX
            )));
        }
        self.greedy
            .with(|table| table.set_kept(name_prefix, kept))?
            .map_err(|error| HeapError::Rejected(error.to_string()))
    }

    fn commit_level(&self, name: &str) -> Result<CommitLevel, HeapError> {
        Ok(lock(&self.commit_levels)?.get(name).copied().unwrap_or_default())
    }

    /// The thread's changes as one transaction fenced with its greedy locks' tokens.
    async fn commit_fenced(&self, name: &str, released: Released) -> Result<(), HeapError> {
        if released.ops.is_empty() {
            return Ok(());
        }
        let mut transaction = tx::transaction(released.ops);
        transaction.fences = released.fences.into_iter().map(|(lock, token)| pb::Fence { lock, token }).collect();
        let committed = self.commit_now(transaction).await;
        let outcome = match &committed {
            Ok(()) => CreatesEnded::Committed,
            Err(RootRace::Error(HeapError::Rejected(_) | HeapError::Conflict(_))) => CreatesEnded::Refused,
            Err(_) => CreatesEnded::Unknown,
        };
        self.creates_ended(&released.created, outcome)?;
        match committed {
            Ok(()) => Ok(()),
            Err(RootRace::Error(error)) => Err(error.discarded_under(name)),
            Err(RootRace::Exists(id)) => Err(HeapError::Internal(format!("unexpected root conflict on object {id}"))),
        }
    }

    /// Releases the cluster hold of `thread` (the thread itself after a `wait`, or the session's
    /// greedy hold), committing the changes with it in the same entry.
    async fn unlock_direct(&self, thread: u64, name: &str, released: Released) -> Result<(), HeapError> {
        // The release lets others in: every queued asynchronous section goes first.
        self.async_commits.drained().await;
        let written: Vec<u64> = released.overlay.iter().map(|object| object.id).collect();
        let commit = if released.ops.is_empty() {
            None
        } else {
            let mut transaction = tx::transaction(released.ops);
            transaction.fences = released.fences.into_iter().map(|(lock, token)| pb::Fence { lock, token }).collect();
            Some(transaction)
        };
        let had_commit = commit.is_some();
        let response = match self.session.unlock(name, thread, commit).await {
            Ok(response) => response,
            Err(error) => {
                self.creates_ended(&released.created, CreatesEnded::Unknown)?;
                return Err(error.into());
            }
        };
        match response.result {
            Some(pb::session_response::Result::Unlocked(unlocked)) => {
                self.creates_ended(&released.created, CreatesEnded::Committed)?;
                self.after_write(unlocked.commit.map(|c| c.log_index).unwrap_or(0), &written)
            }
            Some(pb::session_response::Result::Rejected(r)) => {
                self.creates_ended(&released.created, CreatesEnded::Refused)?;
                if had_commit {
                    // The changes were refused, so the lock is still held: release it without
                    // them, so a bad change cannot wedge the lock, and tell the caller what was lost.
                    let _ = self.session.unlock(name, thread, None).await;
                }
                Err(HeapError::from_rejection(&r).discarded_under(name))
            }
            other => Err(unexpected("unlock", &other)),
        }
    }

    /// Waits on lock `name`'s condition: commits the thread's pending changes, releases the lock,
    /// waits for a notify (or the timeout) and holds the lock again on return (as itself, on the
    /// cluster). Returns whether it was notified.
    pub async fn wait(&self, thread: u64, name: &str, timeout_ms: Option<u64>) -> Result<bool, HeapError> {
        self.check_open()?;
        let (kind, count) = {
            let threads = lock(&self.threads)?;
            let state = threads.get(&thread).ok_or_else(|| not_held(name, thread))?;
            let count = *state.holds.get(name).ok_or_else(|| not_held(name, thread))?;
            let kind = *state.kinds.get(name).ok_or_else(|| not_held(name, thread))?;
            (kind, count)
        };
        if matches!(kind, HoldKind::Greedy { read: true, .. }) {
            return Err(HeapError::IllegalState(format!(
                "thread {thread} holds lock {name:?} for reading; wait needs it held for writing"
            )));
        }
        // Others must see these changes once the lock passes to them during the wait (queued
        // asynchronous sections first: `commit_now` waits for them).
        let released = self.end_hold(thread, name)?;
        let holder = match kind {
            HoldKind::Greedy { .. } => {
                self.commit_fenced(name, released).await?;
                self.greedy.with(|table| table.begin_wait(name, thread))?.ok_or_else(|| not_held(name, thread))?;
                GREEDY_THREAD
            }
            HoldKind::Direct => {
                self.commit_fenced(name, Released { fences: Vec::new(), ..released }).await?;
                thread
            }
        };
        // The wait lets others in: every queued asynchronous section goes first.
        self.async_commits.drained().await;
        let response = self.wait_as(thread, name, holder, timeout_ms).await?;
        match response.result {
            Some(pb::session_response::Result::WaitDone(done)) => {
                // Back under the lock at a new grant: the same rule as after a grant.
                self.catch_up(heap_machine::token_log_index(done.token)).await?;
                let mut threads = lock(&self.threads)?;
                let state = threads.entry(thread).or_default();
                state.holds.insert(name.to_string(), count);
                state.kinds.insert(name.to_string(), HoldKind::Direct);
                state.grant_index = state.grant_index.max(heap_machine::token_log_index(done.token));
                self.threads_with_state.store(threads.len(), Ordering::SeqCst);
                Ok(done.notified)
            }
            Some(pb::session_response::Result::Rejected(r)) => Err(HeapError::from_rejection(&r)),
            other => Err(unexpected("wait", &other)),
        }
    }

    /// Sends the Wait, as `thread` for `holder`'s hold. For the session's greedy hold, the table
    /// learns the hold is gone as soon as the Wait is applied (its first, Pending answer), so the
    /// session's other threads can take the lock meanwhile; a Wait refused leaves the hold with
    /// the session, which then gives it back.
    async fn wait_as(
        &self,
        thread: u64,
        name: &str,
        holder: u64,
        timeout_ms: Option<u64>,
    ) -> Result<pb::SessionResponse, HeapError> {
        let holder_thread = (holder != thread).then_some(holder);
        let command =
            pb::session_request::Command::Wait(pb::Wait { name: name.into(), thread, timeout_ms, holder_thread });
        if holder != GREEDY_THREAD {
            return Ok(self.session.call(command).await?);
        }
        let (pending_sender, pending) = oneshot::channel();
        let handed_over = async {
            let pending_seen = pending.await.is_ok();
            if pending_seen {
                let _ = self.greedy.with(|table| table.released(name));
            }
            pending_seen
        };
        let (response, pending_seen) =
            tokio::join!(self.session.call_noting_pending(command, pending_sender), handed_over);
        if !pending_seen {
            let done =
                matches!(&response, Ok(r) if matches!(r.result, Some(pb::session_response::Result::WaitDone(_))));
            if done {
                self.greedy.with(|table| table.released(name))?;
            } else {
                give_back(&self.greedy, &self.session, &self.async_commits, name).await;
            }
        }
        Ok(response?)
    }

    /// Wakes the first (or every) thread waiting on lock `name`'s condition; the caller must hold
    /// the lock (the notify is sent as the session's greedy hold when it is held that way).
    pub async fn notify(&self, thread: u64, name: &str, all: bool) -> Result<(), HeapError> {
        self.check_open()?;
        let kind = lock(&self.threads)?.get(&thread).and_then(|state| state.kinds.get(name).copied());
        let as_thread = match kind.ok_or_else(|| not_held(name, thread))? {
            HoldKind::Greedy { .. } => GREEDY_THREAD,
            HoldKind::Direct => thread,
        };
        let command = pb::session_request::Command::Notify(pb::Notify { name: name.into(), thread: as_thread, all });
        let response = self.session.call(command).await?;
        match response.result {
            Some(pb::session_response::Result::Done(_)) => Ok(()),
            Some(pb::session_response::Result::Rejected(r)) => Err(HeapError::from_rejection(&r)),
            other => Err(unexpected("notify", &other)),
        }
    }

    /// Cluster locks this client's session holds greedily now (for tests and measurements).
    pub fn greedy_locks_held(&self) -> usize {
        self.greedy.with(|table| table.held_count()).unwrap_or(0)
    }
}

fn not_held(name: &str, thread: u64) -> HeapError {
    HeapError::IllegalState(format!("thread {thread} does not hold cluster lock {name:?}; lock it first"))
}
