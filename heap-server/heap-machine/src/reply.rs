//! The state machine's answer to one command: committed with the ids of created objects, or
//! rejected with a reason that tells the client what to fix.

use serde::{Deserialize, Serialize};

use crate::limits::{Limit, NAME_LENGTH_BYTES_MAX};
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
    /// Nothing changed (except that the entry counts as applied).
    Rejected(Rejection),
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
    #[error(
        "{what} would be {actual}, over the limit of {limit}; split the data into more objects \
         or the work into more transactions"
    )]
    LimitExceeded { what: Limit, limit: u64, actual: u64 },
    #[error(
        "invalid {what}: {reason}; names are at most {NAME_LENGTH_BYTES_MAX} bytes of UTF-8, \
         only map keys may be empty, and class and root names may not contain control characters"
    )]
    InvalidName { what: String, reason: String },
    #[error(
        "malformed command: {reason}; the client and the cluster disagree on the command format, \
         so check that they run compatible versions"
    )]
    Malformed { reason: String },
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
    }
}
