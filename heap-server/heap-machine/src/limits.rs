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
/// Largest encoded envelope; also the most bytes `decode_envelope` and `decode_reply` accept.
pub const TRANSACTION_SIZE_BYTES_MAX: u64 = 4 * 1024 * 1024;
/// Most objects in the heap. Objects are never deleted, so this also bounds `next_id`.
pub const OBJECT_COUNT_MAX: u64 = 50_000_000;
/// Most objects one graph read returns.
pub const GRAPH_READ_OBJECTS_MAX: u64 = 10_000;
/// Most encoded bytes of objects one graph read returns (the sum of their encoded sizes); a
/// read that reaches it stops with `truncated`, like one that reaches its object budget.
pub const GRAPH_READ_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// Most start points (root names plus ids) in one graph query; reported as
/// `Limit::GraphReadObjects` because each start point is at most one returned object.
pub const GRAPH_QUERY_STARTS_MAX: u64 = GRAPH_READ_OBJECTS_MAX;

/// bincode's decode limit counts decoded width, not input bytes: a one-byte varint `u64` claims
/// 8 bytes. So a decode limit of this many times the input bound accepts every input within the
/// bound, while still stopping a hostile length prefix from allocating gigabytes.
pub const DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX: u64 = 8;
/// The bincode decode limit for envelopes and replies.
pub const ENVELOPE_DECODE_CLAIM_BYTES_MAX: usize =
    (TRANSACTION_SIZE_BYTES_MAX * DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX) as usize;
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
        })
    }
}
