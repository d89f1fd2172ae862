//! Every bound the heap enforces. They are constants, not configuration, because every replica
//! must reject exactly the same commands.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest class, field, map key or root name, in UTF-8 bytes.
pub const NAME_LENGTH_BYTES_MAX: u64 = 256;
/// Largest object, measured as its encoded size (what is written to disk per change).
pub const OBJECT_SIZE_BYTES_MAX: u64 = 1024 * 1024;
/// Most fields in one Fields object.
pub const FIELDS_PER_OBJECT_MAX: u64 = 1024;
/// Most entries in one Map object or elements in one List object.
pub const COLLECTION_LENGTH_MAX: u64 = 100_000;
/// Most ops in one transaction.
pub const TRANSACTION_OPS_MAX: u64 = 10_000;
/// Most `expect` preconditions in one transaction; reported as `Limit::TransactionOps`.
pub const TRANSACTION_EXPECTS_MAX: u64 = TRANSACTION_OPS_MAX;
/// Most `fences` in one transaction: one per lock it writes under is plenty.
pub const TRANSACTION_FENCES_MAX: u64 = 1024;
/// Largest encoded envelope; also the most bytes `decode_envelope` and `decode_reply` accept.
pub const TRANSACTION_SIZE_BYTES_MAX: u64 = 4 * 1024 * 1024;
/// Most objects in the heap at once (live plus not yet collected).
pub const OBJECT_COUNT_MAX: u64 = 50_000_000;
/// Ids one `AllocateIds` reserves at most (Terracotta clients leased 50,000 at a time).
pub const ID_RANGE_MAX: u32 = 50_000;
/// `next_id` never passes this, so id arithmetic cannot overflow however many ranges are taken.
pub const OBJECT_ID_MAX: u64 = u64::MAX / 2;
/// Most objects one graph read returns.
pub const GRAPH_READ_OBJECTS_MAX: u64 = 10_000;
/// Most encoded bytes of objects one graph read returns (the sum of their encoded sizes); a
/// read that reaches it stops with `truncated`, like one that reaches its object budget.
pub const GRAPH_READ_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// Most start points (root names plus ids) in one graph query; reported as
/// `Limit::GraphReadObjects` because each start point is at most one returned object.
pub const GRAPH_QUERY_STARTS_MAX: u64 = GRAPH_READ_OBJECTS_MAX;

