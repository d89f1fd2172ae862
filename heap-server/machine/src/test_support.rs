//! Helpers shared by the unit tests and property tests: building envelopes, applying ops, and
//! driving sessions with every image invariant checked after each entry.

use std::collections::BTreeMap;

use crate::command::{Caller, Command, Envelope, LockMode, Op, SessionCommand, SessionId, SessionRequest, Transaction};
use crate::heap::Heap;
use crate::image::{APPLIED_INDEX_KEY, NOW_KEY};
use crate::object::ObjectKind;
use crate::reply::Reply;
use crate::session_info::OwnedRequestState;
use crate::value::ObjectId;

/// The credential every `Driver` session is opened by unless a test says otherwise.
pub(crate) const TEST_OWNER: &str = "test";

/// A caller with the credential `name`, not an admin.
pub(crate) fn caller(name: &str) -> Caller {
    Caller { name: name.to_string(), admin: false }
}

/// An admin caller with the credential `name`.
pub(crate) fn admin(name: &str) -> Caller {
    Caller { name: name.to_string(), admin: true }
}

pub(crate) fn envelope(expect: Vec<(ObjectId, u64)>, ops: Vec<Op>) -> Envelope {
    Envelope { leader_time_ms: 0, command: Command::Transaction(Transaction { expect, fences: Vec::new(), ops }) }
}

pub(crate) fn create(handle: u32, kind: ObjectKind) -> Op {
    Op::Create { handle, class: "C".to_string(), kind }
}

/// Applies `ops` at `log_index` and returns the reply, checking the heap stays valid.
pub(crate) fn try_ops(heap: &mut Heap, log_index: u64, ops: Vec<Op>) -> Reply {
    let reply = heap.apply_command(log_index, &envelope(Vec::new(), ops), &mut Vec::new());
    if let Err(error) = heap.validate() {
        panic!("heap invalid after log index {log_index}: {error}");
    }
    reply
}

/// Applies `ops` at `log_index`, which must commit; returns the created ids in op order.
pub(crate) fn apply_ops(heap: &mut Heap, log_index: u64, ops: Vec<Op>) -> Vec<ObjectId> {
    match try_ops(heap, log_index, ops) {
        Reply::Committed { created, .. } => created.into_iter().map(|(_, id)| id).collect(),
        other => panic!("transaction not committed: {other:?}"),
    }
}

/// Drives a heap through commands at consecutive log indexes under a test-controlled leader
/// clock. After every entry it checks `validate()`, that the emitted writes turn the old image
/// into the new one (each key written once), and that export, clear and load rebuild the heap.
pub(crate) struct Driver {
    pub heap: Heap,
    pub leader_time_ms: u64,
    next_sequence: BTreeMap<SessionId, u64>,
    /// Every entry applied with its reply, to replay elsewhere.
    pub log: Vec<(Envelope, Reply)>,
}

impl Driver {
    pub fn new() -> Self {
        Driver { heap: Heap::new(), leader_time_ms: 0, next_sequence: BTreeMap::new(), log: Vec::new() }
    }

    /// The log index the next command gets.
    pub fn next_index(&self) -> u64 {
        self.heap.applied_index() + 1
    }

    pub fn apply(&mut self, command: Command) -> Reply {
        let before: BTreeMap<Vec<u8>, Vec<u8>> = self.heap.export().into_iter().collect();
        let mut writes = Vec::new();
        let envelope = Envelope { leader_time_ms: self.leader_time_ms, command };
        let reply = self.heap.apply_command(self.next_index(), &envelope, &mut writes);
        if let Err(error) = self.heap.validate() {
            panic!("heap invalid after {envelope:?}: {error}");
        }
        let mut image = before;
        let mut written = std::collections::BTreeSet::new();
        for (key, value) in writes {
            assert!(written.insert(key.clone()), "key {:?} written twice", key.escape_ascii().to_string());
            match value {
                Some(value) => image.insert(key, value),
                None => image.remove(&key),
            };
        }
        let exported = self.heap.export();
        assert_eq!(image.into_iter().collect::<Vec<_>>(), exported, "writes do not rebuild the image");
        let mut loaded = Heap::new();
        for (key, value) in &exported {
            loaded.load(key, value).expect("an exported image loads");
        }
        loaded.validate().expect("a loaded image is valid");
        assert_eq!(loaded, self.heap, "export and load do not round-trip");
        self.log.push((envelope, reply.clone()));
        reply
    }

    /// Opens a session owned by `TEST_OWNER`.
    pub fn open(&mut self, ttl_ms: u64) -> SessionId {
        self.open_as(TEST_OWNER, ttl_ms)
    }

    /// Opens a session owned by the credential `owner`.
    pub fn open_as(&mut self, owner: &str, ttl_ms: u64) -> SessionId {
        match self.apply(Command::OpenSession { client: "test".to_string(), ttl_ms, owner: owner.to_string() }) {
            Reply::SessionOpened { session_id, .. } => session_id,
            other => panic!("OpenSession gave {other:?}"),
        }
    }

    /// Sends `command` as `TEST_OWNER` under the session's next sequence (acknowledging
    /// nothing); returns the sequence and the reply.
    pub fn send(&mut self, session_id: SessionId, command: SessionCommand) -> (u64, Reply) {
        self.send_as(caller(TEST_OWNER), session_id, command)
    }

    /// Sends `command` as `caller` under the session's next sequence (acknowledging nothing);
    /// returns the sequence and the reply.
    pub fn send_as(&mut self, caller: Caller, session_id: SessionId, command: SessionCommand) -> (u64, Reply) {
        let sequence = *self.next_sequence.entry(session_id).and_modify(|next| *next += 1).or_insert(1);
        let request = SessionRequest { session_id, caller, sequence, acknowledged_below: 0, command };
        (sequence, self.apply(Command::Session(request)))
    }

    pub fn lock(&mut self, session_id: SessionId, name: &str, thread: u64, mode: LockMode) -> (u64, Reply) {
        self.send(session_id, SessionCommand::Lock { name: name.to_string(), thread, mode, timeout_ms: None })
    }

    /// Locks for writing, which must be granted at once; returns the token.
    pub fn lock_now(&mut self, session_id: SessionId, name: &str, thread: u64) -> u64 {
        match self.lock(session_id, name, thread, LockMode::Write).1 {
            Reply::LockGranted { token } => token,
            other => panic!("lock {name} not granted: {other:?}"),
        }
    }

    pub fn unlock(&mut self, session_id: SessionId, name: &str, thread: u64) -> Reply {
        self.send(session_id, SessionCommand::Unlock { name: name.to_string(), thread, commit: None }).1
    }

    pub fn state(&self, session_id: SessionId, sequence: u64) -> OwnedRequestState {
        self.heap.request_state(session_id, sequence).into_owned()
    }

    pub fn tick_at(&mut self, leader_time_ms: u64) -> Reply {
        self.leader_time_ms = leader_time_ms;
        self.apply(Command::Tick)
    }
}

pub(crate) fn final_reply(reply: Reply) -> OwnedRequestState {
    OwnedRequestState::Final(reply)
}

/// The keys every applied envelope may write, even a rejected one.
pub(crate) fn is_bookkeeping(key: &[u8]) -> bool {
    key == APPLIED_INDEX_KEY || key == NOW_KEY
}

/// The image without the applied index and the clock.
pub(crate) fn without_applied(image: &[(Vec<u8>, Vec<u8>)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    image.iter().filter(|(key, _)| !is_bookkeeping(key)).cloned().collect()
}
