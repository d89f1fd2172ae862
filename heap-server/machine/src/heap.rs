//! The heap state (`Heap`) and its plain accessors. Everything here is deterministic: the same
//! entries in the same order give the same state, replies and writes on every replica.
//!
//! `impl Heap` is split across files on purpose, each part beside the code it needs, and this
//! file imports none of them: `step.rs` (the entry points `apply`, `apply_command`,
//! `apply_noop`), `apply.rs` (`commit` of a staged transaction), `image.rs` (`export`, `load`),
//! `session_info.rs` and `lock_info.rs` (session and lock queries), `graph.rs` (`read_graph`),
//! `gc_step.rs` (holds and `Collect`), `gc_info.rs` (what the collector and operators ask),
//! `validate.rs` and `validate_locks.rs` (`validate`).

use std::collections::BTreeMap;

use crate::command::{SessionId, SESSION_ID_FIRST};
use crate::dying::Dying;
use crate::holds::Holds;
use crate::index::Index;
use crate::lock::Lock;
use crate::object::Object;
use crate::object_store::ObjectStore;
use crate::refs::RefCounts;
use crate::reply::Reply;
use crate::session::Session;
use crate::value::{ObjectId, OBJECT_ID_FIRST};

/// One persisted change: `(key, Some(value))` puts, `(key, None)` deletes.
pub type Write = (Vec<u8>, Option<Vec<u8>>);

/// The whole replicated state: objects, roots, sessions, stored replies and locks.
#[derive(Debug, Clone, PartialEq)]
pub struct Heap {
    /// Every object, kept encoded (see `object_store.rs`).
    pub(crate) objects: ObjectStore,
    pub(crate) roots: BTreeMap<String, ObjectId>,
    /// The id the next `Op::Create` receives.
    pub(crate) next_id: ObjectId,
    /// The log index of the last entry applied; 0 before the first.
    pub(crate) applied_index: u64,
    /// The largest `leader_time_ms` applied; deadlines and leases are measured against it.
    pub(crate) now_ms: u64,
    /// The id the next `OpenSession` receives.
    pub(crate) next_session_id: SessionId,
    pub(crate) sessions: BTreeMap<SessionId, Session>,
    /// Stored replies by `(session, sequence)`, for exactly-once retries; `Reply::Pending` while
    /// the request's Lock is queued or its Wait waits.
    pub(crate) replies: BTreeMap<(SessionId, u64), Reply>,
    /// Locks in use by name; a lock nobody holds or waits for is removed.
    pub(crate) locks: BTreeMap<String, Lock>,
    /// Derived from `sessions` and `locks`, never persisted.
    pub(crate) index: Index,
    /// Open sessions per owner (credential), for the `SESSIONS_PER_OWNER_MAX` quota. Derived
    /// from `sessions`, never persisted: kept by `insert_session` and `remove_session` (the only
    /// ways sessions are added or removed, `load` included), checked by `validate`. Owners with
    /// no session have no entry.
    pub(crate) sessions_per_owner: BTreeMap<String, u64>,
    /// Which session holds which object (persisted), see `holds.rs`.
    pub(crate) holds: Holds,
    /// Reference and hold counts per object; derived, never persisted (see `refs.rs`).
    pub(crate) refs: RefCounts,
    /// Freed objects whose references are still being decremented (persisted), see `dying.rs`.
    pub(crate) dying: Dying,
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

impl Heap {
    pub fn new() -> Self {
        Heap {
            objects: ObjectStore::default(),
            roots: BTreeMap::new(),
            next_id: OBJECT_ID_FIRST,
            applied_index: 0,
            now_ms: 0,
            next_session_id: SESSION_ID_FIRST,
            sessions: BTreeMap::new(),
            replies: BTreeMap::new(),
            locks: BTreeMap::new(),
            index: Index::default(),
            sessions_per_owner: BTreeMap::new(),
            holds: Holds::default(),
            refs: RefCounts::default(),
            dying: Dying::default(),
        }
    }

    pub fn applied_index(&self) -> u64 {
        self.applied_index
    }

    /// Object `id`, decoded (a copy: the heap keeps objects encoded).
    pub fn get(&self, id: ObjectId) -> Option<Object> {
        self.objects.get(&id)
    }

    pub fn root(&self, name: &str) -> Option<ObjectId> {
        self.roots.get(name).copied()
    }

    /// Every root, sorted by name.
    pub fn roots(&self) -> Vec<(String, ObjectId)> {
        self.roots.iter().map(|(name, id)| (name.clone(), *id)).collect()
    }

    pub fn object_count(&self) -> u64 {
        self.objects.len() as u64
    }

    /// The id the next `Op::Create` will receive.
    pub fn next_id(&self) -> ObjectId {
        self.next_id
    }

    /// How many sessions the credential `owner` has open.
    pub fn sessions_owned_by(&self, owner: &str) -> u64 {
        self.sessions_per_owner.get(owner).copied().unwrap_or(0)
    }

    /// Adds (or replaces) a session, keeping `sessions_per_owner`. Callers update the index.
    pub(crate) fn insert_session(&mut self, id: SessionId, session: Session) -> Option<Session> {
        *self.sessions_per_owner.entry(session.owner.clone()).or_insert(0) += 1;
        self.holds.session_loaded(id);
        let previous = self.sessions.insert(id, session);
        if let Some(previous) = &previous {
            self.uncount_owner(&previous.owner);
        }
        previous
    }

    /// Removes a session, keeping `sessions_per_owner`. Callers update the index.
    pub(crate) fn remove_session(&mut self, id: SessionId) -> Option<Session> {
        let removed = self.sessions.remove(&id);
        if let Some(removed) = &removed {
            self.uncount_owner(&removed.owner);
            self.holds.session_ended(id);
        }
        removed
    }

    fn uncount_owner(&mut self, owner: &str) {
        let count = self.sessions_per_owner.get_mut(owner).expect("every session's owner is counted");
        assert!(*count >= 1, "owner {owner:?} counted with zero sessions");
        *count -= 1;
        if *count == 0 {
            self.sessions_per_owner.remove(owner);
        }
    }

    /// Forgets everything, back to `Heap::new()`; used before loading a snapshot.
    pub fn clear(&mut self) {
        *self = Heap::new();
    }
}

#[cfg(test)]
#[path = "heap_prop_test.rs"]
mod prop_tests;
