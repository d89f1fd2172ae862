//! Greedy cluster locks: which cluster locks this client's session keeps after its threads
//! released them, and which local thread has each one now. Bookkeeping only, no I/O: the client
//! (`client/locks.rs`) asks the cluster when this table says so.
//!
//! Terracotta DSO's rule: a JVM granted a lock keeps it, hands it between its own threads with no
//! network, and gives it back when the server recalls it. Here the session holds the cluster lock
//! as one session-level thread, `GREEDY_THREAD`; local threads take it from this table in FIFO
//! order (reentrancy is counted by the caller, per thread). The cluster recalls a lock by naming it
//! in the change stream when another session queues for it (`recall`); then at most
//! `LOCAL_GRANTS_AFTER_RECALL_MAX` more local grants are made, and the lock is given back as soon
//! as no local thread has it, so no JVM starves another.
//!
//! A recall can arrive before the grant it recalls is known here (the stream and the grant's
//! answer race): recalls of locks not held are remembered by log index, and a grant at or below a
//! remembered index starts recalled. A stream that missed changes recalls everything up to its
//! index. Safety never depends on this table: every commit under a greedy lock is fenced with its
//! grant's token, so a lock lost to a lease or a race refuses the commit.
//!
//! Locks under a name prefix set not to be kept (`set_kept`) are eager from their first hold:
//! they go back with their last local holder's commit, so a session that dies between critical
//! sections leaves them free rather than held until its lease ends.
//!
//! Idle locks (held, with no local thread holding or waiting) are bounded: past
//! `GREEDY_IDLE_LOCKS_MAX` the least recently used go back to the cluster through the releaser,
//! as a recalled idle lock does. Without the bound an application that takes many names once each
//! (a lock per HTTP or UI session) would keep every one of them held for its session's life, and
//! the cluster would carry them until its `LOCKS_MAX` refused new locks.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::collections::VecDeque;

/// The thread id under which a session holds its greedy locks on the cluster (application thread
/// ids are a JVM's `Thread.getId()`, positive and far below it).
pub const GREEDY_THREAD: u64 = u64::MAX;
/// Local grants still made after a recall arrived, before the lock goes back to the cluster.
pub const LOCAL_GRANTS_AFTER_RECALL_MAX: u32 = 8;
/// Recalls of locks not (yet) held that are remembered; past this the memory is dropped and every
/// grant at or below the highest forgotten index starts recalled (safe, only less greedy).
pub const REMEMBERED_RECALLS_MAX: usize = 4_096;
/// Local threads that may queue for one lock at once.
pub const LOCAL_WAITERS_PER_LOCK_MAX: usize = 10_000;
/// After a recall, this many of the lock's next holds are eager: given back as soon as no local
/// thread holds or waits for it, with the last section's commit in the same entry. A lock that
/// sessions take in turn (a web session served by two servers without stickiness) then costs a
/// grant and one commit per section, not a recall round as well; one that stops being contended
/// is kept again after that many holds.
pub const EAGER_HOLDS_AFTER_RECALL: u32 = 4;
/// Locks whose recent recall is remembered for `EAGER_HOLDS_AFTER_RECALL`; past it, forgotten.
pub const HOT_LOCKS_MAX: usize = 4_096;
/// Locks the session keeps held while no local thread holds or waits for them; past this the
/// least recently used go back to the cluster. A JVM's working set of locks (the web or UI
/// sessions active in the last minutes on one server) is mostly below it, so those stay one local
/// step away; one evicted and wanted again costs one grant. Each idle lock costs a few hundred
/// bytes here and on every node; a hundred client JVMs at the bound hold 102,400 locks, about a
/// tenth of the cluster's `LOCKS_MAX` (the assert below keeps it under an eighth).
pub const GREEDY_IDLE_LOCKS_MAX: usize = 1_024;
/// Idle locks evicted for the bound and not yet given back. Past it, a thread that needs a new
/// cluster grant waits for the releaser, so a JVM taking new names on many threads faster than
/// they can be given back cannot grow the cluster's lock count without bound.
pub const EVICTIONS_PENDING_MAX: usize = 256;
/// Lock-name prefixes whose locks the session does not keep (`set_kept`), at most: a setting per
/// family of locks (one per UI or web session), not per lock.
pub const UNKEPT_PREFIXES_MAX: usize = 64;
const _: () = assert!(GREEDY_IDLE_LOCKS_MAX >= 1, "the lock just released is never the one evicted");
const _: () = assert!(GREEDY_IDLE_LOCKS_MAX as u64 * 100 <= heap_machine::LOCKS_MAX / 8);
const _: () = assert!(EVICTIONS_PENDING_MAX >= 1);

