//! The state machine's answer to one command: committed with the ids of created objects, a
//! session or lock outcome, or rejected with a reason that tells the client what to fix.

use serde::{Deserialize, Serialize};

use crate::command::SessionId;
use crate::limits::{
    Limit, ID_RANGE_MAX, LOCK_TIMEOUT_MS_MAX, NAME_LENGTH_BYTES_MAX, SESSION_TTL_MS_MAX, SESSION_TTL_MS_MIN,
};
use crate::object::ObjectKind;
use crate::value::ObjectId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// The transaction applied at `log_index`; every object it changed now has that version.
    Committed {
        log_index: u64,
        /// `(handle, id)` for every `Op::Create`, in op order.
        created: Vec<(u32, ObjectId)>,
    },
    /// Nothing changed (except that the entry counts as applied and, for a session request of
    /// the session's owner, that the lease was renewed and this reply stored; `UnknownSession`
    /// and `NotSessionOwner` change nothing at all).
    Rejected(Rejection),
    SessionOpened {
        session_id: SessionId,
        ttl_ms: u64,
    },
    /// KeepAlive, Close, Notify, Tick and Grace.
    Done,
    /// `AllocateIds`: ids `first..first + count` are reserved for the caller.
    IdRange {
        first: ObjectId,
        count: u32,
    },
    /// The lock is held: granted now, reentrantly (same token), or later from the queue.
    LockGranted {
        token: u64,
    },
    /// A Lock is queued or a Wait is waiting. The final reply replaces this one under the same
    /// `(session, sequence)` when it comes; see `Heap::request_state`.
    Pending,
    /// Final: a try-lock found the lock unavailable, or a queued Lock's timeout passed.
    LockTimedOut,
    /// Final reply of a Wait: the lock is held again with the hold count it had, under a new
    /// `token`; `notified` is false when the wait timed out.
    WaitDone {
        token: u64,
        notified: bool,
    },
    /// One hold released (the lock is free of this thread once every hold is released);
    /// `commit` is `(log_index, created)` of the attached transaction, if there was one.
    Unlocked {
        commit: Option<(u64, Vec<(u32, ObjectId)>)>,
    },
    /// `Hold`: every existing id is now held by the session; `missing` lists the ids that do
    /// not exist (never created, or already collected).
    Held {
        missing: Vec<ObjectId>,
    },
    /// `Collect`: how many objects were freed, how many of the named ones were kept (something
    /// outside the batch still references or holds them, or the dying backlog was full), how
    /// many holds of ended sessions were dropped, how many references of freed objects were
    /// decremented, and how many are still waiting (the collector proposes more while any are).
    Collected {
        freed: u64,
        kept: u64,
        ended_holds_dropped: u64,
        decremented: u64,
        decrements_pending: u64,
    },
}

