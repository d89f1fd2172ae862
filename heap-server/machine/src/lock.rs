//! One cluster lock: its holders, its FIFO queue and its condition waiters, and the rules that
//! decide who gets it next. Bookkeeping on one lock only; `lock_step.rs` ties it to sessions,
//! replies and the image.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::command::{LockMode, SessionId};
use crate::fencing::fencing_token;
use crate::limits::{HOLDERS_PER_LOCK_MAX, TOKENS_PER_LOG_INDEX};
use crate::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Holder {
    pub session_id: SessionId,
    pub thread: u64,
    pub mode: LockMode,
    /// Reentrant holds; the holder leaves when it reaches 0.
    pub count: u64,
    pub token: u64,
}

/// What a queued waiter that came from the condition resumes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Resume {
    /// The hold count it had when it called Wait.
    pub count: u64,
    /// False when its Wait timed out.
    pub notified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Waiter {
    pub session_id: SessionId,
    pub thread: u64,
    pub mode: LockMode,
    /// The request whose final reply the grant (or timeout) gives.
    pub sequence: u64,
    /// A re-acquiring Wait has none: like a Java monitor, it waits for the lock without limit.
    pub deadline_ms: Option<u64>,
    /// `Some` for a Wait re-acquiring the lock, `None` for a Lock.
    pub resume: Option<Resume>,
}

/// A thread in `Wait`: it holds nothing until it is moved to the queue and granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ConditionWaiter {
    pub session_id: SessionId,
    pub thread: u64,
    pub sequence: u64,
    pub deadline_ms: Option<u64>,
    pub count: u64,
}

impl ConditionWaiter {
    /// The queue entry that re-acquires the write lock for this waiter.
    fn into_waiter(self, notified: bool) -> Waiter {
        Waiter {
            session_id: self.session_id,
            thread: self.thread,
            mode: LockMode::Write,
            sequence: self.sequence,
            deadline_ms: None,
            resume: Some(Resume { count: self.count, notified }),
        }
    }
}

/// A waiter granted from the queue: the final reply of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub session_id: SessionId,
    pub sequence: u64,
    pub reply: Reply,
}

/// The persisted state of one lock (`l/<name>`). It exists while anyone holds it or waits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Lock {
    /// In grant order, so tokens increase along it.
    pub holders: Vec<Holder>,
    pub queue: VecDeque<Waiter>,
    pub condition_waiters: VecDeque<ConditionWaiter>,
    /// The last fencing token granted; the next one is larger.
    pub last_token: u64,
}

impl Lock {
    /// `Write` while a writer holds it, `Read` while only readers do, `None` when free.
    pub fn mode(&self) -> Option<LockMode> {
        self.holders.iter().map(|holder| holder.mode).max()
    }

    pub fn holder_position(&self, session_id: SessionId, thread: u64) -> Option<usize> {
        self.holders.iter().position(|holder| holder.session_id == session_id && holder.thread == thread)
    }

    /// True if the thread is queued or waiting on the condition.
    pub fn is_waiting(&self, session_id: SessionId, thread: u64) -> bool {
        self.queue.iter().any(|waiter| waiter.session_id == session_id && waiter.thread == thread)
            || self.condition_waiters.iter().any(|waiter| waiter.session_id == session_id && waiter.thread == thread)
    }

    /// Whether a new holder in `mode` fits beside the current holders (the queue aside).
    pub fn admits(&self, mode: LockMode) -> bool {
        match mode {
            LockMode::Write => self.holders.is_empty(),
            LockMode::Read => {
                self.holders.iter().all(|holder| holder.mode == LockMode::Read)
                    && (self.holders.len() as u64) < HOLDERS_PER_LOCK_MAX
            }
        }
    }

    /// Whether a request in `mode` is granted at once: nobody is queued before it (FIFO) and it
    /// fits beside the holders.
    pub fn grantable_now(&self, mode: LockMode) -> bool {
        self.queue.is_empty() && self.admits(mode)
    }

    pub fn is_unused(&self) -> bool {
        self.holders.is_empty() && self.queue.is_empty() && self.condition_waiters.is_empty()
    }

    pub fn waiter_count(&self) -> u64 {
        (self.queue.len() + self.condition_waiters.len()) as u64
    }

    pub fn earliest_deadline_ms(&self) -> Option<u64> {
        let queued = self.queue.iter().filter_map(|waiter| waiter.deadline_ms);
        let waiting = self.condition_waiters.iter().filter_map(|waiter| waiter.deadline_ms);
        queued.chain(waiting).min()
    }

    /// Every session that holds or waits for this lock.
    pub fn session_ids(&self) -> BTreeSet<SessionId> {
        let holders = self.holders.iter().map(|holder| holder.session_id);
        let queued = self.queue.iter().map(|waiter| waiter.session_id);
        let waiting = self.condition_waiters.iter().map(|waiter| waiter.session_id);
        holders.chain(queued).chain(waiting).collect()
    }