/// How the cluster lock is held (the session-level hold), or wanted locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Read,
    Write,
}

/// One cluster grant of a greedy lock: valid for every local acquisition under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub mode: Mode,
    /// The fencing token every commit made under this grant carries.
    pub token: u64,
    /// The grant's log index: reads under it must reflect at least this.
    pub grant_index: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// The session does not hold the lock.
    Free,
    /// One local thread is asking the cluster for it.
    Acquiring,
    Held(Grant),
    /// It is being given back (or handed to a waiting thread's condition).
    Releasing,
}

/// What a thread that wants a lock must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Taken locally under this grant.
    Taken(Grant),
    /// Ask the cluster for the lock in this mode (this thread is the one acquiring), then
    /// report `acquired` or `acquire_failed`.
    Acquire(Mode),
    /// Give the cluster hold back first (an upgrade from read to write, or a recall with nobody
    /// local holding), then report `released`; then try again.
    Release(Grant),
    /// Wait for the table to change, then try again.
    Wait,
}

/// A local request this table refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GreedyError {
    #[error("too many threads of this JVM wait for lock {0:?} (limit {LOCAL_WAITERS_PER_LOCK_MAX})")]
    TooManyWaiters(String),
    #[error("more than {UNKEPT_PREFIXES_MAX} lock-name prefixes are set not to be kept; use shorter, shared prefixes")]
    TooManyUnkeptPrefixes,
}

#[derive(Debug)]
struct Entry {
    hold: Hold,
    writer: Option<u64>,
    readers: BTreeSet<u64>,
    /// Local threads waiting, first come first served.
    queue: VecDeque<u64>,
    recalled: bool,
    grants_since_recall: u32,
    /// Given back as soon as nobody local holds or waits (the lock was recalled lately).
    eager: bool,
    /// When it last became idle (its key in `GreedyTable::idle`), while it is idle.
    idle_since: Option<u64>,
    /// Being given back because the idle bound evicted it (counted in `evictions_pending`).
    evicted: bool,
}

impl Entry {
    fn new() -> Self {
        Self {
            hold: Hold::Free,
            writer: None,
            readers: BTreeSet::new(),
            queue: VecDeque::new(),
            recalled: false,
            grants_since_recall: 0,
            eager: false,
            idle_since: None,
            evicted: false,
        }
    }

    /// Held by the session with no local thread holding or waiting for it.
    fn idle(&self) -> bool {
        matches!(self.hold, Hold::Held(_)) && self.nobody_local() && self.queue.is_empty()
    }

    fn nobody_local(&self) -> bool {
        self.writer.is_none() && self.readers.is_empty()
    }

    fn unused(&self) -> bool {
        self.hold == Hold::Free && self.nobody_local() && self.queue.is_empty()
    }

    /// Recalled and out of local grants: the lock must go back once nobody local has it.
    fn recall_closed(&self) -> bool {
        self.recalled && self.grants_since_recall >= LOCAL_GRANTS_AFTER_RECALL_MAX
    }

    /// Whether a recalled lock should go back now rather than serve its local queue.
    fn give_back_now(&self) -> bool {
        let recalled = self.recalled && (self.queue.is_empty() || self.recall_closed());
        let eager = self.eager && self.queue.is_empty();
        self.nobody_local() && (recalled || eager)
    }
}

/// Every lock this session holds greedily or that a local thread waits for.
#[derive(Debug, Default)]
pub struct GreedyTable {
    locks: BTreeMap<String, Entry>,
    /// Recalls (lock name -> highest log index) of locks not held when they arrived.
    remembered: BTreeMap<String, u64>,
    /// Grants at or below this index start recalled (the memory overflowed or the stream reset).
    forgotten_up_to: u64,
    /// Idle recalled locks to give back (taken by the client's releaser).
    to_release: Vec<(String, Grant)>,
    /// Locks recalled lately -> how many of their next holds are still eager.
    hot: BTreeMap<String, u32>,
    /// Idle locks by when they became idle (a sequence number), least recently used first.
    idle: BTreeMap<u64, String>,
    /// The next `idle` key.
    next_idle_sequence: u64,
    /// Locks evicted for the idle bound, not yet reported `released`.
    evictions_pending: usize,
    /// Locks whose names start with one of these are never kept: every hold is eager.
    unkept_prefixes: BTreeSet<String>,
}

