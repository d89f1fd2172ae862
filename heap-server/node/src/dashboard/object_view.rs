//! `GET /api/objects/{id}`: one object as the dashboard's browser shows it: class, kind, version
//! and its fields, entries or elements, each value as bounded text and each reference as the id
//! to follow.

use heap_machine::Body;
use heap_machine::Heap;
use heap_machine::Object;
use heap_machine::Value;
use serde::Serialize;

use super::text::hex_prefix;
use super::text::id_text;
use super::text::Text;

/// Fields, entries or elements of one object listed; the rest are counted in `entries_omitted`.
/// Fields objects have at most `FIELDS_PER_OBJECT_MAX` (1,024); maps and lists may have 100,000.
pub const OBJECT_ENTRIES_LISTED_MAX: usize = 1_000;

/// One object.
#[derive(Debug, Serialize)]
pub struct ObjectView {
    pub id: String,
    pub class: Text,
    /// "Fields", "Map" or "List".
    pub kind: String,
    /// The log index of the transaction that last changed the object.
    pub version: u64,
    /// Fields, entries or elements in the object.
    pub length: usize,
    pub entries: Vec<EntryView>,
    pub entries_omitted: usize,
}

/// One field (by name), map entry (by key) or list element (by index).
#[derive(Debug, Serialize)]
pub struct EntryView {
    pub key: Text,
    pub value: ValueView,
}

/// One value: its type, its text and, for a reference, the id it points to.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct ValueView {
    /// "null", "bool", "int", "float", "string", "bytes" or "ref".
    #[serde(rename = "type")]
    pub type_name: &'static str,
    pub text: Text,
    /// The referenced object's id, for a reference.
    pub ref_id: Option<String>,
}

fn plain(type_name: &'static str, text: String) -> ValueView {
    ValueView { type_name, text: Text { text, truncated: false }, ref_id: None }
}

fn value_view(value: &Value) -> ValueView {
    match value {
        Value::Null => plain("null", "null".to_string()),
        Value::Bool(b) => plain("bool", b.to_string()),
        // As text: JavaScript numbers cannot hold every i64.
        Value::Int(i) => plain("int", i.to_string()),
        // As text: JSON has no NaN or infinity.
        Value::Float(f) => plain("float", f.to_string()),
        Value::Str(s) => ValueView { type_name: "string", text: Text::cut(s), ref_id: None },
        Value::Bytes(bytes) => {
            let shown = hex_prefix(bytes);
            let text = format!("{} bytes: {}", bytes.len(), shown.text);
            ValueView { type_name: "bytes", text: Text { text, truncated: shown.truncated }, ref_id: None }
        }
        Value::Ref(id) => ValueView { type_name: "ref", text: Text::cut(&id_text(*id)), ref_id: Some(id_text(*id)) },
        // Apply resolves every NewRef to a Ref, so a stored value never holds one; shown, not hidden.
        Value::NewRef(handle) => plain("new-ref", format!("unresolved handle {handle}")),
    }
}

/// The first `OBJECT_ENTRIES_LISTED_MAX` entries of `body`, in body order.
fn entries(body: &Body) -> Vec<EntryView> {
    match body {
        Body::Fields(entries) | Body::Map(entries) => entries
            .iter()
            .take(OBJECT_ENTRIES_LISTED_MAX)
            .map(|(key, value)| EntryView { key: Text::cut(key), value: value_view(value) })
            .collect(),
        Body::List(elements) => elements
            .iter()
            .take(OBJECT_ENTRIES_LISTED_MAX)
            .enumerate()
            .map(|(index, value)| EntryView { key: Text::cut(&index.to_string()), value: value_view(value) })
            .collect(),
    }
}

fn object_view(object: &Object) -> ObjectView {
    let entries = entries(&object.body);
    let length = object.body.len();
    ObjectView {
        id: id_text(object.id),
        class: Text::cut(&object.class),
        kind: object.kind().to_string(),
        version: object.version,
        length,
        entries_omitted: length - entries.len(),
        entries,
    }
}

/// Object `id` of `heap`, or `None` if it has none by that id.
pub fn find_object(heap: &Heap, id: u64) -> Option<ObjectView> {
    heap.get(id).as_ref().map(object_view)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use heap_machine::Body;

    use super::*;

    /// Every kind of value shows as text; a reference also carries the id to follow.
    #[test]
    fn values_show_as_text_and_references_as_ids() {
        assert_eq!(value_view(&Value::Int(i64::MIN)).text.text, i64::MIN.to_string());
        assert_eq!(value_view(&Value::Float(f64::NAN)).text.text, "NaN");
        assert_eq!(value_view(&Value::Bytes(vec![1, 2])).text.text, "2 bytes: 0102");
        let reference = value_view(&Value::Ref(u64::MAX / 2));
        assert_eq!(reference.type_name, "ref");
        assert_eq!(reference.ref_id, Some((u64::MAX / 2).to_string()), "all 64 bits survive as a string");
    }

    /// A large list is cut at `OBJECT_ENTRIES_LISTED_MAX` with the rest counted; keys are indexes.
    #[test]
    fn large_bodies_are_cut_and_counted() {
        let elements = vec![Value::Null; OBJECT_ENTRIES_LISTED_MAX + 7];
        let object = Object { id: 5, class: "L".to_string(), version: 3, body: Body::List(elements) };
        let view = object_view(&object);
        assert_eq!(view.entries.len(), OBJECT_ENTRIES_LISTED_MAX);
        assert_eq!(view.entries_omitted, 7);
        assert_eq!(view.length, OBJECT_ENTRIES_LISTED_MAX + 7);
        assert_eq!(view.entries[1].key.text, "1");
        let mut fields = BTreeMap::new();
        fields.insert("b".to_string(), Value::Str("x".repeat(1_000)));
        let object = Object { id: 6, class: "F".to_string(), version: 4, body: Body::Fields(fields) };
        let view = object_view(&object);
        assert_eq!(view.kind, "Fields");
        assert!(view.entries[0].value.text.truncated, "long strings are cut");
        assert_eq!(view.entries_omitted, 0);
    }
}