    /// The fencing token of a grant made at `log_index` (see `fencing.rs`): its ordinal is the
    /// number of grants of this lock earlier in the same entry. Unique and increasing per lock,
    /// even when one entry grants several readers.
    fn next_token(&mut self, log_index: u64) -> u64 {
        let first = fencing_token(log_index, 0);
        let ordinal = if self.last_token >= first { self.last_token - first + 1 } else { 0 };
        assert!(
            ordinal < TOKENS_PER_LOG_INDEX,
            "lock granted more than {TOKENS_PER_LOG_INDEX} times in log entry {log_index}; \
             WAITERS_PER_LOCK_MAX should make that impossible"
        );
        let token = fencing_token(log_index, ordinal);
        self.last_token = token;
        token
    }

    /// Adds a holder; returns its token.
    pub fn grant(&mut self, log_index: u64, session_id: SessionId, thread: u64, mode: LockMode, count: u64) -> u64 {
        assert!(self.admits(mode), "granting {mode:?} to a lock that does not admit it");
        assert!(self.holder_position(session_id, thread).is_none(), "a thread granted a lock it already holds");
        let token = self.next_token(log_index);
        self.holders.push(Holder { session_id, thread, mode, count, token });
        token
    }

    /// Grants queued waiters from the head for as long as the head fits beside the holders, so
    /// a run of readers is granted together and a writer waits for every holder to leave.
    pub fn grant_waiters(&mut self, log_index: u64) -> Vec<Grant> {
        let mut grants = Vec::new();
        // Each pass removes one waiter, so this loop runs at most WAITERS_PER_LOCK_MAX times.
        while self.queue.front().is_some_and(|head| self.admits(head.mode)) {
            let waiter = self.queue.pop_front().expect("the loop condition saw a head");
            let count = waiter.resume.map_or(1, |resume| resume.count);
            let token = self.grant(log_index, waiter.session_id, waiter.thread, waiter.mode, count);
            let reply = match waiter.resume {
                None => Reply::LockGranted { token },
                Some(resume) => Reply::WaitDone { token, notified: resume.notified },
            };
            grants.push(Grant { session_id: waiter.session_id, sequence: waiter.sequence, reply });
        }
        grants
    }

    /// Moves the holder at `position` (which must hold in write mode) to the condition, as
    /// `thread` of its session (the holder's own thread, or another for `WaitAs`).
    pub fn begin_wait(&mut self, position: usize, thread: u64, sequence: u64, deadline_ms: Option<u64>) {
        let holder = self.holders.remove(position);
        assert_eq!(holder.mode, LockMode::Write, "only a write holder may wait");
        self.condition_waiters.push_back(ConditionWaiter {
            session_id: holder.session_id,
            thread,
            sequence,
            deadline_ms,
            count: holder.count,
        });
    }

    /// Moves the first (or every) condition waiter, in order, to the end of the queue.
    pub fn notify(&mut self, all: bool) {
        let moving = if all { self.condition_waiters.len() } else { self.condition_waiters.len().min(1) };
        let woken: Vec<ConditionWaiter> = self.condition_waiters.drain(..moving).collect();
        self.queue.extend(woken.into_iter().map(|waiter| waiter.into_waiter(true)));
    }

    /// At `now_ms`: removes queued Locks whose deadline passed and returns their
    /// `(session, sequence)` in queue order; moves condition waiters whose deadline passed, in
    /// order, to the end of the queue as un-notified. Run `grant_waiters` after.
    pub fn expire_waits(&mut self, now_ms: u64) -> Vec<(SessionId, u64)> {
        let due = |deadline_ms: Option<u64>| deadline_ms.is_some_and(|deadline_ms| deadline_ms <= now_ms);
        let mut timed_out = Vec::new();
        self.queue.retain(|waiter| {
            let expired = due(waiter.deadline_ms);
            if expired {
                timed_out.push((waiter.session_id, waiter.sequence));
            }
            !expired
        });
        let (woken, waiting): (VecDeque<ConditionWaiter>, VecDeque<ConditionWaiter>) =
            std::mem::take(&mut self.condition_waiters).into_iter().partition(|waiter| due(waiter.deadline_ms));
        self.condition_waiters = waiting;
        self.queue.extend(woken.into_iter().map(|waiter| waiter.into_waiter(false)));
        timed_out
    }

    /// Drops every hold and wait of `session_id`. Run `grant_waiters` after.
    pub fn remove_session(&mut self, session_id: SessionId) {
        self.holders.retain(|holder| holder.session_id != session_id);
        self.queue.retain(|waiter| waiter.session_id != session_id);
        self.condition_waiters.retain(|waiter| waiter.session_id != session_id);
    }
}

#[cfg(test)]
#[path = "lock_test.rs"]
mod tests;

#[cfg(test)]
#[path = "lock_prop_test.rs"]
mod prop_tests;
