//! The Sovereign heap as a pure, deterministic state machine: objects, collections, roots,
//! transactions and graph reads. Input is a committed log entry, output is the new state, a
//! reply and the changed persisted keys. No I/O, clock, randomness, threads or hash-ordered
//! collections, so every replica that applies the same log holds the same heap.

mod apply;
mod codec;
mod command;
mod graph;
mod heap;
mod image;
mod limits;
mod names;
mod object;
mod reply;
mod validate;
mod value;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;

pub use codec::{
    decode_envelope, decode_object, decode_reply, encode_envelope, encode_object, encode_reply, CodecError,
};
pub use command::{Command, Envelope, Op, Target, Transaction};
pub use graph::{Graph, GraphQuery};
pub use heap::{Heap, Write};
pub use image::{object_key, root_key, ImageError, APPLIED_INDEX_KEY, NEXT_ID_KEY, OBJECT_KEY_PREFIX, ROOT_KEY_PREFIX};
pub use limits::{
    Limit, COLLECTION_LENGTH_MAX, DECODE_CLAIM_BYTES_PER_INPUT_BYTE_MAX, ENVELOPE_DECODE_CLAIM_BYTES_MAX,
    FIELDS_PER_OBJECT_MAX, GRAPH_QUERY_STARTS_MAX, GRAPH_READ_BYTES_MAX, GRAPH_READ_OBJECTS_MAX, NAME_LENGTH_BYTES_MAX,
    OBJECT_COUNT_MAX, OBJECT_DECODE_CLAIM_BYTES_MAX, OBJECT_SIZE_BYTES_MAX, TRANSACTION_EXPECTS_MAX,
    TRANSACTION_OPS_MAX, TRANSACTION_SIZE_BYTES_MAX,
};
pub use object::{Body, Object, ObjectKind};
pub use reply::{Rejection, Reply};
pub use value::{ObjectId, Value, OBJECT_ID_FIRST};
