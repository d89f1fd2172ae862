//! What the leader proposes to the log: an envelope carrying the leader's clock reading and one
//! command: a transaction, a session's request (locks, conditions, leases), or the leader's own
//! clock commands (`Tick`, `Grace`).

use serde::{Deserialize, Serialize};

use crate::object::ObjectKind;
use crate::value::{ObjectId, Value};

/// The object an op works on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// An object that exists before the op.
    Id(ObjectId),
    /// The object made by an earlier `Op::Create { handle, .. }` in the same transaction.
    New(u32),
}

/// One change inside a transaction. Ops apply in order; each sees the effects of the ones before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Makes an empty object; the reply maps `handle` to the id it received.
    Create { handle: u32, class: String, kind: ObjectKind },
    /// Fields objects only. `Value::Null` stores null; it does not remove the field.
    SetField { target: Target, field: String, value: Value },
    /// Fields objects only. Removing an absent field is allowed and changes nothing.
    RemoveField { target: Target, field: String },
    /// Map objects only.
    MapPut { target: Target, key: String, value: Value },
    /// Map objects only. Removing an absent key is allowed and changes nothing.
    MapRemove { target: Target, key: String },
    /// List objects only: appends.
    ListPush { target: Target, value: Value },
    /// List objects only: inserts before `index`; `index == len` appends.
    ListInsert { target: Target, index: u32, value: Value },
    /// List objects only: replaces the element at `index < len`.
    ListSet { target: Target, index: u32, value: Value },
    /// List objects only: removes the element at `index < len`, shifting later ones down.
    ListRemove { target: Target, index: u32 },
    /// Map or List objects: removes every entry or element.
    Clear { target: Target },
    /// Makes an empty object with an id the client reserved with `Command::AllocateIds` (so it
    /// knows the id before the commit). The id must be reserved (below `next_id`) and unused.
    CreateWithId { id: ObjectId, class: String, kind: ObjectKind },
    /// Makes `name` a root naming the target, replacing any earlier binding.
    BindRoot { name: String, target: Target },
    /// Makes `name` a root naming the target only if `name` is not bound yet; otherwise the whole
    /// transaction is rejected with `RootExists` (which names the bound object): how two clients
    /// that both create a missing root agree on one object.
    BindNewRoot { name: String, target: Target },
    /// Removes the root `name`; unbinding an unbound name changes nothing. The object stays
    /// until the collector frees it, once nothing references or holds it.
    UnbindRoot { name: String },
}

/// A unit that applies whole or not at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// Preconditions `(id, expected version)`, checked against the state before any op runs.
    pub expect: Vec<(ObjectId, u64)>,
    /// Fences `(lock name, token)`: the transaction is rejected with `Rejection::StaleFence`
    /// unless each lock currently has a holder with exactly that token. Checked before `expect`.
    pub fences: Vec<(String, u64)>,
    pub ops: Vec<Op>,
}

/// A client session's id, from the replicated counter `m/next_session_id`.
pub type SessionId = u64;
/// The first session id; 0 is never a session, so a zeroed field cannot name one.
pub const SESSION_ID_FIRST: SessionId = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LockMode {
    /// Shared with other readers.
    Read,
    /// Exclusive.
    Write,
}

