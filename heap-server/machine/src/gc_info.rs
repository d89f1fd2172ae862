//! What the collector and operators ask about object lifecycle (part of `impl Heap`, see
//! `heap.rs`): counts for `heapctl gc status`, the unreferenced objects, the starting points
//! and edges of a mark, and `plan_collect`, which groups garbage candidates into one bounded
//! `Command::Collect`. All reads; nothing here changes the heap.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::heap::Heap;
use crate::limits::{COLLECT_OBJECTS_PER_STEP_MAX, COLLECT_REFS_PER_STEP_MAX};
use crate::value::ObjectId;

/// Most objects `plan_collect` decodes for one batch and then leaves out (they did not fit),
/// and most references those hold together: a plan runs under the state machine's read lock,
/// which applies wait for, so it reads at most about five batches' worth.
const PLAN_WASTED_OBJECT_READS_MAX: u64 = COLLECT_OBJECTS_PER_STEP_MAX;
const PLAN_WASTED_REFERENCE_READS_MAX: u64 = 4 * COLLECT_REFS_PER_STEP_MAX;
/// References a batch within a smaller object bound may hold per object of that bound: the
/// ratio of the entry's own bounds.
const REFERENCES_PER_OBJECT_IN_BATCH: u64 = COLLECT_REFS_PER_STEP_MAX / COLLECT_OBJECTS_PER_STEP_MAX;

/// Object lifecycle figures at one applied index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcSummary {
    pub objects: u64,
    pub roots: u64,
    /// Objects with no reference and no hold: garbage the collector frees next.
    pub unreferenced: u64,
    /// Objects some session holds.
    pub held_objects: u64,
    /// `(session, object)` holds, those of ended sessions included.
    pub holds: u64,
    /// Holds of sessions that ended, still to be dropped.
    pub ended_holds: u64,
    /// Freed objects whose references are not all decremented yet (`dying.rs`).
    pub dying: u64,
    /// References of dying objects still to be decremented by the next Collect entries.
    pub decrements_pending: u64,
    /// The id the next create receives: ids below it that no longer exist were collected.
    pub next_id: ObjectId,
}

impl Heap {
    pub fn gc_summary(&self) -> GcSummary {
        GcSummary {
            objects: self.objects.len() as u64,
            roots: self.roots.len() as u64,
            unreferenced: self.refs.unreferenced().len() as u64,
            held_objects: self.refs.held_object_count() as u64,
            holds: self.holds.len(),
            ended_holds: self.holds.ended_count(),
            dying: self.dying.len(),
            decrements_pending: self.dying.pending(),
            next_id: self.next_id,
        }
    }

    /// References to `id`: values in object bodies (repeats counted) plus root bindings.
    pub fn reference_count(&self, id: ObjectId) -> u32 {
        self.refs.references_to(id)
    }

    pub fn is_unreferenced(&self, id: ObjectId) -> bool {
        self.refs.unreferenced().contains(&id)
    }

    /// Up to `max` unreferenced objects with ids above `after`, in id order.
    pub fn unreferenced_after(&self, after: ObjectId, max: usize) -> Vec<ObjectId> {
        use std::ops::Bound::{Excluded, Unbounded};
        self.refs.unreferenced().range((Excluded(after), Unbounded)).take(max).copied().collect()
    }

    /// Where a mark starts: every root's object and every held object, in that order.
    pub fn mark_starts(&self) -> Vec<ObjectId> {
        let mut starts: Vec<ObjectId> = self.roots.values().copied().collect();
        starts.extend(self.refs.held_ids());
        starts
    }

    /// The objects `id` references (repeats included), or `None` if it does not exist.
    pub fn references_of(&self, id: ObjectId) -> Option<Vec<ObjectId>> {
        self.objects.get(&id).map(|object| object.references().collect())
    }

    /// The encoded size of object `id` (what its image key holds), or `None` if it does not exist.
    pub fn encoded_size_of(&self, id: ObjectId) -> Option<u64> {
        self.objects.encoded(&id).map(|bytes| bytes.len() as u64)
    }

