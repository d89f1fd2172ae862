//! Heap objects: an id, a class name, a version and a body that is a set of named fields, a
//! string-keyed map or a list.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::value::{ObjectId, Value};

/// What shape an object's body has; fixed when the object is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectKind {
    /// Named fields, like the instance fields of a Java object.
    Fields,
    /// A string-keyed map.
    Map,
    /// A list indexed from 0.
    List,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Fields => "Fields",
            ObjectKind::Map => "Map",
            ObjectKind::List => "List",
        })
    }
}

/// An object's contents. Maps are `BTreeMap`s so iteration, encoding and graph reads are in the
/// same order on every replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Body {
    Fields(BTreeMap<String, Value>),
    Map(BTreeMap<String, Value>),
    List(Vec<Value>),
}

impl Body {
    /// The body a newly created object of `kind` starts with.
    pub fn empty(kind: ObjectKind) -> Body {
        match kind {
            ObjectKind::Fields => Body::Fields(BTreeMap::new()),
            ObjectKind::Map => Body::Map(BTreeMap::new()),
            ObjectKind::List => Body::List(Vec::new()),
        }
    }

    pub fn kind(&self) -> ObjectKind {
        match self {
            Body::Fields(_) => ObjectKind::Fields,
            Body::Map(_) => ObjectKind::Map,
            Body::List(_) => ObjectKind::List,
        }
    }

    /// Number of fields, entries or elements.
    pub fn len(&self) -> usize {
        match self {
            Body::Fields(entries) | Body::Map(entries) => entries.len(),
            Body::List(elements) => elements.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every value in the body, in a deterministic order (name order, or list order).
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        let (entries, elements) = match self {
            Body::Fields(entries) | Body::Map(entries) => (Some(entries.values()), None),
            Body::List(elements) => (None, Some(elements.iter())),
        };
        entries.into_iter().flatten().chain(elements.into_iter().flatten())
    }

    /// Every value in the body, mutably, in the same order as `values`.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        let (entries, elements) = match self {
            Body::Fields(entries) | Body::Map(entries) => (Some(entries.values_mut()), None),
            Body::List(elements) => (None, Some(elements.iter_mut())),
        };
        entries.into_iter().flatten().chain(elements.into_iter().flatten())
    }
}

/// One heap object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Object {
    pub id: ObjectId,
    /// The client's class name (for example a Java class); the heap only stores it.
    pub class: String,
    /// The log index of the transaction that last changed this object; clients use it as the
    /// expected version in `Transaction::expect`.
    pub version: u64,
    pub body: Body,
}

impl Object {
    pub fn kind(&self) -> ObjectKind {
        self.body.kind()
    }

    /// The ids this object refers to, in body order, repeats included.
    pub fn references(&self) -> impl Iterator<Item = ObjectId> + '_ {
        self.body.values().filter_map(Value::referenced_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_body_order() {
        let mut fields = BTreeMap::new();
        fields.insert("b".to_string(), Value::Ref(2));
        fields.insert("a".to_string(), Value::Ref(3));
        fields.insert("c".to_string(), Value::Int(4));
        let object = Object { id: 1, class: "C".to_string(), version: 1, body: Body::Fields(fields) };
        assert_eq!(object.references().collect::<Vec<_>>(), vec![3, 2]);
        let list = Body::List(vec![Value::Ref(5), Value::Null, Value::Ref(5)]);
        assert_eq!(list.values().filter_map(Value::referenced_id).collect::<Vec<_>>(), vec![5, 5]);
    }

    #[test]
    fn empty_body_has_the_requested_kind() {
        for kind in [ObjectKind::Fields, ObjectKind::Map, ObjectKind::List] {
            let body = Body::empty(kind);
            assert_eq!(body.kind(), kind);
            assert!(body.is_empty());
        }
    }
}
