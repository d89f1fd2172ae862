//! Transaction application: checks preconditions, runs the ops on a scratch overlay of the
//! heap, then checks references and limits, and only then hands back the complete change set.
//! Nothing but `Heap::commit` (part of `impl Heap`, see `heap.rs`) mutates the heap, and it
//! runs only on a fully staged transaction, which is what makes a transaction apply whole or not
//! at all.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use crate::codec::encode_object;
use crate::command::{Op, SessionId, Target, Transaction};
use crate::heap::{Heap, Write};
use crate::image::{object_key, root_key, u64_value, NEXT_ID_KEY};
use crate::limits::{
    Limit, COLLECTION_LENGTH_MAX, FIELDS_PER_OBJECT_MAX, OBJECT_COUNT_MAX, OBJECT_ID_MAX, OBJECT_SIZE_BYTES_MAX,
    TRANSACTION_EXPECTS_MAX, TRANSACTION_FENCES_MAX, TRANSACTION_OPS_MAX,
};
use crate::names::{check_name, NameKind};
use crate::object::{Body, Object, ObjectKind};
use crate::reply::Rejection;
use crate::value::{ObjectId, Value, OBJECT_ID_FIRST};

/// A transaction that passed every check, ready to commit.
#[derive(Debug)]
pub(crate) struct Staged {
    /// Every object the transaction changed or created, with `version` set to the log index,
    /// references resolved, and its encoding (already measured against the size limit).
    pub objects: BTreeMap<ObjectId, (Object, Vec<u8>)>,
    /// Root bindings the transaction set (`Some`) or removed (`None`), last op wins.
    pub roots: BTreeMap<String, Option<ObjectId>>,
    pub next_id: ObjectId,
    pub created: Vec<(u32, ObjectId)>,
    /// What each changed object that existed before referenced, so `commit` can move the
    /// counts without decoding the old version again.
    pub old_references: BTreeMap<ObjectId, Vec<ObjectId>>,
}

impl Staged {
    /// How many objects this transaction creates that nothing will reference once it commits
    /// (no changed object and no root names them): each becomes a hold of the creating session.
    /// Only changed objects and roots can reference a new object, so `staged` alone tells.
    pub fn unreferenced_creations(&self, heap: &Heap) -> Vec<ObjectId> {
        let mut referenced: BTreeSet<ObjectId> = self.roots.values().flatten().copied().collect();
        for (object, _) in self.objects.values() {
            referenced.extend(object.references());
        }
        self.objects.keys().filter(|id| !heap.objects.contains_key(id) && !referenced.contains(id)).copied().collect()
    }
}

impl Heap {
    /// Moves a staged transaction into the state and emits its writes: objects by id, then
    /// roots by name, then `next_id`, then the creation holds. Keeps the reference counts; a
    /// created object nothing references is held by `holder` (the session whose transaction
    /// created it), so it is not collected before the client links it or lets it go. Returns
    /// the created `(handle, id)` pairs.
    pub(crate) fn commit(
        &mut self,
        log_index: u64,
        staged: Staged,
        holder: Option<SessionId>,
        writes: &mut Vec<Write>,
    ) -> Vec<(u32, ObjectId)> {
        let creation_holds = match holder {
            Some(_) => staged.unreferenced_creations(self),
            None => Vec::new(),
        };
        // Objects whose counts may have changed; their unreferenced-set membership is
        // refreshed once every change is in.
        let mut touched = BTreeSet::new();
        for (id, (object, encoded)) in staged.objects {
            assert_eq!(object.id, id, "staged object stored under another id");
            assert_eq!(object.version, log_index, "a changed object must carry the log index of its change");
            assert!(
                !object.body.values().any(|v| matches!(v, Value::NewRef(_))),
                "object {id} would be stored with an unresolved NewRef"
            );
            for to in object.references() {
                self.refs.add_reference(to);
            }
            for to in staged.old_references.get(&id).into_iter().flatten() {
                self.refs.remove_reference(*to);
                touched.insert(*to);
            }
            touched.insert(id);
            writes.push((object_key(id), Some(encoded.clone())));
            self.objects.insert(id, encoded);
        }
        for (name, binding) in staged.roots {
            let previous = match binding {
                Some(id) if self.roots.get(&name) == Some(&id) => continue,
                Some(id) => {
                    assert!(self.objects.contains_key(&id), "root {name} to missing {id}");
                    writes.push((root_key(&name), Some(u64_value(id))));
                    self.refs.add_reference(id);
                    self.roots.insert(name, id)
                }
                None => {
                    let previous = self.roots.remove(&name);
                    if previous.is_some() {
                        writes.push((root_key(&name), None));
                    }
                    previous
                }
            };
            if let Some(previous) = previous {
                self.refs.remove_reference(previous);
                touched.insert(previous);
            }
        }
        assert!(staged.next_id >= self.next_id, "next_id must never go back");
        if staged.next_id != self.next_id {
            self.next_id = staged.next_id;
            writes.push((NEXT_ID_KEY.to_vec(), Some(u64_value(self.next_id))));
        }
        if let Some(session) = holder {
            for id in creation_holds {
                self.add_hold(session, id, writes);
            }
        }
        for id in touched {
            self.refs.refresh(id, self.objects.contains_key(&id));
        }
        staged.created
    }
}

