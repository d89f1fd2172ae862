//! JSON documents as heap object graphs: JSON objects become map objects, arrays become lists,
//! scalars become values. Used by `heapctl root set/get` and `heapctl object get`.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use proto::heap as pb;
use serde_json::Map;
use serde_json::Number;
use serde_json::Value as Json;

use heap_client::tx::bind_root;
use heap_client::tx::create;
use heap_client::tx::list_push;
use heap_client::tx::map_put;
use heap_client::tx::new_target;
use heap_client::tx::transaction;
use heap_client::tx::value;

/// Class names given to the objects a JSON document is stored as.
pub const JSON_OBJECT_CLASS: &str = "json.Object";
pub const JSON_ARRAY_CLASS: &str = "json.Array";
/// Nesting depth of a JSON document stored or printed.
pub const JSON_DEPTH_MAX: u32 = 64;
/// Objects one JSON document may become (bounded by the heap's transaction size too).
pub const JSON_OBJECTS_MAX: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("invalid JSON: {0}")]
    Parse(String),
    #[error("a root must be a JSON object or array, not a bare {0}")]
    NotContainer(&'static str),
    #[error("the number {0} does not fit a 64-bit integer or float exactly")]
    Number(String),
    #[error("the document nests deeper than {JSON_DEPTH_MAX} levels")]
    TooDeep,
    #[error("the document has more than {JSON_OBJECTS_MAX} objects and arrays; split it")]
    TooLarge,
    #[error("the graph is incomplete: {0}")]
    Incomplete(String),
}

struct Builder {
    ops: Vec<pb::Op>,
    next_handle: u32,
}

impl Builder {
    fn scalar(&mut self, json: &Json, depth: u32) -> Result<Option<pb::Value>, JsonError> {
        use pb::value::Kind;
        Ok(match json {
            Json::Null => value(Kind::NullValue(true)),
            Json::Bool(b) => value(Kind::BoolValue(*b)),
            Json::Number(n) => value(number(n)?),
            Json::String(s) => value(Kind::StringValue(s.clone())),
            Json::Array(_) | Json::Object(_) => value(Kind::NewRef(self.container(json, depth + 1)?)),
        })
    }

    /// Creates the object for a JSON object or array and returns its handle.
    fn container(&mut self, json: &Json, depth: u32) -> Result<u32, JsonError> {
        if depth > JSON_DEPTH_MAX {
            return Err(JsonError::TooDeep);
        }
        if self.next_handle as usize >= JSON_OBJECTS_MAX {
            return Err(JsonError::TooLarge);
        }
        let handle = self.next_handle;
        self.next_handle += 1;
        match json {
            Json::Object(map) => {
                self.ops.push(create(handle, JSON_OBJECT_CLASS, pb::ObjectKind::Map));
                for (key, item) in map {
                    let value = self.scalar(item, depth)?;
                    self.ops.push(map_put(new_target(handle), key, value));
                }
            }
            Json::Array(items) => {
                self.ops.push(create(handle, JSON_ARRAY_CLASS, pb::ObjectKind::List));
                for item in items {
                    let value = self.scalar(item, depth)?;
                    self.ops.push(list_push(new_target(handle), value));
                }
            }
            other => return Err(JsonError::NotContainer(kind_name(other))),
        }
        Ok(handle)
    }
}

