//! Applying one log entry: `Heap`'s entry points (`apply`, `apply_command`, `apply_noop`; part
//! of `impl Heap`, see `heap.rs`) and `Step`, which holds the heap, the entry's index and what it
//! changed, so that each changed key is written exactly once when the entry is done. Session
//! commands live in `session_step.rs`, lock commands in `lock_step.rs`.

use std::collections::BTreeSet;

use crate::apply::stage;
use crate::codec::{decode_envelope, encode_lock, encode_reply, encode_session, encoded_size_bytes, CodecError};
use crate::command::{Command, Envelope, SessionId, Transaction};
use crate::heap::{Heap, Write};
use crate::image::{
    lock_key, reply_key, session_key, u64_value, APPLIED_INDEX_KEY, NEXT_ID_KEY, NEXT_SESSION_ID_KEY, NOW_KEY,
};
use crate::limits::{Limit, ID_RANGE_MAX, OBJECT_ID_MAX, TRANSACTION_SIZE_BYTES_MAX};
use crate::reply::{Rejection, Reply};
use crate::value::ObjectId;

impl Heap {
    /// Decodes an envelope and applies it at `log_index`; returns the encoded `Reply`. Never
    /// panics on any bytes: undecodable bytes give `Rejection::Malformed`. Appends every changed
    /// persisted key to `writes`.
    ///
    /// Replicas must all go through this function for log entries, so that they all judge the
    /// same bytes (the size limit is checked on these bytes).
    pub fn apply(&mut self, log_index: u64, envelope: &[u8], writes: &mut Vec<Write>) -> Vec<u8> {
        let reply = match decode_envelope(envelope) {
            Ok(envelope) => self.apply_command(log_index, &envelope, writes),
            Err(error) => {
                let rejection = match error {
                    CodecError::TooLarge { actual_bytes, .. } => Rejection::LimitExceeded {
                        what: Limit::TransactionSizeBytes,
                        limit: TRANSACTION_SIZE_BYTES_MAX,
                        actual: actual_bytes,
                    },
                    error @ (CodecError::Invalid { .. } | CodecError::TrailingBytes { .. }) => {
                        Rejection::Malformed { reason: error.to_string() }
                    }
                };
                self.apply_noop(log_index, writes);
                Reply::Rejected(rejection)
            }
        };
        encode_reply(&reply)
    }

    /// Applies a decoded envelope at `log_index`. A rejected command changes nothing but the
    /// applied index and the clock (and, for a session request, renews the lease and stores
    /// the reply).
    pub fn apply_command(&mut self, log_index: u64, envelope: &Envelope, writes: &mut Vec<Write>) -> Reply {
        self.assert_next_index(log_index);
        // Measured on the canonical encoding, which is never longer than bytes that decoded to
        // it, so entries that passed `apply`'s byte check pass this one too.
        let size_bytes = encoded_size_bytes(envelope);
        let mut step = Step::new(self, log_index, writes);
        step.advance_clock(envelope.leader_time_ms);
        let reply = if size_bytes > TRANSACTION_SIZE_BYTES_MAX {
            Reply::Rejected(Rejection::LimitExceeded {
                what: Limit::TransactionSizeBytes,
                limit: TRANSACTION_SIZE_BYTES_MAX,
                actual: size_bytes,
            })
        } else {
            step.apply(&envelope.command)
        };
        step.finish();
        self.record_applied(log_index, writes);
        reply
    }

    /// Records an entry with no heap command (a Raft blank or membership entry) at `log_index`.
    pub fn apply_noop(&mut self, log_index: u64, writes: &mut Vec<Write>) {
        self.assert_next_index(log_index);
        self.record_applied(log_index, writes);
    }

    /// Applying an entry twice or out of order would silently fork this replica from the
    /// others; the log or the store is broken and the node must stop.
    fn assert_next_index(&self, log_index: u64) {
        assert!(
            log_index > self.applied_index,
            "heap state machine asked to apply log index {log_index} but has already applied \
             {}: entries must be applied once each, in increasing order",
            self.applied_index
        );
    }