/// Checks and runs `transaction` against `heap` as if at `log_index`, without changing `heap`.
pub(crate) fn stage(heap: &Heap, log_index: u64, transaction: &Transaction) -> Result<Staged, Rejection> {
    check_counts(transaction)?;
    check_fences(heap, &transaction.fences)?;
    check_expectations(heap, &transaction.expect)?;
    let mut overlay = Overlay::new(heap);
    for op in &transaction.ops {
        overlay.apply_op(op)?;
    }
    overlay.finish(log_index)
}

fn limit_exceeded(what: Limit, limit: u64, actual: usize) -> Rejection {
    Rejection::LimitExceeded { what, limit, actual: actual as u64 }
}

fn check_counts(transaction: &Transaction) -> Result<(), Rejection> {
    if transaction.ops.len() as u64 > TRANSACTION_OPS_MAX {
        return Err(limit_exceeded(Limit::TransactionOps, TRANSACTION_OPS_MAX, transaction.ops.len()));
    }
    if transaction.expect.len() as u64 > TRANSACTION_EXPECTS_MAX {
        return Err(limit_exceeded(Limit::TransactionOps, TRANSACTION_EXPECTS_MAX, transaction.expect.len()));
    }
    if transaction.fences.len() as u64 > TRANSACTION_FENCES_MAX {
        return Err(limit_exceeded(Limit::TransactionFences, TRANSACTION_FENCES_MAX, transaction.fences.len()));
    }
    Ok(())
}

/// Fences see the locks before the transaction, in list order; the first failure is reported.
/// They come before version preconditions: a writer that lost its lock must reacquire it
/// before anything else it learns is worth acting on.
fn check_fences(heap: &Heap, fences: &[(String, u64)]) -> Result<(), Rejection> {
    for (name, token) in fences {
        check_name(NameKind::Lock, name)?;
        let held = heap.locks.get(name).is_some_and(|lock| lock.holders.iter().any(|holder| holder.token == *token));
        if !held {
            return Err(Rejection::StaleFence { lock: name.clone(), token: *token });
        }
    }
    Ok(())
}

/// Preconditions see the state before any op, in list order; the first failure is reported.
fn check_expectations(heap: &Heap, expect: &[(ObjectId, u64)]) -> Result<(), Rejection> {
    for &(id, expected) in expect {
        let actual = heap.objects.get(&id).ok_or(Rejection::UnknownObject { id })?.version;
        if actual != expected {
            return Err(Rejection::VersionConflict { id, expected, actual });
        }
    }
    Ok(())
}

/// Which named entries an op edits: a Fields object's fields or a Map's keys.
#[derive(Debug, Clone, Copy)]
struct EntryKind {
    object_kind: ObjectKind,
    name_kind: NameKind,
}

const FIELD: EntryKind = EntryKind { object_kind: ObjectKind::Fields, name_kind: NameKind::Field };
const MAP_KEY: EntryKind = EntryKind { object_kind: ObjectKind::Map, name_kind: NameKind::MapKey };

