//! Transaction application: checks preconditions, runs the ops on a scratch overlay of the
//! heap, then checks references and limits, and only then hands back the complete change set.
//! Nothing here mutates the heap, which is what makes a transaction apply whole or not at all.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use crate::codec::encode_object;
use crate::command::{Op, Target, Transaction};
use crate::heap::Heap;
use crate::limits::{
    Limit, COLLECTION_LENGTH_MAX, FIELDS_PER_OBJECT_MAX, OBJECT_COUNT_MAX, OBJECT_SIZE_BYTES_MAX,
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
                Ok(entry.insert(committed.clone()))
            }
        }
    }

    fn fields_mut(&mut self, target: &Target) -> Result<(ObjectId, &mut BTreeMap<String, Value>), Rejection> {
        let object = self.object_mut(target)?;
        match &mut object.body {
            Body::Fields(fields) => Ok((object.id, fields)),
            other => Err(wrong_kind(object.id, ObjectKind::Fields, other.kind())),
        }
    }

    fn map_mut(&mut self, target: &Target) -> Result<(ObjectId, &mut BTreeMap<String, Value>), Rejection> {
        let object = self.object_mut(target)?;
        match &mut object.body {
            Body::Map(entries) => Ok((object.id, entries)),
            other => Err(wrong_kind(object.id, ObjectKind::Map, other.kind())),
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
            Op::Create { handle, class, kind } => self.create(*handle, class, *kind)?,
            Op::CreateWithId { id, class, kind } => self.create_with_id(*id, class, *kind)?,
            Op::SetField { target, field, value } => {
                check_name(NameKind::Field, field)?;
                let (id, fields) = self.fields_mut(target)?;
                fields.insert(field.clone(), value.clone());
                self.changed.insert(id);
            }
            Op::RemoveField { target, field } => {
                check_name(NameKind::Field, field)?;
                let (id, fields) = self.fields_mut(target)?;
                if fields.remove(field).is_some() {
                    self.changed.insert(id);
                }
            }
            Op::MapPut { target, key, value } => {
                check_name(NameKind::MapKey, key)?;
                let (id, entries) = self.map_mut(target)?;
                entries.insert(key.clone(), value.clone());
                self.changed.insert(id);
            }
            Op::MapRemove { target, key } => {
                check_name(NameKind::MapKey, key)?;
                let (id, entries) = self.map_mut(target)?;
                if entries.remove(key).is_some() {
                    self.changed.insert(id);
                }
            }
            Op::ListPush { target, value } => {
                let (id, elements) = self.list_mut(target)?;
                elements.push(value.clone());
                self.changed.insert(id);
            }
            Op::ListInsert { target, index, value } => {
                let (id, elements) = self.list_mut(target)?;
                // Inserting at the length appends.
                let position = checked_index(id, *index, elements.len(), 1)?;
                elements.insert(position, value.clone());
                self.changed.insert(id);
            }
            Op::ListSet { target, index, value } => {
                let (id, elements) = self.list_mut(target)?;
                let position = checked_index(id, *index, elements.len(), 0)?;
                elements[position] = value.clone();
                self.changed.insert(id);
            }
            Op::ListRemove { target, index } => {
                let (id, elements) = self.list_mut(target)?;
                let position = checked_index(id, *index, elements.len(), 0)?;
                elements.remove(position);
                self.changed.insert(id);
            }
            Op::Clear { target } => {
                let object = self.object_mut(target)?;
                let id = object.id;
                let was_empty = match &mut object.body {
                    Body::Map(entries) => std::mem::take(entries).is_empty(),
                    Body::List(elements) => std::mem::take(elements).is_empty(),
                    // Clearing a Fields object would erase its schema; that is a mistake.
                    Body::Fields(_) => return Err(wrong_kind(id, ObjectKind::Map, ObjectKind::Fields)),
                };
                if !was_empty {
                    self.changed.insert(id);
                }
            }
            Op::BindRoot { name, target } => {
                check_name(NameKind::Root, name)?;
                let id = self.resolve(target)?;
                self.roots.insert(name.clone(), Some(id));
            }
            Op::BindNewRoot { name, target } => {
                check_name(NameKind::Root, name)?;
                let bound = match self.roots.get(name) {
                    Some(binding) => *binding,
                    None => self.heap.roots.get(name).copied(),
                };
                if let Some(id) = bound {
                    return Err(Rejection::RootExists { name: name.clone(), id });
                }
                let id = self.resolve(target)?;
                self.roots.insert(name.clone(), Some(id));
            }
            Op::UnbindRoot { name } => {
                check_name(NameKind::Root, name)?;
                self.roots.insert(name.clone(), None);
            }
        }
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
        // Objects are never deleted, so next_id - 1 <= OBJECT_COUNT_MAX and this cannot wrap.
        self.next_id = id.checked_add(1).expect("next_id is bounded by OBJECT_COUNT_MAX");
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
        Ok(Staged { objects: staged_objects, roots: self.roots, next_id: self.next_id, created: self.created })
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
