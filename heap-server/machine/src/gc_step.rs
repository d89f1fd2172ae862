//! Object lifecycle within one entry: a session's `Hold` and `Release`, and `Collect`, which
//! frees a batch of objects proposed by the leader's collector once it has proved, from the
//! reference counts alone, that nothing outside the batch references or holds them.
//!
//! Why this is safe whatever the proposal: a member whose references all come from inside the
//! batch and that no session holds and no root names can only be reached through other members.
//! `closed_subset` keeps every member reachable (within the batch) from a member that fails
//! that test, so what it frees is referenced only by what it frees: unreachable from every root,
//! held by nobody, and no reference to it survives. The collector's view may be stale or wrong;
//! the worst a bad proposal does is free nothing.
//!
//! Why every entry is bounded: it names at most `COLLECT_OBJECTS_PER_STEP_MAX` objects holding
//! at most `COLLECT_REFS_PER_STEP_MAX` references (or one object alone), and decrements at most
//! `COLLECT_DECREMENTS_PER_STEP_MAX` references: first those freed objects left behind
//! (`dying.rs`), then its own; the rest wait in the dying set, still counted.

use std::collections::{BTreeMap, BTreeSet};

use crate::command::SessionId;
use crate::dying::encode_references;
use crate::heap::{Heap, Write};
use crate::image::{dying_key, hold_key, object_key};
use crate::limits::{
    Limit, COLLECT_DECREMENTS_PER_STEP_MAX, COLLECT_OBJECTS_PER_STEP_MAX, COLLECT_REFS_PER_STEP_MAX,
    DYING_REFERENCES_MAX, ENDED_HOLDS_DROPPED_PER_STEP_MAX, HOLDS_MAX, HOLDS_PER_SESSION_MAX, HOLD_IDS_PER_REQUEST_MAX,
};
use crate::object_store::ObjectStore;
use crate::refs::RefCounts;
use crate::reply::{Rejection, Reply};
use crate::step::Step;
use crate::value::ObjectId;

fn limit_exceeded(what: Limit, limit: u64, actual: u64) -> Rejection {
    Rejection::LimitExceeded { what, limit, actual }
}

fn check_id_count(ids: &[ObjectId]) -> Result<(), Rejection> {
    let count = ids.len() as u64;
    if count > HOLD_IDS_PER_REQUEST_MAX {
        return Err(limit_exceeded(Limit::HoldIds, HOLD_IDS_PER_REQUEST_MAX, count));
    }
    Ok(())
}

impl Heap {
    /// Refuses `new_holds` more holds for `session` if they would pass a hold limit.
    pub(crate) fn check_new_holds(&self, session: SessionId, new_holds: u64) -> Result<(), Rejection> {
        let held = self.holds.count_of(session);
        if held + new_holds > HOLDS_PER_SESSION_MAX {
            return Err(limit_exceeded(Limit::HoldsPerSession, HOLDS_PER_SESSION_MAX, held + new_holds));
        }
        let total = self.holds.len();
        if total + new_holds > HOLDS_MAX {
            return Err(limit_exceeded(Limit::Holds, HOLDS_MAX, total + new_holds));
        }
        Ok(())
    }

    /// Adds a hold of `id` by `session` (the object exists, the session is open) and writes it.
    pub(crate) fn add_hold(&mut self, session: SessionId, id: ObjectId, writes: &mut Vec<Write>) {
        assert!(self.objects.contains_key(&id), "hold of missing object {id}");
        if self.holds.insert(session, id, true) {
            self.refs.add_hold(id);
            writes.push((hold_key(session, id), Some(Vec::new())));
        }
    }

    /// Removes a hold if there is one, writes its deletion and refreshes the object's state.
    fn remove_hold(&mut self, session: SessionId, id: ObjectId, writes: &mut Vec<Write>) {
        if self.holds.remove(session, id) {
            self.refs.remove_hold(id);
            self.refs.refresh(id, self.objects.contains_key(&id));
            writes.push((hold_key(session, id), None));
        }
    }