/// The heap as the transaction sees it: the committed state plus private copies of every
/// object it touched or created, and its root changes.
struct Overlay<'h> {
    heap: &'h Heap,
    /// Copies of touched objects and every created object. A copy may hold `NewRef` values
    /// until `finish` resolves them.
    objects: BTreeMap<ObjectId, Object>,
    /// Objects whose contents changed (a superset check is cheaper than comparing bodies, and
    /// an op that provably changes nothing, like removing an absent key, does not count).
    changed: BTreeSet<ObjectId>,
    handles: BTreeMap<u32, ObjectId>,
    created: Vec<(u32, ObjectId)>,
    /// Objects made by `CreateWithId` (ids reserved earlier, so no handle).
    created_with_id: BTreeSet<ObjectId>,
    roots: BTreeMap<String, Option<ObjectId>>,
    next_id: ObjectId,
    /// What each existing object referenced when the transaction first touched it.
    old_references: BTreeMap<ObjectId, Vec<ObjectId>>,
}

impl<'h> Overlay<'h> {
    fn new(heap: &'h Heap) -> Self {
        Overlay {
            heap,
            objects: BTreeMap::new(),
            changed: BTreeSet::new(),
            handles: BTreeMap::new(),
            created: Vec::new(),
            created_with_id: BTreeSet::new(),
            roots: BTreeMap::new(),
            next_id: heap.next_id,
            old_references: BTreeMap::new(),
        }
    }

    fn exists(&self, id: ObjectId) -> bool {
        self.objects.contains_key(&id) || self.heap.objects.contains_key(&id)
    }

    fn resolve(&self, target: &Target) -> Result<ObjectId, Rejection> {
        match *target {
            Target::Id(id) if self.exists(id) => Ok(id),
            Target::Id(id) => Err(Rejection::UnknownObject { id }),
            Target::New(handle) => self.handles.get(&handle).copied().ok_or(Rejection::UnknownHandle { handle }),
        }
    }

