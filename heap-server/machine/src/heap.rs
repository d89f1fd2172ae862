//! The heap state and its entry points: apply a committed log entry, read objects and roots.
//! Everything here is deterministic: the same entries in the same order give the same state,
//! replies and writes on every replica. Sessions and locks are queried in `session.rs` and
//! `lock_info.rs`.

use std::collections::BTreeMap;

use crate::apply::Staged;
use crate::codec::{decode_envelope, encode_reply, encoded_size_bytes, CodecError};
use crate::command::{Envelope, SessionId, SESSION_ID_FIRST};
use crate::image::{object_key, root_key, u64_value, APPLIED_INDEX_KEY, NEXT_ID_KEY};
use crate::index::Index;
use crate::limits::{Limit, TRANSACTION_SIZE_BYTES_MAX};
use crate::lock::Lock;
use crate::object::Object;
use crate::reply::{Rejection, Reply};
use crate::session::Session;
use crate::step::Step;
use crate::value::{ObjectId, Value, OBJECT_ID_FIRST};

/// One persisted change: `(key, Some(value))` puts, `(key, None)` deletes.
pub type Write = (Vec<u8>, Option<Vec<u8>>);

#[derive(Debug, Clone, PartialEq)]
pub struct Heap {
    pub(crate) objects: BTreeMap<ObjectId, Object>,
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
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

impl Heap {
    pub fn new() -> Self {
        Heap {
            objects: BTreeMap::new(),
            roots: BTreeMap::new(),
            next_id: OBJECT_ID_FIRST,
            applied_index: 0,
            now_ms: 0,
            next_session_id: SESSION_ID_FIRST,
            sessions: BTreeMap::new(),
            replies: BTreeMap::new(),
            locks: BTreeMap::new(),
            index: Index::default(),
        }
    }

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

    pub fn applied_index(&self) -> u64 {
        self.applied_index
    }

    pub fn get(&self, id: ObjectId) -> Option<&Object> {
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

    /// Forgets everything, back to `Heap::new()`; used before loading a snapshot.
    pub fn clear(&mut self) {
        *self = Heap::new();
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

    /// Moves a staged transaction into the state and emits its writes: objects by id, then
    /// roots by name, then `next_id`. Returns the created `(handle, id)` pairs.
    pub(crate) fn commit(&mut self, log_index: u64, staged: Staged, writes: &mut Vec<Write>) -> Vec<(u32, ObjectId)> {
        for (id, (object, encoded)) in staged.objects {
            assert_eq!(object.id, id, "staged object stored under another id");
            assert_eq!(object.version, log_index, "a changed object must carry the log index of its change");
            assert!(
                !object.body.values().any(|v| matches!(v, Value::NewRef(_))),
                "object {id} would be stored with an unresolved NewRef"
            );
            writes.push((object_key(id), Some(encoded)));
            self.objects.insert(id, object);
        }
        for (name, binding) in staged.roots {
            match binding {
                Some(id) => {
                    assert!(self.objects.contains_key(&id), "root {name} to missing {id}");
                    if self.roots.get(&name) != Some(&id) {
                        writes.push((root_key(&name), Some(u64_value(id))));
                        self.roots.insert(name, id);
                    }
                }
                None => {
                    if self.roots.remove(&name).is_some() {
                        writes.push((root_key(&name), None));
                    }
                }
            }
        }
        assert!(staged.next_id >= self.next_id, "next_id must never go back");
        if staged.next_id != self.next_id {
            self.next_id = staged.next_id;
            writes.push((NEXT_ID_KEY.to_vec(), Some(u64_value(self.next_id))));
        }
        staged.created
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::{decode_reply, encode_envelope};
    use crate::command::{Command, Op, Target, Transaction};
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