    /// The largest subset of `batch` (each member with the objects it references) that only
    /// its own members reference: everything in the batch not reachable, within the batch, from
    /// a member that is held, rooted or referenced from outside. See the module comment for why
    /// that is exactly what may be freed.
    fn closed_subset(&self, batch: &BTreeMap<ObjectId, Vec<ObjectId>>) -> BTreeSet<ObjectId> {
        let inside = |id: &ObjectId| batch[id].iter().copied().filter(|to| batch.contains_key(to));
        let mut from_inside: BTreeMap<ObjectId, u32> = BTreeMap::new();
        for id in batch.keys() {
            for to in inside(id) {
                *from_inside.entry(to).or_insert(0) += 1;
            }
        }
        let mut open: Vec<ObjectId> = batch
            .keys()
            .filter(|id| {
                let count = from_inside.get(id).copied().unwrap_or(0);
                self.refs.is_held(**id) || self.refs.references_to(**id) > count
            })
            .copied()
            .collect();
        let mut kept = BTreeSet::new();
        while let Some(id) = open.pop() {
            if kept.insert(id) {
                open.extend(inside(&id).filter(|to| !kept.contains(to)));
            }
        }
        batch.keys().filter(|id| !kept.contains(id)).copied().collect()
    }

    /// Reads the references of the existing objects among `ids` (repeats dropped). Refused if
    /// more than one object holds more than `COLLECT_REFS_PER_STEP_MAX` references together;
    /// it stops reading there, so a refused batch costs at most one object more than the bound.
    fn read_batch(&self, ids: &[ObjectId]) -> Result<BTreeMap<ObjectId, Vec<ObjectId>>, Rejection> {
        let mut batch = BTreeMap::new();
        let mut references = 0u64;
        for id in ids {
            if batch.contains_key(id) {
                continue;
            }
            let Some(object) = self.objects.get(id) else { continue };
            let object_references: Vec<ObjectId> = object.references().collect();
            references += object_references.len() as u64;
            batch.insert(*id, object_references);
            if batch.len() > 1 && references > COLLECT_REFS_PER_STEP_MAX {
                return Err(limit_exceeded(Limit::CollectRefs, COLLECT_REFS_PER_STEP_MAX, references));
            }
        }
        Ok(batch)
    }

    /// Decrements up to `work.budget` references that dying objects still hold and writes
    /// what is left of each.
    fn continue_dying(&mut self, work: &mut Decrements, writes: &mut Vec<Write>) {
        let taken = self.dying.take(work.budget);
        for to in &taken.references {
            work.decrement(&mut self.refs, &self.objects, *to);
        }
        for (id, chunk) in taken.changed {
            let value = self.dying.chunk(id, chunk).map(encode_references);
            writes.push((dying_key(id, chunk), value));
        }
    }

    /// Whether freeing `ids` (with `work` left to spend) keeps the dying backlog within
    /// `DYING_REFERENCES_MAX`.
    fn fits_dying(
        &self,
        ids: &BTreeSet<ObjectId>,
        batch: &BTreeMap<ObjectId, Vec<ObjectId>>,
        work: &Decrements,
    ) -> bool {
        let references: u64 = ids.iter().map(|id| batch[id].len() as u64).sum();
        self.dying.pending() + references.saturating_sub(work.budget) <= DYING_REFERENCES_MAX
    }

    /// Frees `ids`, which only reference one another (`closed_subset`; `batch` has their
    /// references), and writes the deletions. Each one's references are decremented while
    /// `work` lasts; the rest make it a dying object.
    fn free(
        &mut self,
        ids: &BTreeSet<ObjectId>,
        batch: &BTreeMap<ObjectId, Vec<ObjectId>>,
        work: &mut Decrements,
        writes: &mut Vec<Write>,
    ) {
        for id in ids {
            let removed = self.objects.remove_encoded(id);
            assert!(removed, "freed object {id} exists");
            writes.push((object_key(*id), None));
            let references = &batch[id];
            let keep = references.len().saturating_sub(work.budget as usize);
            for to in &references[keep..] {
                work.decrement(&mut self.refs, &self.objects, *to);
            }
            if keep > 0 {
                assert!(!self.dying.contains(*id), "object {id} was in the heap, so it was not dying");
                for chunk in 0..self.dying.insert(*id, &references[..keep]) {
                    let value = self.dying.chunk(*id, chunk).map(encode_references);
                    writes.push((dying_key(*id, chunk), value));
                }
            }
        }
        for id in ids {
            self.refs.forget(*id);
        }
    }
}

