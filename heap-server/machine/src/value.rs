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
    Bytes(#[serde(with = "bytes_as_one_block")] Vec<u8>),
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

/// Serializes `Value::Bytes` as one byte block instead of a sequence of `u8`s. The bincode
/// encoding is the same (length, then the bytes), but encoding and decoding copy the block at
/// once instead of visiting each byte, which matters for values near `OBJECT_SIZE_BYTES_MAX`.
mod bytes_as_one_block {
    use std::fmt;

    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    /// Preallocation cap for formats that send bytes as a sequence, so a hostile length hint
    /// cannot reserve much memory before the bytes arrive.
    const SEQUENCE_PREALLOCATION_BYTES_MAX: usize = 64 * 1024;

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a byte array")
        }

        fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
            Ok(bytes.to_vec())
        }

        fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(bytes)
        }

        /// Self-describing formats such as JSON send bytes as a sequence of numbers.
        fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Vec<u8>, A::Error> {
            let hint = sequence.size_hint().unwrap_or(0);
            let mut bytes = Vec::with_capacity(hint.min(SEQUENCE_PREALLOCATION_BYTES_MAX));
            while let Some(byte) = sequence.next_element()? {
                bytes.push(byte);
            }
            Ok(bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block encoding must stay byte-for-byte the sequence encoding, so that logs and
    /// images written either way read back the same.
    #[test]
    fn bytes_encode_like_a_sequence_of_u8() {
        #[derive(Serialize)]
        enum Sequence {
            _Null,
            _Bool(bool),
            _Int(i64),
            _Float(f64),
            _Str(String),
            Bytes(Vec<u8>),
        }
        let payload = vec![0, 1, 250, 251, 255];
        let config = bincode::config::standard();
        let block = bincode::serde::encode_to_vec(Value::Bytes(payload.clone()), config);
        let sequence = bincode::serde::encode_to_vec(Sequence::Bytes(payload.clone()), config);
        assert_eq!(block.ok(), sequence.ok());
        let encoded = bincode::serde::encode_to_vec(Value::Bytes(payload.clone()), config);
        let bytes = encoded.unwrap_or_default();
        let decoded: Result<(Value, usize), _> = bincode::serde::decode_from_slice(&bytes, config);
        assert_eq!(decoded.ok(), Some((Value::Bytes(payload), bytes.len())));
    }

    #[test]
    fn only_ref_refers_to_a_stored_object() {
        assert_eq!(Value::Ref(7).referenced_id(), Some(7));
        assert_eq!(Value::NewRef(7).referenced_id(), None);
        assert_eq!(Value::Int(7).referenced_id(), None);
    }
}
