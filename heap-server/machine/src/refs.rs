//! Reference counts: how many references (values in object bodies, repeats counted, root
//! bindings, and references of freed objects not decremented yet, see `dying.rs`) and how many
//! session holds name each object, and the set of objects that have neither, which are garbage
//! at once. Derived state: never persisted, rebuilt pair by pair by `load`, kept by every
//! apply, checked by `validate` against a fresh count.
//!
//! Why counts: they make "nothing outside this set refers to it" a local check (a member's
//! count equals the references from inside the set), which is how `Command::Collect` proves,
//! in one bounded entry, that what it frees is unreachable, whoever proposed it and however
//! stale the proposer's view was.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use crate::object::Object;
use crate::value::ObjectId;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RefCounts {
    /// References to each object (body values, roots, dying references); objects with none
    /// are absent. A freed object may still have an entry while dying objects reference it.
    referenced: BTreeMap<ObjectId, u32>,
    /// Sessions holding each object; objects nobody holds are absent.
    held: BTreeMap<ObjectId, u32>,
    /// Existing objects with no reference and no hold, in id order: the collector's first
    /// candidates.
    unreferenced: BTreeSet<ObjectId>,
}

impl RefCounts {
    pub fn references_to(&self, id: ObjectId) -> u32 {
        self.referenced.get(&id).copied().unwrap_or(0)
    }

    pub fn is_held(&self, id: ObjectId) -> bool {
        self.held.contains_key(&id)
    }

    pub fn unreferenced(&self) -> &BTreeSet<ObjectId> {
        &self.unreferenced
    }

    /// How many objects some session holds.
    pub fn held_object_count(&self) -> usize {
        self.held.len()
    }

    /// Objects some session holds, in id order.
    pub fn held_ids(&self) -> impl Iterator<Item = ObjectId> + '_ {
        self.held.keys().copied()
    }

    pub fn add_reference(&mut self, to: ObjectId) {
        let count = self.referenced.entry(to).or_insert(0);
        *count = count.checked_add(1).expect("an object has fewer than 2^32 references");
        self.unreferenced.remove(&to);
    }

    /// Drops one reference to `to`; call `refresh(to, ..)` once the entry's changes are done.
    /// True if it was the last one (only then can `to` become unreferenced).
    pub fn remove_reference(&mut self, to: ObjectId) -> bool {
        let Entry::Occupied(mut count) = self.referenced.entry(to) else {
            panic!("a reference to {to} being removed was counted");
        };
        *count.get_mut() -= 1;
        let last = *count.get() == 0;
        if last {
            count.remove();
        }
        last
    }

    pub fn add_hold(&mut self, id: ObjectId) {
        let count = self.held.entry(id).or_insert(0);
        *count = count.checked_add(1).expect("an object has fewer than 2^32 holders");
        self.unreferenced.remove(&id);
    }

    pub fn remove_hold(&mut self, id: ObjectId) {
        let count = self.held.get_mut(&id).expect("a hold being removed was counted");
        *count -= 1;
        if *count == 0 {
            self.held.remove(&id);
        }
    }

    /// Puts `id` in or out of the unreferenced set by its counts; `exists` says whether the
    /// object is in the heap (a freed object is in no set).
    pub fn refresh(&mut self, id: ObjectId, exists: bool) {
        if exists && !self.referenced.contains_key(&id) && !self.held.contains_key(&id) {
            self.unreferenced.insert(id);
        } else {
            self.unreferenced.remove(&id);
        }
    }

    /// Counts a whole state from scratch (for `validate`); `dying` are the references of
    /// freed objects not decremented yet.
    pub fn build(
        objects: impl Iterator<Item = (ObjectId, Object)> + Clone,
        roots: impl Iterator<Item = ObjectId>,
        dying: impl Iterator<Item = ObjectId>,
        holds: impl Iterator<Item = ObjectId>,
    ) -> RefCounts {
        let mut counts = RefCounts::default();
        for (_, object) in objects.clone() {
            object.references().for_each(|to| counts.add_reference(to));
        }
        roots.for_each(|to| counts.add_reference(to));
        dying.for_each(|to| counts.add_reference(to));
        holds.for_each(|id| counts.add_hold(id));
        for (id, _) in objects {
            counts.refresh(id, true);
        }
        counts
    }

    /// Forgets a freed object: nobody may hold it. Its reference count may outlive it while
    /// dying objects (freed with it or before) still hold references to it; those are
    /// decremented later and the entry goes with the last.
    pub fn forget(&mut self, id: ObjectId) {
        assert!(!self.held.contains_key(&id), "object {id} freed while held");
        self.unreferenced.remove(&id);
    }
}