/// Shortest session lease: below this a client cannot renew in time over a slow network.
pub const SESSION_TTL_MS_MIN: u64 = 500;
/// Longest session lease: a dead client keeps its locks at most this long.
pub const SESSION_TTL_MS_MAX: u64 = 300_000;
/// Most open sessions; every session is scanned by `Command::Grace`.
pub const SESSIONS_MAX: u64 = 100_000;
/// Most open sessions of one credential (`Session::owner`): a tenth of `SESSIONS_MAX`, so one
/// client that opens sessions in a loop fills its own quota and leaves room for everyone else.
/// A real client needs one session per process, so this is far above any honest use.
pub const SESSIONS_PER_OWNER_MAX: u64 = 10_000;
/// Most replies one session keeps for exactly-once retries (pending ones included); the client
/// frees them by raising `acknowledged_below`.
pub const REPLIES_PER_SESSION_MAX: u64 = 1024;
/// Most object ids one `Command::Collect` names, so at most this many objects are freed per
/// entry. Freeing one costs about ten B-tree operations (the store, the counts, the unreferenced
/// set), 0.3-1 us each at 10 million objects: about 1-5 ms per entry at most.
pub const COLLECT_OBJECTS_PER_STEP_MAX: u64 = 1_024;
/// Most references the objects named by one `Command::Collect` may hold together when it names
/// more than one object: each is read once by the closure check and counted once. One object
/// with more (a list of up to `COLLECTION_LENGTH_MAX` references) is collectable in a batch of
/// its own, whose closure check reads its references once (a few ms for 100,000).
pub const COLLECT_REFS_PER_STEP_MAX: u64 = 2_048;
/// Most references one `Command::Collect` decrements, those left over by earlier entries and
/// those of the objects it frees together: about 0.5-1 us each at 10 million objects. A freed
/// object's references beyond this wait in the dying set (`dying.rs`) for the next entries.
pub const COLLECT_DECREMENTS_PER_STEP_MAX: u64 = 4_096;
/// Most references of freed objects still waiting to be decremented (8 bytes each on every
/// node): a Collect that would leave more keeps its whole batch instead (keeping is always
/// safe). Room for two largest objects, so with an empty backlog any batch can be freed.
pub const DYING_REFERENCES_MAX: u64 = 2 * COLLECTION_LENGTH_MAX;
/// Most holds of ended sessions one `Command::Collect` drops (about four B-tree operations
/// each), so a session that ended holding a million objects releases them over many bounded
/// entries, not in one.
pub const ENDED_HOLDS_DROPPED_PER_STEP_MAX: u64 = 1_024;
/// Most object ids one `Hold` or `Release` request names.
pub const HOLD_IDS_PER_REQUEST_MAX: u64 = 10_000;
/// Most objects one session holds at once (its creation holds included): a JVM keeps a hold
/// for every shared object its code still references.
pub const HOLDS_PER_SESSION_MAX: u64 = 1_000_000;
/// Most holds of all sessions together, so sessions of many credentials cannot pin memory
/// without bound (each hold costs about 100 bytes of every node's memory).
pub const HOLDS_MAX: u64 = 10_000_000;
/// Most locks in use (held, queued for or waited on) at once.
pub const LOCKS_MAX: u64 = 1_000_000;
/// Most holders of one lock (readers); further readers queue until one leaves.
pub const HOLDERS_PER_LOCK_MAX: u64 = 10_000;
/// Most waiters of one lock, queued plus waiting on its condition.
pub const WAITERS_PER_LOCK_MAX: u64 = 10_000;
/// Most reentrant holds of one lock by one thread, as for a Java monitor.
pub const REENTRANT_HOLDS_MAX: u64 = i32::MAX as u64;
/// Longest timeout of a `Lock` or `Wait`; `None` waits without a timeout.
pub const LOCK_TIMEOUT_MS_MAX: u64 = 24 * 60 * 60 * 1000;
/// Fencing tokens are `log_index * TOKENS_PER_LOG_INDEX + ordinal`, the ordinal counting the
/// grants of one lock within one log entry.
pub const TOKENS_PER_LOG_INDEX: u64 = 65_536;
/// Most bytes one lock holder or waiter encodes to (five or six varints and small enums).
pub const LOCK_ENTRY_SIZE_BYTES_MAX: u64 = 64;
/// Largest encoded lock state: every holder and waiter at full size, plus the lengths and the
/// last token.
pub const LOCK_SIZE_BYTES_MAX: u64 = (HOLDERS_PER_LOCK_MAX + WAITERS_PER_LOCK_MAX + 1) * LOCK_ENTRY_SIZE_BYTES_MAX;
/// Largest encoded session: two names (client and owner, each with its length varint) and four
/// varints.
pub const SESSION_SIZE_BYTES_MAX: u64 = 2 * NAME_LENGTH_BYTES_MAX + 64;

/// bincode's decode limit counts decoded width, not input bytes: a one-byte varint `u64` claims
/// 8 bytes. So a decode limit of this many times the input bound accepts every input within the
/// bound, while still stopping a hostile length prefix from allocating gigabytes.
pub const DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX: u64 = 8;
/// The bincode decode limit for envelopes and replies.
pub const ENVELOPE_DECODE_CLAIM_BYTES_MAX: usize =
    (TRANSACTION_SIZE_BYTES_MAX * DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX) as usize;
/// The bincode decode limit for lock states in the image.
pub const LOCK_DECODE_CLAIM_BYTES_MAX: usize = (LOCK_SIZE_BYTES_MAX * DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX) as usize;
/// The bincode decode limit for sessions in the image.
pub const SESSION_DECODE_CLAIM_BYTES_MAX: usize =
    (SESSION_SIZE_BYTES_MAX * DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX) as usize;
/// The bincode decode limit for objects.
pub const OBJECT_DECODE_CLAIM_BYTES_MAX: usize =
    (OBJECT_SIZE_BYTES_MAX * DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX) as usize;

