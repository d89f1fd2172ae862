//! Values and object kinds as the client API shows them (Java's types: Long, Double, String, ...).

use proto::heap as pb;

use super::error::HeapError;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    String(String),
    Bytes(Vec<u8>),
    /// A reference to the object with this id.
    Object(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Fields,
    Map,
    List,
}

impl ObjectKind {
    pub fn to_pb(self) -> pb::ObjectKind {
        match self {
            ObjectKind::Fields => pb::ObjectKind::Fields,
            ObjectKind::Map => pb::ObjectKind::Map,
            ObjectKind::List => pb::ObjectKind::List,
        }
    }

    pub fn from_pb(kind: i32) -> Result<Self, HeapError> {
        match pb::ObjectKind::try_from(kind) {
            Ok(pb::ObjectKind::Fields) => Ok(ObjectKind::Fields),
            Ok(pb::ObjectKind::Map) => Ok(ObjectKind::Map),
            Ok(pb::ObjectKind::List) => Ok(ObjectKind::List),
            Err(_) => Err(HeapError::Internal(format!("unknown object kind {kind} from the server"))),
        }
    }
}

impl Value {
    pub fn to_pb(&self) -> pb::Value {
        use pb::value::Kind;
        let kind = match self {
            Value::Null => Kind::NullValue(true),
            Value::Bool(b) => Kind::BoolValue(*b),
            Value::Long(i) => Kind::IntValue(*i),
            Value::Double(f) => Kind::FloatValue(*f),
            Value::String(s) => Kind::StringValue(s.clone()),
            Value::Bytes(b) => Kind::BytesValue(b.clone()),
            Value::Object(id) => Kind::RefId(*id),
        };
        pb::Value { kind: Some(kind) }
    }

    pub fn from_pb(value: Option<&pb::Value>) -> Value {
        use pb::value::Kind;
        match value.and_then(|v| v.kind.as_ref()) {
            None | Some(Kind::NullValue(_)) => Value::Null,
            Some(Kind::BoolValue(b)) => Value::Bool(*b),
            Some(Kind::IntValue(i)) => Value::Long(*i),
            Some(Kind::FloatValue(f)) => Value::Double(*f),
            Some(Kind::StringValue(s)) => Value::String(s.clone()),
            Some(Kind::BytesValue(b)) => Value::Bytes(b.clone()),
            Some(Kind::RefId(id)) => Value::Object(*id),
            // Never stored: the server resolves new references before it stores an object.
            Some(Kind::NewRef(_)) => Value::Null,
        }
    }
}
