//! Derived lookups over sessions and locks, so that `next_deadline_ms`, `Tick` and session
//! expiry touch only what is due or involved instead of scanning every session and lock. Not
//! persisted: `load` rebuilds it pair by pair, and `validate` checks it against a fresh build.

use std::collections::{BTreeMap, BTreeSet};

use crate::command::SessionId;
use crate::lock::Lock;
use crate::session::Session;

/// Whose deadline an entry of the deadline index is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    /// The session's expiry.
    Session(SessionId),
    /// The earliest Lock or Wait timeout among the lock's waiters.
    Lock(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Index {
    deadlines: BTreeSet<(u64, Owner)>,
    deadline_of: BTreeMap<Owner, u64>,
    /// `(session, lock)` for every session holding or waiting for a lock.
    session_locks: BTreeSet<(SessionId, String)>,
    lock_sessions: BTreeMap<String, BTreeSet<SessionId>>,
}

impl Index {
    /// Builds the index of a whole state (for `validate`).
    pub fn build<'a>(
        sessions: impl Iterator<Item = (&'a SessionId, &'a Session)>,
        locks: impl Iterator<Item = (&'a String, &'a Lock)>,
    ) -> Index {
        let mut index = Index::default();
        for (id, session) in sessions {
            index.update_session(*id, Some(session));
        }
        for (name, lock) in locks {
            index.update_lock(name, Some(lock));
        }
        index
    }

    fn set_deadline(&mut self, owner: Owner, deadline_ms: Option<u64>) {
        if let Some(old) = self.deadline_of.remove(&owner) {
            self.deadlines.remove(&(old, owner.clone()));
        }
        if let Some(deadline_ms) = deadline_ms {
            self.deadlines.insert((deadline_ms, owner.clone()));
            self.deadline_of.insert(owner, deadline_ms);
        }
    }

    /// Records the session's current state (`None`: deleted).
    pub fn update_session(&mut self, id: SessionId, session: Option<&Session>) {
        self.set_deadline(Owner::Session(id), session.map(|session| session.expires_at_ms));
    }

    /// Records the lock's current state (`None`: removed).
    pub fn update_lock(&mut self, name: &str, lock: Option<&Lock>) {
        self.set_deadline(Owner::Lock(name.to_string()), lock.and_then(Lock::earliest_deadline_ms));
        let sessions = lock.map(Lock::session_ids).unwrap_or_default();
        let old = self.lock_sessions.remove(name).unwrap_or_default();
        for id in old.difference(&sessions) {
            self.session_locks.remove(&(*id, name.to_string()));
        }
        for id in sessions.difference(&old) {
            self.session_locks.insert((*id, name.to_string()));
        }
        if !sessions.is_empty() {
            self.lock_sessions.insert(name.to_string(), sessions);
        }
    }

    pub fn next_deadline_ms(&self) -> Option<u64> {
        self.deadlines.first().map(|(deadline_ms, _)| *deadline_ms)
    }

    /// Sessions whose expiry is at or before `now_ms`, sorted by id.
    pub fn sessions_due(&self, now_ms: u64) -> Vec<SessionId> {
        let mut due: Vec<SessionId> = self
            .due(now_ms)
            .filter_map(|owner| match owner {
                Owner::Session(id) => Some(*id),
                Owner::Lock(_) => None,
            })
            .collect();
        due.sort_unstable();
        due
    }

    /// Locks with a waiter whose deadline is at or before `now_ms`, sorted by name.
    pub fn locks_due(&self, now_ms: u64) -> Vec<String> {
        let due: BTreeSet<&String> = self
            .due(now_ms)
            .filter_map(|owner| match owner {
                Owner::Lock(name) => Some(name),
                Owner::Session(_) => None,
            })
            .collect();
        due.into_iter().cloned().collect()
    }

    fn due(&self, now_ms: u64) -> impl Iterator<Item = &Owner> {
        self.deadlines.iter().take_while(move |(deadline_ms, _)| *deadline_ms <= now_ms).map(|(_, owner)| owner)
    }

    /// Every lock the session holds or waits for, sorted by name.
    pub fn locks_of(&self, id: SessionId) -> Vec<String> {
        self.session_locks
            .range((id, String::new())..)
            .take_while(|(session_id, _)| *session_id == id)
            .map(|(_, name)| name.clone())
            .collect()
    }
}