// A largest object must be writable by one transaction.
const _: () = assert!(OBJECT_SIZE_BYTES_MAX <= TRANSACTION_SIZE_BYTES_MAX);
// A Fields object with every field name at full length must still fit in an object.
const _: () = assert!(FIELDS_PER_OBJECT_MAX * NAME_LENGTH_BYTES_MAX <= OBJECT_SIZE_BYTES_MAX);
// Every element encodes to at least one byte, so a full-length collection can fit in an object.
const _: () = assert!(COLLECTION_LENGTH_MAX <= OBJECT_SIZE_BYTES_MAX);
// List indexes and lengths travel as u32.
const _: () = assert!(COLLECTION_LENGTH_MAX + TRANSACTION_OPS_MAX <= u32::MAX as u64);
// Create handles are u32, and every create in a transaction needs its own.
const _: () = assert!(TRANSACTION_OPS_MAX <= u32::MAX as u64);
// GraphQuery::max_objects is u32.
const _: () = assert!(GRAPH_READ_OBJECTS_MAX <= u32::MAX as u64);
// The decode limits are cast to usize; keep them within 32 bits so the cast is exact anywhere.
const _: () = assert!(TRANSACTION_SIZE_BYTES_MAX * DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX <= u32::MAX as u64);
const _: () = assert!(LOCK_SIZE_BYTES_MAX * DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX <= u32::MAX as u64);
// One entry grants a lock at most once directly plus once per waiter, so the grant ordinal of a
// fencing token stays below TOKENS_PER_LOG_INDEX and tokens never collide across entries.
const _: () = assert!(WAITERS_PER_LOCK_MAX + 1 < TOKENS_PER_LOG_INDEX);
const _: () = assert!(SESSION_TTL_MS_MIN <= SESSION_TTL_MS_MAX);
// One credential can never take every session: others can always still open one.
const _: () = assert!(SESSIONS_PER_OWNER_MAX < SESSIONS_MAX);
const _: () = assert!(SESSIONS_PER_OWNER_MAX >= 1);
// A session lasts at most its TTL without a request; the reply table must hold a client's
// requests in flight over that time without acknowledgments getting through.
const _: () = assert!(REPLIES_PER_SESSION_MAX >= 16);
// A transaction may create TRANSACTION_OPS_MAX unreferenced objects, each a creation hold.
const _: () = assert!(TRANSACTION_OPS_MAX <= HOLDS_PER_SESSION_MAX);
const _: () = assert!(HOLD_IDS_PER_REQUEST_MAX <= HOLDS_PER_SESSION_MAX);
const _: () = assert!(HOLDS_PER_SESSION_MAX <= HOLDS_MAX);
// Every entry that continues a backlog shrinks it: it decrements more than its batch can add
// (a single largest object aside, which the collector lets the backlog absorb first).
const _: () = assert!(COLLECT_DECREMENTS_PER_STEP_MAX >= 2 * COLLECT_REFS_PER_STEP_MAX);
// A Fields object with every field a reference fits in a shared batch.
const _: () = assert!(COLLECT_REFS_PER_STEP_MAX >= FIELDS_PER_OBJECT_MAX);
// With an empty backlog, any batch (the largest object alone, or a shared batch) can be freed.
const _: () = assert!(DYING_REFERENCES_MAX >= COLLECTION_LENGTH_MAX);
const _: () = assert!(DYING_REFERENCES_MAX >= COLLECT_REFS_PER_STEP_MAX);

/// Which bound a `Rejection::LimitExceeded` hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Limit {
    ObjectSizeBytes,
    FieldsPerObject,
    CollectionLength,
    TransactionOps,
    TransactionSizeBytes,
    NameLengthBytes,
    ObjectCount,
    GraphReadObjects,
    TransactionFences,
    Sessions,
    Locks,
    Waiters,
    PendingReplies,
    ReentrantHolds,
    /// Open sessions of one credential. Last, so the encoding of the older variants (stored
    /// replies in the image) stays as it was.
    SessionsPerOwner,
    /// Objects held by one session (`HOLDS_PER_SESSION_MAX`).
    HoldsPerSession,
    /// Object ids in one Hold or Release request (`HOLD_IDS_PER_REQUEST_MAX`).
    HoldIds,
    /// Object ids in one Collect (`COLLECT_OBJECTS_PER_STEP_MAX`).
    CollectObjects,
    /// References held by the objects of one Collect of several objects
    /// (`COLLECT_REFS_PER_STEP_MAX`).
    CollectRefs,
    /// Holds of all sessions together (`HOLDS_MAX`).
    Holds,
}

