//! One log entry being applied: the heap, the entry's index, and what it changed, so that each
//! changed key is written exactly once when the entry is done. Session commands live in
//! `session_step.rs`, lock commands in `lock_step.rs`.

use std::collections::BTreeSet;

use crate::apply::stage;
use crate::codec::{encode_lock, encode_reply, encode_session};
use crate::command::{Command, SessionId, Transaction};
use crate::heap::{Heap, Write};
use crate::image::{lock_key, reply_key, session_key, u64_value, NEXT_ID_KEY, NEXT_SESSION_ID_KEY, NOW_KEY};
use crate::limits::{Limit, ID_RANGE_MAX, OBJECT_ID_MAX};
use crate::reply::{Rejection, Reply};
use crate::value::ObjectId;

pub(crate) struct Step<'a> {
    pub heap: &'a mut Heap,
    writes: &'a mut Vec<Write>,
    pub log_index: u64,
    changed_locks: BTreeSet<String>,
    changed_sessions: BTreeSet<SessionId>,
    changed_replies: BTreeSet<(SessionId, u64)>,
    clock_changed: bool,
    pub next_session_id_changed: bool,
}

impl<'a> Step<'a> {
    pub fn new(heap: &'a mut Heap, log_index: u64, writes: &'a mut Vec<Write>) -> Self {
        Step {
            heap,
            writes,
            log_index,
            changed_locks: BTreeSet::new(),
            changed_sessions: BTreeSet::new(),
            changed_replies: BTreeSet::new(),
            clock_changed: false,
            next_session_id_changed: false,
        }
    }

    /// The machine's clock follows the leaders' but never goes back, so a new leader whose
    /// clock is behind cannot extend leases or deadlines already passed.
    pub fn advance_clock(&mut self, leader_time_ms: u64) {
        if leader_time_ms > self.heap.now_ms {
            self.heap.now_ms = leader_time_ms;
            self.clock_changed = true;
        }
    }

    pub fn apply(&mut self, command: &Command) -> Reply {
        match command {
            Command::Transaction(transaction) => match self.transaction(transaction) {
                Ok(created) => Reply::Committed { log_index: self.log_index, created },
                Err(rejection) => Reply::Rejected(rejection),
            },
            Command::OpenSession { client, ttl_ms } => {
                self.open_session(client, *ttl_ms).unwrap_or_else(Reply::Rejected)
            }
            Command::Session(request) => self.session_request(request),
            Command::Tick => self.tick(),
            Command::Grace => self.grace(),
            Command::AllocateIds { count } => self.allocate_ids(*count).unwrap_or_else(Reply::Rejected),
        }
    }

    /// Reserves `count` ids: `next_id` moves past them (and is written), nothing else changes.
    pub fn allocate_ids(&mut self, count: u32) -> Result<Reply, Rejection> {
        if count == 0 || count > ID_RANGE_MAX {
            return Err(Rejection::InvalidIdCount { count });
        }
        let first = self.heap.next_id;
        let next = first + u64::from(count);
        if next > OBJECT_ID_MAX {
            return Err(Rejection::LimitExceeded { what: Limit::ObjectCount, limit: OBJECT_ID_MAX, actual: next });
        }
        self.heap.next_id = next;
        self.writes.push((NEXT_ID_KEY.to_vec(), Some(u64_value(next))));
        Ok(Reply::IdRange { first, count })
    }

    /// Applies a transaction whole or not at all; returns the created `(handle, id)` pairs.
    pub fn transaction(&mut self, transaction: &Transaction) -> Result<Vec<(u32, ObjectId)>, Rejection> {
        let staged = stage(self.heap, self.log_index, transaction)?;
        Ok(self.heap.commit(self.log_index, staged, self.writes))
    }

    /// Call after changing a session (or deleting it): updates the index, writes it at the end.
    pub fn session_changed(&mut self, id: SessionId) {
        self.heap.index.update_session(id, self.heap.sessions.get(&id));
        self.changed_sessions.insert(id);
    }

    /// Call after changing a lock: removes it once unused, updates the index, writes it (or its
    /// deletion) at the end.
    pub fn lock_changed(&mut self, name: &str) {
        if self.heap.locks.get(name).is_some_and(|lock| lock.is_unused()) {
            self.heap.locks.remove(name);
        }
        self.heap.index.update_lock(name, self.heap.locks.get(name));
        self.changed_locks.insert(name.to_string());
    }

    /// Stores the reply of the request being applied.
    pub fn store_reply(&mut self, session_id: SessionId, sequence: u64, reply: Reply) {
        assert!(self.heap.sessions.contains_key(&session_id), "reply stored for missing session {session_id}");
        let previous = self.heap.replies.insert((session_id, sequence), reply);
        assert!(previous.is_none(), "request {sequence} of session {session_id} applied twice");
        self.changed_replies.insert((session_id, sequence));
    }

    /// Replaces the `Pending` reply of a waiting request with its final reply.
    pub fn finish_reply(&mut self, session_id: SessionId, sequence: u64, reply: Reply) {
        assert_ne!(reply, Reply::Pending, "a final reply cannot be Pending");
        let stored = self
            .heap
            .replies
            .get_mut(&(session_id, sequence))
            .expect("every waiter has a Pending reply stored under its request");
        assert_eq!(*stored, Reply::Pending, "request {sequence} of session {session_id} finished twice");
        *stored = reply;
        self.changed_replies.insert((session_id, sequence));
    }

    pub fn forget_reply(&mut self, session_id: SessionId, sequence: u64) {
        if self.heap.replies.remove(&(session_id, sequence)).is_some() {
            self.changed_replies.insert((session_id, sequence));
        }
    }

    /// Emits one write per key this entry changed, in key order within each kind.
    pub fn finish(self) {
        for name in &self.changed_locks {
            let value = self.heap.locks.get(name).map(encode_lock);
            self.writes.push((lock_key(name), value));
        }
        if self.next_session_id_changed {
            self.writes.push((NEXT_SESSION_ID_KEY.to_vec(), Some(u64_value(self.heap.next_session_id))));
        }
        if self.clock_changed {
            self.writes.push((NOW_KEY.to_vec(), Some(u64_value(self.heap.now_ms))));
        }
        for id in &self.changed_sessions {
            let value = self.heap.sessions.get(id).map(encode_session);
            self.writes.push((session_key(*id), value));
        }
        for (id, sequence) in &self.changed_replies {
            let value = self.heap.replies.get(&(*id, *sequence)).map(encode_reply);
            self.writes.push((reply_key(*id, *sequence), value));
        }
    }
}
