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

use std::collections::{BTreeMap, BTreeSet};

use crate::command::SessionId;
use crate::heap::{Heap, Write};
use crate::image::{hold_key, object_key};
use crate::limits::{
    Limit, COLLECT_OBJECTS_PER_STEP_MAX, COLLECT_REFS_PER_STEP_MAX, ENDED_HOLDS_DROPPED_PER_STEP_MAX, HOLDS_MAX,
    HOLDS_PER_SESSION_MAX, HOLD_IDS_PER_REQUEST_MAX,
};
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

    /// Frees `ids`, which only reference one another (`closed_subset`; `batch` has their
    /// references), and writes the deletions.
    fn free(&mut self, ids: &BTreeSet<ObjectId>, batch: &BTreeMap<ObjectId, Vec<ObjectId>>, writes: &mut Vec<Write>) {
        let mut touched = BTreeSet::new();
        for id in ids {
            let removed = self.objects.remove_encoded(id);
            assert!(removed, "freed object {id} exists");
            for to in &batch[id] {
                self.refs.remove_reference(*to);
                touched.insert(*to);
            }
            writes.push((object_key(*id), None));
        }
        for id in ids {
            self.refs.forget(*id);
        }
        for id in touched.difference(ids) {
            self.refs.refresh(*id, self.objects.contains_key(id));
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

    /// `Command::Collect`: drops holds of ended sessions (bounded), then frees the closed
    /// subset of `ids`. Refused whole, changing nothing, if the batch is over its bounds.
    pub fn collect(&mut self, ids: &[ObjectId]) -> Result<Reply, Rejection> {
        let count = ids.len() as u64;
        if count > COLLECT_OBJECTS_PER_STEP_MAX {
            return Err(limit_exceeded(Limit::CollectObjects, COLLECT_OBJECTS_PER_STEP_MAX, count));
        }
        let batch: BTreeMap<ObjectId, Vec<ObjectId>> =
            ids.iter().filter_map(|id| Some((*id, self.heap.objects.get(id)?.references().collect()))).collect();
        let references: u64 = batch.values().map(|references| references.len() as u64).sum();
        if references > COLLECT_REFS_PER_STEP_MAX {
            return Err(limit_exceeded(Limit::CollectRefs, COLLECT_REFS_PER_STEP_MAX, references));
        }
        let ended = self.heap.holds.ended_holds(ENDED_HOLDS_DROPPED_PER_STEP_MAX);
        for (session, id) in &ended {
            self.heap.remove_hold(*session, *id, self.writes);
        }
        let freed = self.heap.closed_subset(&batch);
        self.heap.free(&freed, &batch, self.writes);
        Ok(Reply::Collected {
            freed: freed.len() as u64,
            kept: (batch.len() - freed.len()) as u64,
            ended_holds_dropped: ended.len() as u64,
        })
    }
}

#[cfg(test)]
#[path = "gc_test.rs"]
mod tests;

#[cfg(test)]
#[path = "gc_prop_test.rs"]
mod prop_tests;
