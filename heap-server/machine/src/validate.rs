//! `Heap::validate`: checks every invariant of the whole heap. Run after loading an image and in
//! tests after every apply; it is linear in the heap size, so not on the apply path.

use crate::apply::check_object_limits;
use crate::codec::encoded_size_bytes;
use crate::heap::Heap;
use crate::limits::{OBJECT_COUNT_MAX, OBJECT_SIZE_BYTES_MAX};
use crate::names::{check_name, NameKind};
use crate::object::{Body, Object};
use crate::refs::RefCounts;
use crate::value::{ObjectId, Value, OBJECT_ID_FIRST};

impl Heap {
    /// Checks: ids in `OBJECT_ID_FIRST..next_id` and equal to their key; versions in
    /// `1..=applied_index`; no `NewRef` stored; no reference to a missing object; roots name
    /// existing objects; names valid; every limit holds; sessions, replies and locks as in
    /// `validate_sessions_and_locks`. Returns the first violation found.
    pub fn validate(&self) -> Result<(), String> {
        if self.next_id < OBJECT_ID_FIRST {
            return Err(format!("next_id {} is below the first id {OBJECT_ID_FIRST}", self.next_id));
        }
        let count = self.objects.len() as u64;
        if count > OBJECT_COUNT_MAX {
            return Err(format!("{count} objects, over the limit of {OBJECT_COUNT_MAX}"));
        }
        for (id, object) in self.objects.iter() {
            self.validate_object(id, &object)?;
        }
        for (name, id) in &self.roots {
            check_name(NameKind::Root, name).map_err(|error| error.to_string())?;
            if !self.objects.contains_key(id) {
                return Err(format!("root {name:?} names missing object {id}"));
            }
        }
        self.validate_sessions_and_locks()?;
        self.validate_lifecycle()
    }

    /// Holds name existing objects; dying objects are collected ids and reference ids that
    /// were handed out; the derived hold and dying bookkeeping and the reference counts equal a
    /// fresh count of the whole state (dying references included).
    fn validate_lifecycle(&self) -> Result<(), String> {
        if let Some((session, id)) = self.holds.pairs().find(|(_, id)| !self.objects.contains_key(id)) {
            return Err(format!("session {session} holds missing object {id}"));
        }
        self.holds.validate(|session| self.sessions.contains_key(&session))?;
        self.validate_dying()?;
        let fresh = RefCounts::build(
            self.objects.iter(),
            self.roots.values().copied(),
            self.dying.references(),
            self.holds.pairs().map(|(_, id)| id),
        );
        if fresh != self.refs {
            return Err("the reference counts differ from a fresh count of the heap".to_string());
        }
        Ok(())
    }

    /// A dying object was freed: its id was handed out and is no longer in the store. What
    /// it still references was handed out too (it may be freed already: nobody reads it).
    fn validate_dying(&self) -> Result<(), String> {
        self.dying.validate()?;
        let handed_out = |id: ObjectId| (OBJECT_ID_FIRST..self.next_id).contains(&id);
        for (id, _, references) in self.dying.chunks() {
            if !handed_out(id) {
                return Err(format!("dying object {id} is not below next_id {}", self.next_id));
            }
            if self.objects.contains_key(&id) {
                return Err(format!("dying object {id} is still in the heap"));
            }
            if let Some(to) = references.iter().find(|to| !handed_out(**to)) {
                return Err(format!("dying object {id} refers to object {to}, which was never created"));
            }
        }
        Ok(())
    }

    /// One stored object: its id, version, names, references and limits.
    fn validate_object(&self, id: ObjectId, object: &Object) -> Result<(), String> {
        if object.id != id {
            return Err(format!("object {} is stored under id {id}", object.id));
        }
        if id < OBJECT_ID_FIRST {
            return Err(format!("object {id} is below the first id {OBJECT_ID_FIRST}"));
        }
        if id >= self.next_id {
            return Err(format!("object {id} is not below next_id {}", self.next_id));
        }
        if object.version == 0 {
            return Err(format!("object {id} has version 0"));
        }
        if object.version > self.applied_index {
            return Err(format!(
                "object {id} has version {}, after the applied index {}",
                object.version, self.applied_index
            ));
        }
        check_name(NameKind::Class, &object.class).map_err(|error| format!("object {id}: {error}"))?;
        match &object.body {
            Body::Fields(fields) => {
                for name in fields.keys() {
                    check_name(NameKind::Field, name).map_err(|error| format!("object {id}: {error}"))?;
                }
            }
            Body::Map(entries) => {
                for key in entries.keys() {
                    check_name(NameKind::MapKey, key).map_err(|error| format!("object {id}: {error}"))?;
                }
            }
            Body::List(_) => {}
        }
        for value in object.body.values() {
            match value {
                Value::NewRef(handle) => {
                    return Err(format!("object {id} stores NewRef({handle})"));
                }
                Value::Ref(to) if !self.objects.contains_key(to) => {
                    return Err(format!("object {id} refers to missing object {to}"));
                }
                _ => {}
            }
        }
        check_object_limits(object).map_err(|error| format!("object {id}: {error}"))?;
        let size_bytes = encoded_size_bytes(object);
        if size_bytes > OBJECT_SIZE_BYTES_MAX {
            return Err(format!("object {id} encodes to {size_bytes} bytes, over {OBJECT_SIZE_BYTES_MAX}"));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::codec::encode_object;
    use crate::command::{Op, Target};
    use crate::heap::Heap;
    use crate::object::{Body, Object, ObjectKind};
    use crate::test_support::{apply_ops, create};
    use crate::value::Value;

    fn heap_with_list() -> Heap {
        let mut heap = Heap::new();
        apply_ops(
            &mut heap,
            1,
            vec![create(0, ObjectKind::List), Op::BindRoot { name: "list".to_string(), target: Target::New(0) }],
        );
        heap.validate().unwrap();
        heap
    }

    fn corrupt(change: impl FnOnce(&mut Heap)) -> String {
        let mut heap = heap_with_list();
        change(&mut heap);
        heap.validate().unwrap_err()
    }

    /// Changes object 1 behind the heap's back (decode, change, store the new encoding).
    fn change_object(heap: &mut Heap, change: impl FnOnce(&mut Object)) {
        let mut object = heap.objects.get(&1).unwrap();
        change(&mut object);
        heap.objects.insert(1, encode_object(&object));
    }

    fn list(object: &mut Object) -> &mut Vec<Value> {
        match &mut object.body {
            Body::List(elements) => elements,
            _ => unreachable!(),
        }
    }

    #[test]
    fn each_broken_invariant_is_found() {
        assert!(corrupt(|h| change_object(h, |o| list(o).push(Value::Ref(9)))).contains("missing object 9"));
        assert!(corrupt(|h| change_object(h, |o| list(o).push(Value::NewRef(0)))).contains("NewRef"));
        assert!(corrupt(|h| h.applied_index = 0).contains("after the applied index"));
        assert!(corrupt(|h| h.next_id = 1).contains("not below next_id"));
        assert!(corrupt(|h| change_object(h, |o| o.id = 5)).contains("stored under"));
        assert!(corrupt(|h| {
            h.roots.insert("gone".to_string(), 7);
        })
        .contains("missing object 7"));
        let too_long = crate::limits::COLLECTION_LENGTH_MAX as usize + 1;
        assert!(corrupt(|h| change_object(h, |o| list(o).resize(too_long, Value::Null))).contains("collection length"));
    }
}