impl Limit {
    /// The constant behind this limit.
    pub fn max(self) -> u64 {
        match self {
            Limit::ObjectSizeBytes => OBJECT_SIZE_BYTES_MAX,
            Limit::FieldsPerObject => FIELDS_PER_OBJECT_MAX,
            Limit::CollectionLength => COLLECTION_LENGTH_MAX,
            Limit::TransactionOps => TRANSACTION_OPS_MAX,
            Limit::TransactionSizeBytes => TRANSACTION_SIZE_BYTES_MAX,
            Limit::NameLengthBytes => NAME_LENGTH_BYTES_MAX,
            Limit::ObjectCount => OBJECT_COUNT_MAX,
            Limit::GraphReadObjects => GRAPH_READ_OBJECTS_MAX,
            Limit::TransactionFences => TRANSACTION_FENCES_MAX,
            Limit::Sessions => SESSIONS_MAX,
            Limit::SessionsPerOwner => SESSIONS_PER_OWNER_MAX,
            Limit::Locks => LOCKS_MAX,
            Limit::Waiters => WAITERS_PER_LOCK_MAX,
            Limit::PendingReplies => REPLIES_PER_SESSION_MAX,
            Limit::ReentrantHolds => REENTRANT_HOLDS_MAX,
            Limit::HoldsPerSession => HOLDS_PER_SESSION_MAX,
            Limit::HoldIds => HOLD_IDS_PER_REQUEST_MAX,
            Limit::CollectObjects => COLLECT_OBJECTS_PER_STEP_MAX,
            Limit::CollectRefs => COLLECT_REFS_PER_STEP_MAX,
            Limit::Holds => HOLDS_MAX,
        }
    }

    /// What the client can do about hitting this limit.
    pub fn advice(self) -> &'static str {
        match self {
            Limit::ObjectSizeBytes
            | Limit::FieldsPerObject
            | Limit::CollectionLength
            | Limit::TransactionOps
            | Limit::TransactionSizeBytes
            | Limit::NameLengthBytes
            | Limit::ObjectCount
            | Limit::GraphReadObjects
            | Limit::TransactionFences => "split the data into more objects or the work into more transactions",
            Limit::Sessions => "close sessions that are no longer used, or retry once idle ones expire",
            Limit::SessionsPerOwner => {
                "this credential has too many open sessions: reuse one session per process, close \
                 sessions that are no longer used, or retry once idle ones expire"
            }
            Limit::Locks => "release locks that are no longer needed, or retry later",
            Limit::Waiters => "retry later or use a timeout; too many threads wait for this lock",
            Limit::PendingReplies => {
                "raise acknowledged_below to acknowledge the replies received, then retry with the same sequence"
            }
            Limit::ReentrantHolds => "release the lock as often as it was acquired",
            Limit::HoldsPerSession | Limit::Holds => {
                "release holds of objects the process no longer references, or link new objects \
                 into the heap (a root or a reachable object) in the transaction that creates them"
            }
            Limit::HoldIds => "send the ids in several Hold or Release requests",
            Limit::CollectObjects | Limit::CollectRefs => "propose smaller Collect batches",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::ObjectSizeBytes => "encoded object size in bytes",
            Limit::FieldsPerObject => "fields per object",
            Limit::CollectionLength => "collection length",
            Limit::TransactionOps => "ops (or expect preconditions) per transaction",
            Limit::TransactionSizeBytes => "encoded transaction size in bytes",
            Limit::NameLengthBytes => "name length in bytes",
            Limit::ObjectCount => "object count",
            Limit::GraphReadObjects => "objects per graph read",
            Limit::TransactionFences => "fences per transaction",
            Limit::Sessions => "open sessions",
            Limit::SessionsPerOwner => "open sessions of one credential",
            Limit::Locks => "locks in use",
            Limit::Waiters => "waiters of one lock (queued plus waiting on its condition)",
            Limit::PendingReplies => "stored replies of one session",
            Limit::ReentrantHolds => "reentrant holds of one lock by one thread",
            Limit::HoldsPerSession => "objects held by one session",
            Limit::HoldIds => "object ids per Hold or Release request",
            Limit::CollectObjects => "object ids per Collect",
            Limit::CollectRefs => "references of the objects of one Collect of several objects",
            Limit::Holds => "object holds of all sessions",
        })
    }
}
