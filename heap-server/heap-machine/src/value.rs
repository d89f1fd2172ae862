//! Values held in object fields, map entries and list elements, and the id type that names objects.

use serde::{Deserialize, Serialize};

/// Names one object. Ids are assigned from the heap's `next_id` in log order, so every replica
/// assigns the same id to the same create.
pub type ObjectId = u64;

/// The first id the heap assigns. Id 0 is never used, so a zeroed id is always detectably wrong.
pub const OBJECT_ID_FIRST: ObjectId = 1;

/// One value. `Float` keeps its exact bits (NaN included), which is why `Value` is not `Eq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// A reference to an existing object.
    Ref(ObjectId),
    /// A reference to the object made by `Op::Create { handle, .. }` in the same transaction.
    /// Only valid in transaction input: apply resolves it to `Ref`, so stored values never hold it.
    NewRef(u32),
}

impl Value {
    /// The object a stored reference points to, if this value is one.
    pub fn referenced_id(&self) -> Option<ObjectId> {
        match self {
            Value::Ref(id) => Some(*id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ref_refers_to_a_stored_object() {
        assert_eq!(Value::Ref(7).referenced_id(), Some(7));
        assert_eq!(Value::NewRef(7).referenced_id(), None);
        assert_eq!(Value::Int(7).referenced_id(), None);
    }
}