    /// The transaction's copy of the target, made on first touch.
    fn object_mut(&mut self, target: &Target) -> Result<&mut Object, Rejection> {
        let id = self.resolve(target)?;
        match self.objects.entry(id) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => {
                let committed = self.heap.objects.get(&id).ok_or(Rejection::UnknownObject { id })?;
                self.old_references.insert(id, committed.references().collect());
                Ok(entry.insert(committed))
            }
        }
    }

    /// The named entries of a Fields object (`kind` Fields) or a Map (`kind` Map).
    fn entries_mut(
        &mut self,
        target: &Target,
        kind: ObjectKind,
    ) -> Result<(ObjectId, &mut BTreeMap<String, Value>), Rejection> {
        let object = self.object_mut(target)?;
        match (&mut object.body, kind) {
            (Body::Fields(entries), ObjectKind::Fields) | (Body::Map(entries), ObjectKind::Map) => {
                Ok((object.id, entries))
            }
            (other, _) => Err(wrong_kind(object.id, kind, other.kind())),
        }
    }

    fn list_mut(&mut self, target: &Target) -> Result<(ObjectId, &mut Vec<Value>), Rejection> {
        let object = self.object_mut(target)?;
        match &mut object.body {
            Body::List(elements) => Ok((object.id, elements)),
            other => Err(wrong_kind(object.id, ObjectKind::List, other.kind())),
        }
    }

    fn apply_op(&mut self, op: &Op) -> Result<(), Rejection> {
        match op {
            Op::Create { handle, class, kind } => self.create(*handle, class, *kind),
            Op::CreateWithId { id, class, kind } => self.create_with_id(*id, class, *kind),
            Op::SetField { target, field, value } => self.put_entry(target, FIELD, field, value),
            Op::RemoveField { target, field } => self.remove_entry(target, FIELD, field),
            Op::MapPut { target, key, value } => self.put_entry(target, MAP_KEY, key, value),
            Op::MapRemove { target, key } => self.remove_entry(target, MAP_KEY, key),
            Op::ListPush { target, value } => self.list_push(target, value),
            Op::ListInsert { target, index, value } => self.list_insert(target, *index, value),
            Op::ListSet { target, index, value } => self.list_set(target, *index, value),
            Op::ListRemove { target, index } => self.list_remove(target, *index),
            Op::Clear { target } => self.clear(target),
            Op::BindRoot { name, target } => self.bind_root(name, target),
            Op::BindNewRoot { name, target } => self.bind_new_root(name, target),
            Op::UnbindRoot { name } => self.unbind_root(name),
        }
    }

    /// `SetField` / `MapPut`: sets the entry `name` of a Fields object or a Map.
    fn put_entry(&mut self, target: &Target, entry: EntryKind, name: &str, value: &Value) -> Result<(), Rejection> {
        check_name(entry.name_kind, name)?;
        let (id, entries) = self.entries_mut(target, entry.object_kind)?;
        entries.insert(name.to_string(), value.clone());
        self.changed.insert(id);
        Ok(())
    }

    /// `RemoveField` / `MapRemove`: removing an absent entry changes nothing.
    fn remove_entry(&mut self, target: &Target, entry: EntryKind, name: &str) -> Result<(), Rejection> {
        check_name(entry.name_kind, name)?;
        let (id, entries) = self.entries_mut(target, entry.object_kind)?;
        if entries.remove(name).is_some() {
            self.changed.insert(id);
        }
        Ok(())
    }

    fn list_push(&mut self, target: &Target, value: &Value) -> Result<(), Rejection> {
        let (id, elements) = self.list_mut(target)?;
        elements.push(value.clone());
        self.changed.insert(id);
        Ok(())
    }

    /// `ListInsert`: inserting at the length appends.
    fn list_insert(&mut self, target: &Target, index: u32, value: &Value) -> Result<(), Rejection> {
        let (id, elements) = self.list_mut(target)?;
        let position = checked_index(id, index, elements.len(), 1)?;
        elements.insert(position, value.clone());
        self.changed.insert(id);
        Ok(())
    }

    fn list_set(&mut self, target: &Target, index: u32, value: &Value) -> Result<(), Rejection> {
        let (id, elements) = self.list_mut(target)?;
        let position = checked_index(id, index, elements.len(), 0)?;
        elements[position] = value.clone();
        self.changed.insert(id);
        Ok(())
    }

    fn list_remove(&mut self, target: &Target, index: u32) -> Result<(), Rejection> {
        let (id, elements) = self.list_mut(target)?;
        let position = checked_index(id, index, elements.len(), 0)?;
        elements.remove(position);
        self.changed.insert(id);
        Ok(())
    }

    /// `Clear` empties a Map or a List; clearing a Fields object would erase its schema, so
    /// that is refused as a mistake.
    fn clear(&mut self, target: &Target) -> Result<(), Rejection> {
        let object = self.object_mut(target)?;
        let id = object.id;
        let was_empty = match &mut object.body {
            Body::Map(entries) => std::mem::take(entries).is_empty(),
            Body::List(elements) => std::mem::take(elements).is_empty(),
            Body::Fields(_) => return Err(wrong_kind(id, ObjectKind::Map, ObjectKind::Fields)),
        };
        if !was_empty {
            self.changed.insert(id);
        }
        Ok(())
    }

    fn bind_root(&mut self, name: &str, target: &Target) -> Result<(), Rejection> {
        check_name(NameKind::Root, name)?;
        let id = self.resolve(target)?;
        self.roots.insert(name.to_string(), Some(id));
        Ok(())
    }

    /// `BindNewRoot` binds only a root that is unbound as the transaction sees it.
    fn bind_new_root(&mut self, name: &str, target: &Target) -> Result<(), Rejection> {
        check_name(NameKind::Root, name)?;
        let bound = match self.roots.get(name) {
            Some(binding) => *binding,
            None => self.heap.roots.get(name).copied(),
        };
        if let Some(id) = bound {
            return Err(Rejection::RootExists { name: name.to_string(), id });
        }
        let id = self.resolve(target)?;
        self.roots.insert(name.to_string(), Some(id));
        Ok(())
    }

    fn unbind_root(&mut self, name: &str) -> Result<(), Rejection> {
        check_name(NameKind::Root, name)?;
        self.roots.insert(name.to_string(), None);
        Ok(())
    }

    fn create_with_id(&mut self, id: ObjectId, class: &str, kind: ObjectKind) -> Result<(), Rejection> {
        check_name(NameKind::Class, class)?;
        if id < OBJECT_ID_FIRST || id >= self.heap.next_id {
            return Err(Rejection::InvalidId { id, reason: "it was never reserved".into() });
        }
        if self.exists(id) {
            return Err(Rejection::InvalidId { id, reason: "an object with this id exists".into() });
        }
        // Its references are still being decremented under this id (`dying.rs`).
        if self.heap.dying.contains(id) {
            return Err(Rejection::InvalidId { id, reason: "the object with this id was collected".into() });
        }
        let count = self.heap.objects.len() + self.created.len() + self.created_with_id.len() + 1;
        if count as u64 > OBJECT_COUNT_MAX {
            return Err(limit_exceeded(Limit::ObjectCount, OBJECT_COUNT_MAX, count));
        }
        self.objects.insert(id, Object { id, class: class.to_string(), version: 0, body: Body::empty(kind) });
        self.changed.insert(id);
        self.created_with_id.insert(id);
        Ok(())
    }

    fn create(&mut self, handle: u32, class: &str, kind: ObjectKind) -> Result<(), Rejection> {
        check_name(NameKind::Class, class)?;
        if self.handles.contains_key(&handle) {
            return Err(Rejection::DuplicateHandle { handle });
        }
        let count = self.heap.objects.len() + self.created.len() + self.created_with_id.len() + 1;
        if count as u64 > OBJECT_COUNT_MAX {
            return Err(limit_exceeded(Limit::ObjectCount, OBJECT_COUNT_MAX, count));
        }
        let id = self.next_id;
        // Ids are never reused, so with deletion they can outrun the object count: bound them.
        if id >= OBJECT_ID_MAX {
            return Err(limit_exceeded(Limit::ObjectCount, OBJECT_ID_MAX, id as usize));
        }
        self.next_id = id + 1;
        assert!(!self.exists(id), "next_id {id} names an object that already exists");
        self.objects.insert(
            id,
            Object {
                id,
                class: class.to_string(),
                version: 0, // set by finish
                body: Body::empty(kind),
            },
        );
        self.changed.insert(id);
        self.handles.insert(handle, id);
        self.created.push((handle, id));
        Ok(())
    }

    /// Resolves `NewRef`s, checks every changed object's references and limits, stamps the
    /// version and encodes. Objects are checked in id order so the reported error is the same
    /// on every replica.
    fn finish(mut self, log_index: u64) -> Result<Staged, Rejection> {
        let mut created_ids: BTreeSet<ObjectId> = self.created.iter().map(|(_, id)| *id).collect();
        created_ids.extend(self.created_with_id.iter().copied());
        let mut staged_objects = BTreeMap::new();
        for id in &self.changed {
            let mut object = self.objects.remove(id).expect("every changed object has a copy in the overlay");
            object.version = log_index;
            for value in object.body.values_mut() {
                if let Value::NewRef(handle) = *value {
                    let to = self.handles.get(&handle).copied().ok_or(Rejection::UnknownHandle { handle })?;
                    *value = Value::Ref(to);
                }
                if let Value::Ref(to) = *value {
                    if !(self.heap.objects.contains_key(&to) || created_ids.contains(&to)) {
                        return Err(Rejection::DanglingReference { from: *id, to });
                    }
                }
            }
            check_object_limits(&object)?;
            let encoded = encode_object(&object);
            if encoded.len() as u64 > OBJECT_SIZE_BYTES_MAX {
                return Err(limit_exceeded(Limit::ObjectSizeBytes, OBJECT_SIZE_BYTES_MAX, encoded.len()));
            }
            staged_objects.insert(*id, (object, encoded));
        }
        Ok(Staged {
            objects: staged_objects,
            roots: self.roots,
            next_id: self.next_id,
            created: self.created,
            old_references: self.old_references,
        })
    }
}