/// What a session asks for. Locks are held by `(session, thread)`; `thread` is the client's own
/// thread id, so two threads of one client are two lock owners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SessionCommand {
    Transaction(Transaction),
    /// Renews the lease (as every applied request does); replies `Done`. Idempotent, so its reply
    /// is never stored: a retry simply renews the lease again.
    KeepAlive,
    /// Releases everything the session holds or waits for and deletes it; replies `Done`.
    Close,
    /// `timeout_ms`: `None` waits until granted or the session ends; `Some(0)` is a try-lock
    /// that never queues; at most `LOCK_TIMEOUT_MS_MAX`.
    Lock {
        name: String,
        thread: u64,
        mode: LockMode,
        timeout_ms: Option<u64>,
    },
    /// Undoes one `Lock`; `commit` applies in the same entry, before the release.
    Unlock {
        name: String,
        thread: u64,
        commit: Option<Transaction>,
    },
    /// Releases a write lock held by `thread` (all reentrant holds), waits to be notified or for
    /// the timeout, then reacquires it with the same hold count. `None` waits without timeout.
    Wait {
        name: String,
        thread: u64,
        timeout_ms: Option<u64>,
    },
    /// Wakes the first (or every, if `all`) thread waiting on the lock's condition.
    Notify {
        name: String,
        thread: u64,
        all: bool,
    },
    /// The session holds these objects: the collector keeps them while the session lives, even
    /// if nothing in the heap references them (a client holds what its code still uses).
    /// Holding twice is one hold; ids that no longer exist are answered in `Reply::Held`.
    Hold {
        ids: Vec<ObjectId>,
    },
    /// Ends the session's holds of these objects; releasing what is not held changes nothing.
    Release {
        ids: Vec<ObjectId>,
    },
    /// `Wait` by `thread` on a write lock the session holds as `holder` (a client's
    /// session-level greedy hold, which its threads share locally): the holder's hold ends and
    /// `thread` waits on the condition, then re-acquires the lock as itself with the holder's
    /// count. Appended last, so entries written before it decode as they did.
    WaitAs {
        name: String,
        holder: u64,
        thread: u64,
        timeout_ms: Option<u64>,
    },
}

/// Who sent a session request: the authenticated credential, filled in by the node from the
/// connection (never by the client), and carried in the log so every replica judges the request
/// the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The credential's name; a session answers only to the credential that opened it.
    pub name: String,
    /// The credential has the admin role: it may `Close` any credential's session.
    pub admin: bool,
}

/// One request of a session. `(session_id, sequence)` names it for exactly-once retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRequest {
    pub session_id: SessionId,
    /// Must be the session's owner, or an admin closing the session; anyone else is refused
    /// with `Rejection::NotSessionOwner` and changes nothing.
    pub caller: Caller,
    /// Chosen by the client, unique per request within the session; a retry reuses it.
    pub sequence: u64,
    /// The client has received the final replies of every request below this sequence, so the
    /// machine may forget them.
    pub acknowledged_below: u64,
    pub command: SessionCommand,
}

/// Every kind of heap command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// A transaction outside any session.
    Transaction(Transaction),
    OpenSession {
        /// Shown to operators; chosen by the client.
        client: String,
        ttl_ms: u64,
        /// The authenticated credential that opens the session, filled in by the node; only
        /// it (or an admin closing the session) may use the session.
        owner: String,
    },
    Session(SessionRequest),
    /// Proposed by the leader when `Heap::next_deadline_ms` has passed: expires sessions and
    /// times out waits whose time has come.
    Tick,
    /// Proposed by a new leader first: every session's lease is renewed from now, so that no
    /// session expires because leadership changed hands.
    Grace,
    /// Reserves `count` object ids for one client: replies `IdRange`; the client then creates
    /// objects with `Op::CreateWithId` and knows their ids before it commits.
    AllocateIds {
        count: u32,
    },
    /// Proposed by the leader's collector: frees those of `ids` that nothing outside them
    /// references, roots or holds (the largest such subset, checked here, so a wrong or stale
    /// proposal frees only garbage), and first drops up to `ENDED_HOLDS_DROPPED_PER_STEP_MAX`
    /// holds of ended sessions. Replies `Collected`.
    Collect {
        ids: Vec<ObjectId>,
    },
    /// Proposed by a new leader first (instead of `Grace`, which stays for entries written
    /// before): every session's lease is extended by the time the machine's clock skipped since
    /// the entry before (the time without a leader, when no client could renew), at most to a
    /// full lease from now. `Grace` renewed every lease from now, so under leaders changing
    /// more often than a lease a dead client's session, and its locks, never ended (found by the
    /// chaos suite's greedy-locks workload). Appended last: older entries decode unchanged.
    ResumeLeases,
}

/// What the leader proposes. Time enters the state machine only through `leader_time_ms`, so
/// every replica sees the same time for the same entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub leader_time_ms: u64,
    pub command: Command,
}