/// The decrements of one Collect entry: what is left of its budget and how many were done.
struct Decrements {
    budget: u64,
    done: u64,
}

impl Decrements {
    fn new() -> Self {
        Decrements { budget: COLLECT_DECREMENTS_PER_STEP_MAX, done: 0 }
    }

    /// Drops one reference to `to`. At its last, `to` is refreshed at once rather than once the
    /// entry is done (as elsewhere): a Collect adds no reference, and an object it frees later
    /// leaves the unreferenced set again when it is forgotten.
    fn decrement(&mut self, refs: &mut RefCounts, objects: &ObjectStore, to: ObjectId) {
        assert!(self.budget > 0, "a Collect decrements at most {COLLECT_DECREMENTS_PER_STEP_MAX} references");
        self.budget -= 1;
        self.done += 1;
        if refs.remove_reference(to) {
            refs.refresh(to, objects.contains_key(&to));
        }
    }
}

impl Step<'_> {
    /// `SessionCommand::Hold`: the session holds every existing id; missing ones are reported.
    /// Refused whole if it would pass `HOLDS_PER_SESSION_MAX` or `HOLDS_MAX`.
    pub fn hold(&mut self, session: SessionId, ids: &[ObjectId]) -> Result<Reply, Rejection> {
        check_id_count(ids)?;
        let wanted: BTreeSet<ObjectId> = ids.iter().copied().collect();
        let (present, missing): (Vec<ObjectId>, Vec<ObjectId>) =
            wanted.into_iter().partition(|id| self.heap.objects.contains_key(id));
        let new_holds = present.iter().filter(|id| !self.heap.holds.contains(session, **id)).count() as u64;
        self.heap.check_new_holds(session, new_holds)?;
        for id in present {
            self.heap.add_hold(session, id, self.writes);
        }
        Ok(Reply::Held { missing })
    }

    /// `SessionCommand::Release`: ends the session's holds of `ids`.
    pub fn release(&mut self, session: SessionId, ids: &[ObjectId]) -> Result<Reply, Rejection> {
        check_id_count(ids)?;
        for id in ids {
            self.heap.remove_hold(session, *id, self.writes);
        }
        Ok(Reply::Done)
    }

    /// `Command::Collect`: drops holds of ended sessions (bounded), continues the decrements
    /// of dying objects (bounded), then frees the closed subset of `ids` unless that would
    /// pass `DYING_REFERENCES_MAX`. Refused whole, changing nothing, if the batch is over its
    /// bounds. An empty `ids` only does the first two.
    pub fn collect(&mut self, ids: &[ObjectId]) -> Result<Reply, Rejection> {
        let count = ids.len() as u64;
        if count > COLLECT_OBJECTS_PER_STEP_MAX {
            return Err(limit_exceeded(Limit::CollectObjects, COLLECT_OBJECTS_PER_STEP_MAX, count));
        }
        let batch = self.heap.read_batch(ids)?;
        let ended = self.heap.holds.ended_holds(ENDED_HOLDS_DROPPED_PER_STEP_MAX);
        for (session, id) in &ended {
            self.heap.remove_hold(*session, *id, self.writes);
        }
        let mut work = Decrements::new();
        self.heap.continue_dying(&mut work, self.writes);
        let mut freed = self.heap.closed_subset(&batch);
        if !self.heap.fits_dying(&freed, &batch, &work) {
            freed.clear();
        }
        self.heap.free(&freed, &batch, &mut work, self.writes);
        Ok(Reply::Collected {
            freed: freed.len() as u64,
            kept: (batch.len() - freed.len()) as u64,
            ended_holds_dropped: ended.len() as u64,
            decremented: work.done,
            decrements_pending: self.heap.dying.pending(),
        })
    }
}

#[cfg(test)]
#[path = "gc_test.rs"]
mod tests;

#[cfg(test)]
#[path = "gc_prop_test.rs"]
mod prop_tests;