    fn record_applied(&mut self, log_index: u64, writes: &mut Vec<Write>) {
        self.applied_index = log_index;
        writes.push((APPLIED_INDEX_KEY.to_vec(), Some(u64_value(log_index))));
    }
}

pub(crate) struct Step<'a> {
    pub heap: &'a mut Heap,
    pub(crate) writes: &'a mut Vec<Write>,
    pub log_index: u64,
    changed_locks: BTreeSet<String>,
    changed_sessions: BTreeSet<SessionId>,
    changed_replies: BTreeSet<(SessionId, u64)>,
    clock_changed: bool,
    /// The machine's clock before this entry's `leader_time_ms` advanced it.
    clock_before_ms: u64,
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
            clock_before_ms: 0,
            next_session_id_changed: false,
        }
    }

    /// The machine's clock follows the leaders' but never goes back, so a new leader whose
    /// clock is behind cannot extend leases or deadlines already passed.
    pub fn advance_clock(&mut self, leader_time_ms: u64) {
        self.clock_before_ms = self.heap.now_ms;
        if leader_time_ms > self.heap.now_ms {
            self.heap.now_ms = leader_time_ms;
            self.clock_changed = true;
        }
    }

    pub fn apply(&mut self, command: &Command) -> Reply {
        match command {
            Command::Transaction(transaction) => match self.transaction(transaction, None) {
                Ok(created) => Reply::Committed { log_index: self.log_index, created },
                Err(rejection) => Reply::Rejected(rejection),
            },
            Command::OpenSession { client, ttl_ms, owner } => {
                self.open_session(client, *ttl_ms, owner).unwrap_or_else(Reply::Rejected)
            }
            Command::Session(request) => self.session_request(request),
            Command::Tick => self.tick(),
            Command::Grace => self.grace(),
            Command::ResumeLeases => self.resume_leases(self.heap.now_ms.saturating_sub(self.clock_before_ms)),
            Command::AllocateIds { count } => self.allocate_ids(*count).unwrap_or_else(Reply::Rejected),
            Command::Collect { ids } => self.collect(ids).unwrap_or_else(Reply::Rejected),
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
    /// `holder` is the session sending it: it holds the objects the transaction creates and
    /// leaves unreferenced, within the hold limits.
    pub fn transaction(
        &mut self,
        transaction: &Transaction,
        holder: Option<SessionId>,
    ) -> Result<Vec<(u32, ObjectId)>, Rejection> {
        let staged = stage(self.heap, self.log_index, transaction)?;
        if let Some(session) = holder {
            self.heap.check_new_holds(session, staged.unreferenced_creations(self.heap).len() as u64)?;
        }
        Ok(self.heap.commit(self.log_index, staged, holder, self.writes))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::{decode_reply, encode_envelope};
    use crate::command::{Op, Target};
    use crate::image::object_key;
    use crate::object::ObjectKind;
    use crate::test_support::{apply_ops, create, envelope};

    #[test]
    fn apply_decodes_applies_and_encodes_the_reply() {
        let mut heap = Heap::new();
        let bytes = encode_envelope(&envelope(Vec::new(), vec![create(7, ObjectKind::Map)]));
        let mut writes = Vec::new();
        let reply = decode_reply(&heap.apply(3, &bytes, &mut writes)).unwrap();
        assert_eq!(reply, Reply::Committed { log_index: 3, created: vec![(7, 1)] });
        assert_eq!(heap.get(1).unwrap().version, 3);
        assert_eq!(heap.applied_index(), 3);
        assert_eq!(heap.next_id(), 2);
        let keys: Vec<Vec<u8>> = writes.into_iter().map(|(key, _)| key).collect();
        assert_eq!(keys, vec![object_key(1), NEXT_ID_KEY.to_vec(), APPLIED_INDEX_KEY.to_vec()]);
    }

    #[test]
    fn undecodable_bytes_are_malformed_and_only_advance_the_index() {
        let mut heap = Heap::new();
        apply_ops(&mut heap, 1, vec![create(0, ObjectKind::List)]);
        let before = heap.clone();
        let mut writes = Vec::new();
        let reply = decode_reply(&heap.apply(2, &[0xFF, 0xFF, 0xFF], &mut writes)).unwrap();
        assert!(matches!(reply, Reply::Rejected(Rejection::Malformed { .. })));
        assert_eq!(writes, vec![(APPLIED_INDEX_KEY.to_vec(), Some(u64_value(2)))]);
        assert_eq!(heap.applied_index(), 2);
        assert_eq!(heap.objects, before.objects);
        assert_eq!(heap.next_id, before.next_id);
    }

    #[test]
    fn oversized_bytes_exceed_the_transaction_size_limit() {
        let mut heap = Heap::new();
        let bytes = vec![0u8; TRANSACTION_SIZE_BYTES_MAX as usize + 1];
        let reply = decode_reply(&heap.apply(1, &bytes, &mut Vec::new())).unwrap();
        assert_eq!(
            reply,
            Reply::Rejected(Rejection::LimitExceeded {
                what: Limit::TransactionSizeBytes,
                limit: TRANSACTION_SIZE_BYTES_MAX,
                actual: TRANSACTION_SIZE_BYTES_MAX + 1,
            })
        );
    }

    #[test]
    fn typed_oversized_envelope_exceeds_the_transaction_size_limit() {
        let mut heap = Heap::new();
        let big = crate::value::Value::Bytes(vec![7; TRANSACTION_SIZE_BYTES_MAX as usize]);
        let ops = vec![create(0, ObjectKind::List), Op::ListPush { target: Target::New(0), value: big }];
        let reply = heap.apply_command(1, &envelope(Vec::new(), ops), &mut Vec::new());
        assert!(matches!(reply, Reply::Rejected(Rejection::LimitExceeded { what: Limit::TransactionSizeBytes, .. })));
        assert_eq!(heap.object_count(), 0);
    }

    #[test]
    fn noop_advances_the_applied_index() {
        let mut heap = Heap::new();
        let mut writes = Vec::new();
        heap.apply_noop(4, &mut writes);
        assert_eq!(heap.applied_index(), 4);
        assert_eq!(writes, vec![(APPLIED_INDEX_KEY.to_vec(), Some(u64_value(4)))]);
    }

    #[test]
    #[should_panic(expected = "entries must be applied once each, in increasing order")]
    fn applying_an_old_index_is_fatal() {
        let mut heap = Heap::new();
        heap.apply_noop(4, &mut Vec::new());
        let empty = Envelope {
            leader_time_ms: 0,
            command: Command::Transaction(Transaction { expect: Vec::new(), fences: Vec::new(), ops: Vec::new() }),
        };
        heap.apply_command(4, &empty, &mut Vec::new());
    }

    #[test]
    fn roots_are_sorted_and_rebinding_the_same_id_writes_nothing() {
        let mut heap = Heap::new();
        let bind = |name: &str, handle| Op::BindRoot { name: name.to_string(), target: Target::New(handle) };
        apply_ops(&mut heap, 1, vec![create(0, ObjectKind::Fields), bind("b", 0), bind("a", 0)]);
        assert_eq!(heap.roots(), vec![("a".to_string(), 1), ("b".to_string(), 1)]);
        assert_eq!(heap.root("b"), Some(1));
        let mut writes = Vec::new();
        let rebind = vec![Op::BindRoot { name: "a".to_string(), target: Target::Id(1) }];
        heap.apply_command(2, &envelope(Vec::new(), rebind), &mut writes);
        assert_eq!(writes, vec![(APPLIED_INDEX_KEY.to_vec(), Some(u64_value(2)))]);
    }
}