impl GreedyTable {
    /// The next step for `thread`, which holds no part of lock `name` yet, to take it in `mode`.
    pub fn try_take(&mut self, name: &str, thread: u64, mode: Mode) -> Result<Step, GreedyError> {
        let step = self.take_step(name, thread, mode);
        self.settle(name);
        step
    }

    fn take_step(&mut self, name: &str, thread: u64, mode: Mode) -> Result<Step, GreedyError> {
        let entry = self.locks.entry(name.to_string()).or_insert_with(Entry::new);
        if !entry.queue.contains(&thread) {
            if entry.queue.len() >= LOCAL_WAITERS_PER_LOCK_MAX {
                return Err(GreedyError::TooManyWaiters(name.to_string()));
            }
            entry.queue.push_back(thread);
        }
        // First come, first served; readers still share: each one taken makes the next the head.
        let first = entry.queue.front() == Some(&thread);
        if !first {
            return Ok(Step::Wait);
        }
        let step = match entry.hold {
            Hold::Acquiring | Hold::Releasing => Step::Wait,
            // Too many evicted locks still on the cluster: a new grant waits for the releaser
            // (each give-back it reports wakes this thread).
            Hold::Free if self.evictions_pending >= EVICTIONS_PENDING_MAX => Step::Wait,
            Hold::Free => {
                entry.hold = Hold::Acquiring;
                Step::Acquire(mode)
            }
            Hold::Held(grant) => {
                // Only the mode held: a reader under a write hold would keep other sessions'
                // readers out while it reads (a slow read-locked request on one server would
                // block read-locked requests on every other); a write hold is given back for a
                // read hold, as a read hold is for a write hold.
                let admits_mode = grant.mode == mode;
                let free = match mode {
                    Mode::Write => entry.nobody_local(),
                    Mode::Read => entry.writer.is_none(),
                };
                if admits_mode && free && !entry.recall_closed() {
                    entry.queue.retain(|t| *t != thread);
                    match mode {
                        Mode::Write => entry.writer = Some(thread),
                        Mode::Read => {
                            entry.readers.insert(thread);
                        }
                    }
                    if entry.recalled {
                        entry.grants_since_recall += 1;
                    }
                    Step::Taken(grant)
                } else if entry.nobody_local() {
                    // Needs a stronger hold, or must go back after a recall: give it back first.
                    entry.hold = Hold::Releasing;
                    Step::Release(grant)
                } else {
                    Step::Wait
                }
            }
        };
        Ok(step)
    }

    /// `thread` stops waiting for `name` (it timed out or failed).
    pub fn leave_queue(&mut self, name: &str, thread: u64) {
        if let Some(entry) = self.locks.get_mut(name) {
            entry.queue.retain(|t| *t != thread);
        }
        self.settle(name);
    }

    /// The cluster granted `name` to the session: held greedily from now.
    pub fn acquired(&mut self, name: &str, grant: Grant) {
        let remembered = self.remembered.remove(name).is_some_and(|index| index >= grant.grant_index);
        let recalled = remembered || grant.grant_index <= self.forgotten_up_to;
        let entry = self.locks.entry(name.to_string()).or_insert_with(Entry::new);
        assert_eq!(entry.hold, Hold::Acquiring, "a grant arrives only for the one acquisition in flight");
        entry.hold = Hold::Held(grant);
        entry.recalled = recalled;
        entry.grants_since_recall = 0;
        let unkept = self.unkept_prefixes.iter().any(|prefix| name.starts_with(prefix.as_str()));
        entry.eager = unkept
            || match self.hot.get_mut(name) {
                Some(remaining) if *remaining > 0 => {
                    *remaining -= 1;
                    true
                }
                _ => false,
            };
        self.settle(name);
    }

    /// Whether the session keeps locks whose names start with `prefix` after their last local
    /// holder (the default) or gives each back with that holder's commit, in one entry. Not kept
    /// suits locks another session takes next, most of all after this one dies: a kept lock waits
    /// for the dead session's lease to end. Applies from each lock's next grant.
    pub fn set_kept(&mut self, prefix: &str, kept: bool) -> Result<(), GreedyError> {
        if kept {
            self.unkept_prefixes.remove(prefix);
        } else {
            if self.unkept_prefixes.len() >= UNKEPT_PREFIXES_MAX && !self.unkept_prefixes.contains(prefix) {
                return Err(GreedyError::TooManyUnkeptPrefixes);
            }
            self.unkept_prefixes.insert(prefix.to_string());
        }
        Ok(())
    }

    /// Asking the cluster for `name` failed or timed out: the session does not hold it.
    pub fn acquire_failed(&mut self, name: &str, thread: u64) {
        if let Some(entry) = self.locks.get_mut(name) {
            if entry.hold == Hold::Acquiring {
                entry.hold = Hold::Free;
            }
        }
        self.leave_queue(name, thread);
    }

