//! `ObjectStore`: the heap's objects, each kept as its encoded bytes (exactly what its image key
//! holds) and decoded when used.
//!
//! Why encoded: a small object (a class name and three fields) decoded costs about 1 KB of
//! memory (a `String` per name, a B-tree node per field map), encoded about 60 bytes; every
//! node keeps every object, so this is most of a node's memory per object. Decoding costs a
//! microsecond or so per use, paid by transactions on the object (which copy it anyway), graph
//! reads (which copy it anyway) and the collector. The bytes are canonical (one encoding per
//! object), so comparing stores compares objects, and the image is written without re-encoding.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Unbounded};

use crate::codec::decode_object;
use crate::object::Object;
use crate::value::ObjectId;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ObjectStore {
    encoded: BTreeMap<ObjectId, Box<[u8]>>,
}

/// Decodes bytes this store was given by `insert`: they were encoded from an `Object` (or
/// checked by `decode_object` at load), so failing here means memory was corrupted.
fn decode(id: ObjectId, bytes: &[u8]) -> Object {
    match decode_object(bytes) {
        Ok(object) => object,
        Err(error) => panic!("object {id} no longer decodes from the bytes it was stored as: {error}"),
    }
}

impl ObjectStore {
    pub fn contains_key(&self, id: &ObjectId) -> bool {
        self.encoded.contains_key(id)
    }

    pub fn len(&self) -> usize {
        self.encoded.len()
    }

    /// The object, decoded.
    pub fn get(&self, id: &ObjectId) -> Option<Object> {
        self.encoded.get(id).map(|bytes| decode(*id, bytes))
    }

    /// The object's encoding, as its image key holds it.
    pub fn encoded(&self, id: &ObjectId) -> Option<&[u8]> {
        self.encoded.get(id).map(|bytes| &bytes[..])
    }

    /// Stores `encoded`, the encoding of object `id` (the caller encoded or checked it).
    pub fn insert(&mut self, id: ObjectId, encoded: Vec<u8>) {
        self.encoded.insert(id, encoded.into_boxed_slice());
    }

    /// Removes the object without decoding it; false if there was none.
    pub fn remove_encoded(&mut self, id: &ObjectId) -> bool {
        self.encoded.remove(id).is_some()
    }

    /// Every object, decoded, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (ObjectId, Object)> + Clone + '_ {
        self.encoded.iter().map(|(id, bytes)| (*id, decode(*id, bytes)))
    }

    /// Every object's encoding, in id order.
    pub fn iter_encoded(&self) -> impl Iterator<Item = (ObjectId, &[u8])> + '_ {
        self.encoded.iter().map(|(id, bytes)| (*id, &bytes[..]))
    }

    /// Up to `max` ids above `after`, in order.
    pub fn ids_after(&self, after: ObjectId, max: usize) -> Vec<ObjectId> {
        self.encoded.range((Excluded(after), Unbounded)).take(max).map(|(id, _)| *id).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::encode_object;
    use crate::object::Body;
    use crate::value::Value;

    #[test]
    fn objects_come_back_as_stored_and_in_id_order() {
        let mut store = ObjectStore::default();
        for id in [3, 1, 2] {
            let body = Body::List(vec![Value::Int(id as i64), Value::Str("x".repeat(id as usize))]);
            let object = Object { id, class: "C".to_string(), version: id, body };
            store.insert(id, encode_object(&object));
        }
        assert_eq!(store.len(), 3);
        assert_eq!(store.ids_after(0, 10), vec![1, 2, 3]);
        assert_eq!(store.ids_after(1, 1), vec![2]);
        let two = store.get(&2).unwrap();
        assert_eq!((two.id, two.version), (2, 2));
        assert_eq!(store.encoded(&2).unwrap(), &encode_object(&two)[..]);
        assert!(store.remove_encoded(&2));
        assert!(!store.remove_encoded(&2));
        assert!(!store.contains_key(&2) && store.get(&2).is_none());
        assert_eq!(store.iter().map(|(id, object)| (id, object.id)).collect::<Vec<_>>(), vec![(1, 1), (3, 3)]);
    }
}