/// Why a command changed nothing. Every replica computes the same rejection for the same entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error(
        "object {id} is at version {actual} but the transaction expected version {expected}: \
         another transaction changed it first; re-read the object and retry"
    )]
    VersionConflict { id: ObjectId, expected: u64, actual: u64 },
    #[error("object {id} does not exist; re-read the roots and use an id that exists")]
    UnknownObject { id: ObjectId },
    #[error(
        "handle {handle} names no object created in this transaction (Target::New needs the \
         Op::Create before it, Value::NewRef needs one anywhere in the transaction); add the \
         Op::Create or fix the handle"
    )]
    UnknownHandle { handle: u32 },
    #[error(
        "handle {handle} is used by more than one Op::Create in this transaction; give each \
         Create its own handle"
    )]
    DuplicateHandle { handle: u32 },
    #[error(
        "object {from} would refer to object {to}, which does not exist; refer only to existing \
         objects or to objects created in the same transaction (Value::NewRef)"
    )]
    DanglingReference { from: ObjectId, to: ObjectId },
    #[error(
        "object {id} is a {actual} object but the op needs a {expected} object; use the op that \
         matches the object's kind"
    )]
    WrongKind { id: ObjectId, expected: ObjectKind, actual: ObjectKind },
    #[error(
        "index {index} is out of range for list object {id} of length {len}; re-read the list \
         (ListInsert accepts 0..=len, ListSet and ListRemove 0..len)"
    )]
    IndexOutOfRange { id: ObjectId, index: u32, len: u32 },
    #[error("{what} would be {actual}, over the limit of {limit}; {}", .what.advice())]
    LimitExceeded { what: Limit, limit: u64, actual: u64 },
    #[error(
        "invalid {what}: {reason}; names are at most {NAME_LENGTH_BYTES_MAX} bytes of UTF-8, \
         only map keys and client names may be empty, and class, root, lock, client and owner \
         names may not contain control characters"
    )]
    InvalidName { what: String, reason: String },
    #[error(
        "malformed command: {reason}; the client and the cluster disagree on the command format, \
         so check that they run compatible versions"
    )]
    Malformed { reason: String },
    #[error("session {session_id} does not exist or has expired; open a new session")]
    UnknownSession { session_id: SessionId },
    #[error(
        "session {session_id} expired or was closed before this request finished, and its locks \
         were released; open a new session, reacquire the locks and re-read before writing"
    )]
    SessionExpired { session_id: SessionId },
    #[error(
        "request {sequence} of session {session_id} is below the acknowledged sequence \
         {acknowledged_below}, so its reply was already forgotten; send new requests with new \
         sequence numbers and acknowledge only replies you have received"
    )]
    SequenceTooOld { session_id: SessionId, sequence: u64, acknowledged_below: u64 },
    #[error(
        "thread {thread} of this session does not hold lock {lock:?} (Wait needs it held in write \
         mode); acquire the lock first"
    )]
    NotHolder { lock: String, thread: u64 },
    #[error(
        "lock {lock:?} is held for reading by this thread and cannot be upgraded to writing (two \
         upgrading readers would deadlock); release the read lock first, then lock for writing"
    )]
    UpgradeRefused { lock: String },
    #[error(
        "lock {lock:?} is no longer held with token {token} (it was released or granted to \
         someone else); reacquire it and re-read before writing"
    )]
    StaleFence { lock: String, token: u64 },
    #[error(
        "thread {thread} of this session is already waiting for lock {lock:?}; wait for the reply \
         of that request (retry it with its own sequence) instead of sending another"
    )]
    AlreadyWaiting { lock: String, thread: u64 },
    #[error(
        "timeout of {timeout_ms} ms is over the limit of {LOCK_TIMEOUT_MS_MAX} ms; use a shorter \
         timeout, or none to wait until granted"
    )]
    InvalidTimeout { timeout_ms: u64 },
    #[error(
        "session ttl of {ttl_ms} ms is outside {SESSION_TTL_MS_MIN}..={SESSION_TTL_MS_MAX} ms; \
         choose a ttl in that range"
    )]
    InvalidTtl { ttl_ms: u64 },
    #[error("root {name:?} is already bound to object {id}; use that object (read the root)")]
    RootExists { name: String, id: ObjectId },
    #[error("object id {id} cannot be created: {reason}; create objects with ids from your own AllocateIds range")]
    InvalidId { id: ObjectId, reason: String },
    #[error("cannot reserve {count} ids: between 1 and {ID_RANGE_MAX} at a time")]
    InvalidIdCount { count: u32 },
    /// Last, so the encoding of the older variants (stored replies in the image) stays as it was.
    #[error(
        "session {session_id} belongs to another credential than {caller:?}, so this request \
         was refused and changed nothing; open your own session with OpenSession and send \
         requests on it (only an admin may close another credential's session)"
    )]
    NotSessionOwner { session_id: SessionId, caller: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let conflict = Rejection::VersionConflict { id: 4, expected: 2, actual: 3 };
        assert_eq!(
            conflict.to_string(),
            "object 4 is at version 3 but the transaction expected version 2: another \
             transaction changed it first; re-read the object and retry"
        );
        let limit = Rejection::LimitExceeded { what: Limit::FieldsPerObject, limit: 1024, actual: 1025 };
        assert!(limit.to_string().starts_with("fields per object would be 1025"));
        assert!(limit.to_string().ends_with("split the data into more objects or the work into more transactions"));
        let replies = Rejection::LimitExceeded { what: Limit::PendingReplies, limit: 1024, actual: 1025 };
        assert!(replies.to_string().contains("raise acknowledged_below"));
        let fence = Rejection::StaleFence { lock: "L".to_string(), token: 65_536 };
        assert_eq!(
            fence.to_string(),
            "lock \"L\" is no longer held with token 65536 (it was released or granted to someone \
             else); reacquire it and re-read before writing"
        );
        assert!(Rejection::InvalidTtl { ttl_ms: 1 }.to_string().contains("500..=300000"));
        assert!(Rejection::UnknownSession { session_id: 3 }.to_string().ends_with("open a new session"));
        let hijack = Rejection::NotSessionOwner { session_id: 3, caller: "app".to_string() };
        assert!(hijack.to_string().starts_with("session 3 belongs to another credential than \"app\""));
        assert!(hijack.to_string().contains("open your own session"));
    }
}