fn kind_name(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn number(n: &Number) -> Result<pb::value::Kind, JsonError> {
    if let Some(i) = n.as_i64() {
        Ok(pb::value::Kind::IntValue(i))
    } else if n.is_u64() {
        Err(JsonError::Number(n.to_string()))
    } else {
        n.as_f64().map(pb::value::Kind::FloatValue).ok_or_else(|| JsonError::Number(n.to_string()))
    }
}

/// One transaction that stores `text` as a new object graph and binds it to root `name`.
pub fn root_set_transaction(name: &str, text: &str) -> Result<pb::Transaction, JsonError> {
    let json: Json = serde_json::from_str(text).map_err(|e| JsonError::Parse(e.to_string()))?;
    let mut builder = Builder { ops: Vec::new(), next_handle: 0 };
    let handle = builder.container(&json, 1)?;
    builder.ops.push(bind_root(name, new_target(handle)));
    Ok(transaction(builder.ops))
}

/// Rebuilds the JSON document rooted at `id` from a graph read. Objects that are not JSON
/// documents print their fields as a JSON object; bytes print as `{"$bytes": "<hex>"}`; a
/// reference back into the current path prints as `{"$ref": id}`.
pub fn graph_to_json(id: u64, objects: &[pb::Object]) -> Result<Json, JsonError> {
    let by_id: BTreeMap<u64, &pb::Object> = objects.iter().map(|o| (o.id, o)).collect();
    let mut path = BTreeSet::new();
    object_json(id, &by_id, &mut path, 0)
}

fn object_json(
    id: u64,
    by_id: &BTreeMap<u64, &pb::Object>,
    path: &mut BTreeSet<u64>,
    depth: u32,
) -> Result<Json, JsonError> {
    if depth > JSON_DEPTH_MAX {
        return Err(JsonError::TooDeep);
    }
    if !path.insert(id) {
        return Ok(serde_json::json!({ "$ref": id }));
    }
    let object = by_id.get(&id).ok_or_else(|| JsonError::Incomplete(format!("object {id} was not in the read")))?;
    let json = if object.kind == pb::ObjectKind::List as i32 {
        let mut items = Vec::with_capacity(object.items.len());
        for item in &object.items {
            items.push(value_json(item, by_id, path, depth)?);
        }
        Json::Array(items)
    } else {
        let mut map = Map::new();
        for (key, item) in &object.entries {
            map.insert(key.clone(), value_json(item, by_id, path, depth)?);
        }
        Json::Object(map)
    };
    path.remove(&id);
    Ok(json)
}

fn value_json(
    value: &pb::Value,
    by_id: &BTreeMap<u64, &pb::Object>,
    path: &mut BTreeSet<u64>,
    depth: u32,
) -> Result<Json, JsonError> {
    use pb::value::Kind;
    Ok(match &value.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => Json::Bool(*b),
        Some(Kind::IntValue(i)) => Json::from(*i),
        Some(Kind::FloatValue(f)) => Number::from_f64(*f).map(Json::Number).unwrap_or(Json::Null),
        Some(Kind::StringValue(s)) => Json::String(s.clone()),
        Some(Kind::BytesValue(b)) => serde_json::json!({ "$bytes": hex(b) }),
        Some(Kind::RefId(id)) => object_json(*id, by_id, path, depth + 1)?,
        Some(Kind::NewRef(handle)) => serde_json::json!({ "$new": handle }),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored value as typed JSON, for `heapctl object get` (shows exactly what is stored).
pub fn typed_value(value: &pb::Value) -> Json {
    use pb::value::Kind;
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => serde_json::json!({ "bool": b }),
        Some(Kind::IntValue(i)) => serde_json::json!({ "int": i }),
        Some(Kind::FloatValue(f)) => serde_json::json!({ "float": f }),
        Some(Kind::StringValue(s)) => serde_json::json!({ "string": s }),
        Some(Kind::BytesValue(b)) => serde_json::json!({ "bytes": hex(b) }),
        Some(Kind::RefId(id)) => serde_json::json!({ "ref": id }),
        Some(Kind::NewRef(handle)) => serde_json::json!({ "new_ref": handle }),
    }
}

/// An object as stored: id, class, version, kind and typed contents.
pub fn typed_object(object: &pb::Object) -> Json {
    let kind = pb::ObjectKind::try_from(object.kind)
        .map(|k| k.as_str_name().trim_start_matches("OBJECT_KIND_").to_lowercase())
        .unwrap_or_else(|_| object.kind.to_string());
    let mut json = serde_json::json!({
        "id": object.id,
        "class": object.class_name,
        "version": object.version,
        "kind": kind,
    });
    if object.kind == pb::ObjectKind::List as i32 {
        json["items"] = Json::Array(object.items.iter().map(typed_value).collect());
    } else {
        let entries: Map<String, Json> = object.entries.iter().map(|(k, v)| (k.clone(), typed_value(v))).collect();
        json[if object.kind == pb::ObjectKind::Map as i32 { "entries" } else { "fields" }] = Json::Object(entries);
    }
    json
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn document_becomes_one_transaction_ending_in_a_root_bind() {
        let tx = root_set_transaction("cart", r#"{"a": [1, 2.5, "x", null, {"b": true}]}"#).unwrap();
        let creates = tx.ops.iter().filter(|o| matches!(o.op, Some(pb::op::Op::Create(_)))).count();
        assert_eq!(creates, 3);
        assert!(matches!(tx.ops.last().unwrap().op, Some(pb::op::Op::BindRoot(_))));
    }

    #[test]
    fn bad_documents_are_refused() {
        assert!(matches!(root_set_transaction("r", "{"), Err(JsonError::Parse(_))));
        assert!(matches!(root_set_transaction("r", "42"), Err(JsonError::NotContainer(_))));
        assert!(matches!(root_set_transaction("r", "[18446744073709551615]"), Err(JsonError::Number(_))));
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(matches!(root_set_transaction("r", &deep), Err(JsonError::TooDeep)));
    }
}