    /// `thread` leaves lock `name` locally (its outermost release, after its commit). Returns
    /// the grant to give back when the lock was recalled and this was its last local holder.
    pub fn release_local(&mut self, name: &str, thread: u64) -> Option<Grant> {
        let entry = self.locks.get_mut(name)?;
        if entry.writer == Some(thread) {
            entry.writer = None;
        }
        entry.readers.remove(&thread);
        let handed_back = match entry.hold {
            Hold::Held(grant) if entry.give_back_now() => {
                entry.hold = Hold::Releasing;
                Some(grant)
            }
            _ => None,
        };
        self.settle(name);
        handed_back
    }

    /// `thread`, the local writer of `name`, waits on its condition: the session's hold becomes
    /// the thread's wait (the caller sends `WaitAs`). Returns the grant it held.
    pub fn begin_wait(&mut self, name: &str, thread: u64) -> Option<Grant> {
        let entry = self.locks.get_mut(name)?;
        let handed_over = match entry.hold {
            Hold::Held(grant) if grant.mode == Mode::Write && entry.writer == Some(thread) => {
                entry.writer = None;
                entry.hold = Hold::Releasing;
                Some(grant)
            }
            _ => None,
        };
        self.settle(name);
        handed_over
    }

    /// `thread` leaves lock `name` locally only if that gives the lock back (it was recalled or is
    /// eager, and nobody else local holds or waits for it): then the caller releases it with the
    /// thread's commit in one entry. Otherwise nothing changes and it returns None.
    pub fn release_local_if_last(&mut self, name: &str, thread: u64) -> Option<Grant> {
        let entry = self.locks.get(name)?;
        let only_this_thread = entry.writer == Some(thread) && entry.readers.is_empty()
            || entry.writer.is_none() && entry.readers.len() == 1 && entry.readers.contains(&thread);
        let would_go = only_this_thread && {
            let recalled = entry.recalled && (entry.queue.is_empty() || entry.recall_closed());
            entry.queue.is_empty() && entry.eager || recalled
        };
        if would_go {
            self.release_local(name, thread)
        } else {
            None
        }
    }

    /// The session's hold of `name` is gone (given back, handed to a waiting thread, or lost).
    pub fn released(&mut self, name: &str) {
        if let Some(entry) = self.locks.get_mut(name) {
            if entry.recalled {
                if self.hot.len() >= HOT_LOCKS_MAX && !self.hot.contains_key(name) {
                    self.hot.clear();
                }
                self.hot.insert(name.to_string(), EAGER_HOLDS_AFTER_RECALL);
            }
            if entry.evicted {
                entry.evicted = false;
                self.evictions_pending -= 1;
            }
            entry.hold = Hold::Free;
            entry.recalled = false;
            entry.grants_since_recall = 0;
        }
        self.settle(name);
    }

    /// Another session waits for `name` (the change stream said so at `index`).
    pub fn recall(&mut self, name: &str, index: u64) {
        match self.locks.get_mut(name) {
            Some(entry) if matches!(entry.hold, Hold::Held(_)) => {
                entry.recalled = true;
                self.settle(name);
            }
            _ => {
                if self.remembered.len() >= REMEMBERED_RECALLS_MAX && !self.remembered.contains_key(name) {
                    let highest = self.remembered.values().copied().max().unwrap_or(0);
                    self.forgotten_up_to = self.forgotten_up_to.max(highest);
                    self.remembered.clear();
                }
                let remembered = self.remembered.entry(name.to_string()).or_insert(index);
                *remembered = (*remembered).max(index);
            }
        }
    }

    /// The change stream may have missed recalls up to `index`: every lock counts as recalled.
    pub fn recall_all(&mut self, index: u64) {
        self.forgotten_up_to = self.forgotten_up_to.max(index);
        self.remembered.clear();
        let mut held = Vec::new();
        for (name, entry) in &mut self.locks {
            if matches!(entry.hold, Hold::Held(_)) {
                entry.recalled = true;
                held.push(name.clone());
            }
        }
        for name in held {
            self.settle(&name);
        }
    }