/// Checks `index` against a list of `len` elements; `slack` is 1 where `index == len` is valid.
fn checked_index(id: ObjectId, index: u32, len: usize, slack: usize) -> Result<usize, Rejection> {
    let position = index as usize;
    if position < len + slack {
        Ok(position)
    } else {
        Err(Rejection::IndexOutOfRange { id, index, len: u32::try_from(len).unwrap_or(u32::MAX) })
    }
}

fn wrong_kind(id: ObjectId, expected: ObjectKind, actual: ObjectKind) -> Rejection {
    Rejection::WrongKind { id, expected, actual }
}

/// The count limits of one object (the size limit needs the encoding and is checked apart).
pub(crate) fn check_object_limits(object: &Object) -> Result<(), Rejection> {
    let (what, limit) = match object.kind() {
        ObjectKind::Fields => (Limit::FieldsPerObject, FIELDS_PER_OBJECT_MAX),
        ObjectKind::Map | ObjectKind::List => (Limit::CollectionLength, COLLECTION_LENGTH_MAX),
    };
    let len = object.body.len();
    if len as u64 > limit {
        return Err(limit_exceeded(what, limit, len));
    }
    Ok(())
}

#[cfg(test)]
#[path = "apply_test.rs"]
mod tests;

#[cfg(test)]
#[path = "ids_test.rs"]
mod ids_tests;
