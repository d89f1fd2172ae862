//! The Sovereign heap as a pure, deterministic state machine: objects, collections, roots,
//! transactions, graph reads, and client sessions with leases, exactly-once requests, cluster
//! locks, fencing tokens and conditions. Input is a committed log entry, output is the new
//! state, a reply and the changed persisted keys. No I/O, clock, randomness, threads or
//! hash-ordered collections, so every replica that applies the same log holds the same heap;
//! time enters only as the leader's timestamp in each entry.

mod apply;
mod codec;
mod command;
mod dying;
mod fencing;
mod gc_info;
mod gc_step;
mod graph;
mod heap;
mod holds;
mod image;
mod index;
mod limits;
mod lock;
mod lock_info;
mod lock_step;
mod names;
mod object;
mod object_store;
mod refs;
mod reply;
mod session;
mod session_info;
mod session_step;
mod step;
mod validate;
mod validate_locks;
mod value;

/// Helpers shared by the test files; each test file is declared beside the module it tests.
#[cfg(test)]
mod test_support;

pub use codec::{
    decode_envelope, decode_object, decode_reply, encode_envelope, encode_object, encode_reply, is_collect_envelope,
    CodecError,
};
pub use command::{
    Caller, Command, Envelope, LockMode, Op, SessionCommand, SessionId, SessionRequest, Target, Transaction,
    SESSION_ID_FIRST,
};
pub use fencing::{fencing_token, token_log_index};
pub use gc_info::{CollectPlan, GcSummary};
pub use graph::{Graph, GraphQuery};
pub use heap::{Heap, Write};
pub use image::{
    dying_key, hold_key, lock_key, lock_name_of_key, object_id_of_key, object_key, reply_key, root_key, session_key,
    ImageError, APPLIED_INDEX_KEY, DYING_KEY_PREFIX, HOLD_KEY_PREFIX, LOCK_KEY_PREFIX, NEXT_ID_KEY,
    NEXT_SESSION_ID_KEY, NOW_KEY, ROOT_KEY_PREFIX, SESSION_KEY_PREFIX,
};
pub use limits::{
    Limit, COLLECTION_LENGTH_MAX, COLLECT_DECREMENTS_PER_STEP_MAX, COLLECT_OBJECTS_PER_STEP_MAX,
    COLLECT_REFS_PER_STEP_MAX, DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX, DYING_REFERENCES_MAX,
    ENDED_HOLDS_DROPPED_PER_STEP_MAX, ENVELOPE_DECODE_CLAIM_BYTES_MAX, FIELDS_PER_OBJECT_MAX, GRAPH_QUERY_STARTS_MAX,
    GRAPH_READ_BYTES_MAX, GRAPH_READ_OBJECTS_MAX, HOLDERS_PER_LOCK_MAX, HOLDS_MAX, HOLDS_PER_SESSION_MAX,
    HOLD_IDS_PER_REQUEST_MAX, ID_RANGE_MAX, LOCKS_MAX, LOCK_TIMEOUT_MS_MAX, NAME_LENGTH_BYTES_MAX, OBJECT_COUNT_MAX,
    OBJECT_DECODE_CLAIM_BYTES_MAX, OBJECT_ID_MAX, OBJECT_SIZE_BYTES_MAX, REENTRANT_HOLDS_MAX, REPLIES_PER_SESSION_MAX,
    SESSIONS_MAX, SESSIONS_PER_OWNER_MAX, SESSION_TTL_MS_MAX, SESSION_TTL_MS_MIN, TOKENS_PER_LOG_INDEX,
    TRANSACTION_EXPECTS_MAX, TRANSACTION_FENCES_MAX, TRANSACTION_OPS_MAX, TRANSACTION_SIZE_BYTES_MAX,
    WAITERS_PER_LOCK_MAX,
};
pub use lock_info::{HolderInfo, LockInfo, WaiterInfo};
pub use object::{Body, Object, ObjectKind};
pub use reply::{Rejection, Reply};
pub use session_info::{OwnedRequestState, RequestState, SessionInfo};
pub use value::{ObjectId, Value, OBJECT_ID_FIRST};