    /// Brings `name` in line with the rules after any change to it: a recalled or eager lock
    /// nobody local wants goes to the releaser; an idle one is filed as used now, and one no
    /// longer idle is unfiled; past `GREEDY_IDLE_LOCKS_MAX` the least recently used idle locks go
    /// to the releaser; an entry nobody holds or wants is forgotten.
    fn settle(&mut self, name: &str) {
        if let Some(entry) = self.locks.get_mut(name) {
            Self::release_if_idle(name, entry, &mut self.to_release);
            match (entry.idle(), entry.idle_since) {
                (true, None) => {
                    let sequence = self.next_idle_sequence;
                    self.next_idle_sequence += 1;
                    entry.idle_since = Some(sequence);
                    self.idle.insert(sequence, name.to_string());
                }
                (false, Some(sequence)) => {
                    entry.idle_since = None;
                    let filed = self.idle.remove(&sequence);
                    assert_eq!(filed.as_deref(), Some(name), "an idle lock is filed under its own sequence");
                }
                _ => {}
            }
        }
        self.evict_idle_over_bound();
        self.forget_if_unused(name);
    }

    /// Gives the least recently used idle locks back until at most `GREEDY_IDLE_LOCKS_MAX` are
    /// left. Runs once per change, and each change adds at most one idle lock, so this loop evicts
    /// at most one lock (the bound keeps it finite regardless).
    fn evict_idle_over_bound(&mut self) {
        while self.idle.len() > GREEDY_IDLE_LOCKS_MAX {
            let (_, name) = self.idle.pop_first().expect("over a bound of at least one, so not empty");
            let entry = self.locks.get_mut(&name).expect("an idle lock is in the table");
            let Hold::Held(grant) = entry.hold else { unreachable!("an idle lock is held") };
            assert!(entry.idle(), "only a lock no local thread holds or waits for is evicted");
            entry.idle_since = None;
            entry.evicted = true;
            entry.hold = Hold::Releasing;
            self.evictions_pending += 1;
            self.to_release.push((name, grant));
        }
    }

    fn release_if_idle(name: &str, entry: &mut Entry, to_release: &mut Vec<(String, Grant)>) {
        if let Hold::Held(grant) = entry.hold {
            if entry.give_back_now() {
                entry.hold = Hold::Releasing;
                to_release.push((name.to_string(), grant));
            }
        }
    }

    /// Whether recalled or evicted locks nobody local holds wait to be given back.
    pub fn has_to_release(&self) -> bool {
        !self.to_release.is_empty()
    }

    /// Recalled or evicted locks nobody local holds, to give back now, oldest eviction first
    /// (each then reported `released`).
    pub fn take_to_release(&mut self) -> Vec<(String, Grant)> {
        std::mem::take(&mut self.to_release)
    }

    /// The grant `thread` holds `name` under, if it holds it locally.
    #[cfg(test)]
    pub fn grant_of(&self, name: &str, thread: u64) -> Option<Grant> {
        let entry = self.locks.get(name)?;
        let local = entry.writer == Some(thread) || entry.readers.contains(&thread);
        match entry.hold {
            Hold::Held(grant) if local => Some(grant),
            _ => None,
        }
    }

    /// Locks the session holds on the cluster now (for tests and measurements).
    pub fn held_count(&self) -> usize {
        self.locks.values().filter(|entry| matches!(entry.hold, Hold::Held(_))).count()
    }

    /// Locks held with no local thread holding or waiting for them.
    #[cfg(test)]
    pub fn idle_count(&self) -> usize {
        self.idle.len()
    }

    /// Checks the idle bookkeeping against the entries: every idle lock filed once under its own
    /// sequence, nothing else filed, the bound kept, evictions in flight counted.
    #[cfg(test)]
    pub fn validate(&self) -> Result<(), String> {
        if self.idle.len() > GREEDY_IDLE_LOCKS_MAX {
            return Err(format!("{} idle locks, over {GREEDY_IDLE_LOCKS_MAX}", self.idle.len()));
        }
        for (name, entry) in &self.locks {
            let filed = entry.idle_since.and_then(|sequence| self.idle.get(&sequence));
            if entry.idle() != (filed.map(String::as_str) == Some(name.as_str())) {
                return Err(format!("lock {name:?}: idle {} but filed as {filed:?}", entry.idle()));
            }
        }
        if self.idle.len() != self.locks.values().filter(|entry| entry.idle()).count() {
            return Err("the idle index names locks that are not idle".into());
        }
        let evicted = self.locks.values().filter(|entry| entry.evicted).count();
        if evicted != self.evictions_pending {
            return Err(format!("{evicted} evicted locks, {} counted", self.evictions_pending));
        }
        Ok(())
    }

    fn forget_if_unused(&mut self, name: &str) {
        if self.locks.get(name).is_some_and(Entry::unused) {
            self.locks.remove(name);
        }
    }
}

#[cfg(test)]
#[path = "greedy_test.rs"]
mod tests;