    /// Up to `max` existing object ids above `after`, in id order.
    pub fn object_ids_after(&self, after: ObjectId, max: usize) -> Vec<ObjectId> {
        self.objects.ids_after(after, max)
    }

    /// One `Command::Collect` batch as large as an entry may be: `plan_collect_within` with
    /// `COLLECT_OBJECTS_PER_STEP_MAX` objects (what a garbage cycle needs: all of it in one entry).
    pub fn plan_collect(&self, seeds: &[ObjectId], is_candidate: impl Fn(ObjectId) -> bool) -> CollectPlan {
        self.plan_collect_within(seeds, COLLECT_OBJECTS_PER_STEP_MAX, is_candidate)
    }

    /// One `Command::Collect` batch: each seed in turn with what it reaches (breadth-first,
    /// before the next seed) through objects `is_candidate` accepts, within `objects_max`
    /// objects (at most `COLLECT_OBJECTS_PER_STEP_MAX`) and twice as many references (at most
    /// `COLLECT_REFS_PER_STEP_MAX`). The first seed that exists always fits, alone if it holds
    /// more references than that; seeds that exist but do not fit, or that come after
    /// `PLAN_WASTED_OBJECT_READS_MAX` objects or `PLAN_WASTED_REFERENCE_READS_MAX` references
    /// were read and left out, come back as `deferred`, for the next batch. A smaller bound
    /// makes a cheaper entry; it suits garbage that reference counting frees piece by piece, not
    /// a cycle, which is freed only whole.
    pub fn plan_collect_within(
        &self,
        seeds: &[ObjectId],
        objects_max: u64,
        is_candidate: impl Fn(ObjectId) -> bool,
    ) -> CollectPlan {
        let objects_max = objects_max.clamp(1, COLLECT_OBJECTS_PER_STEP_MAX);
        let references_max = objects_max.saturating_mul(REFERENCES_PER_OBJECT_IN_BATCH).min(COLLECT_REFS_PER_STEP_MAX);
        let mut plan = CollectPlan::default();
        let mut taken = BTreeSet::new();
        let (mut references_total, mut wasted_objects, mut wasted_references) = (0u64, 0u64, 0u64);
        // What the batch reaches comes before further seeds: it is what frees with them.
        let mut reached: VecDeque<ObjectId> = VecDeque::new();
        let mut seeds = seeds.iter().copied();
        loop {
            let (id, is_seed) = match reached.pop_front() {
                Some(id) => (id, false),
                None => match seeds.next() {
                    Some(id) => (id, true),
                    None => break,
                },
            };
            if taken.contains(&id) {
                continue;
            }
            // Full: not even an object without references fits, or reading more costs too
            // much. Checked before the decode, so what is left costs a lookup each.
            let full = plan.batch.len() as u64 >= objects_max
                || references_total > references_max
                || wasted_objects >= PLAN_WASTED_OBJECT_READS_MAX
                || wasted_references >= PLAN_WASTED_REFERENCE_READS_MAX;
            if full {
                if is_seed && self.objects.contains_key(&id) {
                    plan.deferred.push(id);
                }
                continue;
            }
            let Some(object) = self.objects.get(&id) else {
                continue;
            };
            let references = object.references().count() as u64;
            // An empty batch takes any object: one over the bound is collected alone.
            if !plan.batch.is_empty() && references_total + references > references_max {
                wasted_objects += 1;
                wasted_references += references;
                if is_seed {
                    plan.deferred.push(id);
                }
                continue;
            }
            references_total += references;
            taken.insert(id);
            plan.batch.push(id);
            if references_total <= references_max {
                let next = object.references().filter(|to| !taken.contains(to) && is_candidate(*to));
                reached.extend(next);
            }
        }
        plan
    }
}

/// What `plan_collect` proposes, and the seeds left for the next batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectPlan {
    pub batch: Vec<ObjectId>,
    pub deferred: Vec<ObjectId>,
}
