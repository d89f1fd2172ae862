//! Batched reads and writes of `HeapClient`, so that a caller with many objects to read or many
//! fields to write pays one round trip (or one call) for them, not one each (issue 10: the agent
//! loads object graphs and commits field writes this way). `prefetch` makes many objects cached
//! with one graph Read; `list_values` and `entries` read a whole container and make the objects it
//! references cached in one more Read; `set_many` records many field writes at once.
//!
//! Visibility is the cache's rule (`cache.rs`): a prefetch reads at least as fresh as the
//! client's own writes, the thread's last grant and the change stream, and caches only what the
//! change stream will evict if it changes. Reading through the cache afterwards sees exactly what
//! a read of each object would have seen.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use proto::heap as pb;

use super::entry_change;
use super::lock;
use super::read_lock;
use super::write_lock;
use super::HeapClient;
use crate::heap::error::HeapError;
use crate::heap::threads::PENDING_OPS_MAX;
use crate::heap::value::Value;

/// Most objects one prefetch Read asks for, and most start ids it sends: the server's
/// `GRAPH_READ_OBJECTS_MAX` (which is also its `GRAPH_QUERY_STARTS_MAX`), so no Read is refused
/// for its size. More missing ids take more Reads.
pub const PREFETCH_OBJECTS_MAX: u32 = 10_000;
const _: () = assert!(PREFETCH_OBJECTS_MAX as u64 <= heap_machine::GRAPH_READ_OBJECTS_MAX);

/// One write of `set_many`: entry `key` of object `id` (a field, or a map entry) becomes `value`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldWrite {
    pub id: u64,
    pub key: String,
    pub value: Value,
}

impl HeapClient {
    /// Makes the objects `ids` cached, with what they reach through at most `depth` references
    /// (breadth-first, at most `max_objects` objects in all, never fewer than the ids). With
    /// `walk`, the walk goes through what is already here (the cache, the thread's uncommitted
    /// changes) and reads what it finds missing; without, only the ids that are missing are read
    /// (with what they reach), and an id that is here costs nothing. The missing objects are read
    /// in one graph Read per `PREFETCH_OBJECTS_MAX` of them. Returns how many objects were read
    /// (0: no round trip was made).
    pub async fn prefetch(
        &self,
        thread: u64,
        ids: &[u64],
        depth: u32,
        max_objects: u32,
        walk: bool,
    ) -> Result<u32, HeapError> {
        self.check_open()?;
        let (missing, depth_left) = self.to_prefetch(thread, ids, depth, max_objects, walk)?;
        let mut read = 0;
        for starts in missing.chunks(PREFETCH_OBJECTS_MAX as usize) {
            read += self.read_into_cache(thread, starts.to_vec(), depth_left, max_objects).await?;
        }
        Ok(read)
    }

    /// Elements `from..to` of list `id` (a `to` past the end reads to the end). The objects they
    /// reference that are not cached are read first, with what those reach within `depth` (at
    /// most `max_objects` objects), in one round trip (`prefetch` without a walk: a referenced
    /// object that is cached costs nothing), so turning the references into handles costs no
    /// round trip each.
    pub async fn list_values(
        &self,
        thread: u64,
        id: u64,
        from: u32,
        to: u32,
        depth: u32,
        max_objects: u32,
    ) -> Result<Vec<Value>, HeapError> {
        self.check_open()?;
        let list = self.list(thread, id).await?;
        let end = (to as usize).min(list.items.len());
        let start = from as usize;
        if start > end {
            return Err(HeapError::Rejected(format!(
                "elements {from}..{to} are out of range for list {id} of length {}",
                list.items.len()
            )));
        }
        let values: Vec<Value> = list.items[start..end].iter().map(|v| Value::from_pb(Some(v))).collect();
        self.prefetch_references(thread, values.iter(), depth, max_objects).await?;
        Ok(values)
    }

    /// Every entry of object `id` (the fields of a fields object, the entries of a map), in key
    /// order. The objects the values reference are made cached first, as by `list_values`.
    pub async fn entries(
        &self,
        thread: u64,
        id: u64,
        depth: u32,
        max_objects: u32,
    ) -> Result<Vec<(String, Value)>, HeapError> {
        self.check_open()?;
        let object = self.object(thread, id).await?;
        if object.kind == pb::ObjectKind::List as i32 {
            return Err(HeapError::TypeMismatch(format!("object {id} is a list; use the list operations")));
        }
        let entries: Vec<(String, Value)> =
            object.entries.iter().map(|(key, value)| (key.clone(), Value::from_pb(Some(value)))).collect();
        self.prefetch_references(thread, entries.iter().map(|(_, value)| value), depth, max_objects).await?;
        Ok(entries)
    }

    /// Records `writes` as that many calls of `set` would, in order, in one call: each object is
    /// read once however many of its entries are written. Under a lock they join the thread's
    /// pending transaction; otherwise they commit together now. All or nothing: when one cannot
    /// be recorded (an unknown object, a list), none is.
    pub async fn set_many(&self, thread: u64, writes: Vec<FieldWrite>) -> Result<(), HeapError> {
        self.check_open()?;
        if writes.len() > PENDING_OPS_MAX {
            return Err(HeapError::Rejected(format!(
                "{} writes in one batch, more than the {PENDING_OPS_MAX} changes one lock's commit may hold; \
                 release the lock more often",
                writes.len()
            )));
        }
        let mut updated: BTreeMap<u64, pb::Object> = BTreeMap::new();
        let mut ops = Vec::with_capacity(writes.len());
        for write in writes {
            let object = match updated.entry(write.id) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(entry) => entry.insert(self.object(thread, write.id).await?),
            };
            ops.push(entry_change(object, &write.key, &write.value)?);
            object.entries.insert(write.key, write.value.to_pb());
        }
        self.change(thread, updated.into_values(), ops, None).await.map(|_| ())
    }

    /// Prefetches the objects `values` reference that are missing (with `depth` and
    /// `max_objects`, as `prefetch` without a walk: below a cached one nothing is looked at, so a
    /// container of cached objects costs no walk through what they reach).
    async fn prefetch_references<'v>(
        &self,
        thread: u64,
        values: impl Iterator<Item = &'v Value>,
        depth: u32,
        max_objects: u32,
    ) -> Result<u32, HeapError> {
        let ids = referenced_ids(values);
        if ids.is_empty() {
            return Ok(0);
        }
        self.prefetch(thread, &ids, depth, max_objects, false).await
    }

    /// What a prefetch must read: the missing objects `walk_local` finds from `ids` (without the
    /// ones the hold table knows to be gone: a read of those reports the error, not a prefetch),
    /// and the depth to read below them.
    fn to_prefetch(
        &self,
        thread: u64,
        ids: &[u64],
        depth: u32,
        max_objects: u32,
        walk: bool,
    ) -> Result<(Vec<u64>, u32), HeapError> {
        // One lock at a time, as everywhere in the client: the thread's uncommitted objects are
        // copied out (as their references) before the cache is locked.
        let uncommitted: BTreeMap<u64, Vec<u64>> = match lock(&self.threads)?.get(&thread) {
            Some(state) => state.overlay.iter().map(|(id, object)| (*id, references(object))).collect(),
            None => BTreeMap::new(),
        };
        let limit = read_budget(ids.len(), max_objects) as usize;
        let found = {
            let cache = read_lock(&self.cache)?;
            walk_local(ids, if walk { depth } else { 0 }, limit, |id| {
                uncommitted.get(&id).cloned().or_else(|| cache.get(id).map(|object| references(object)))
            })
        };
        let holds = lock(&self.holds)?;
        let missing: Vec<u64> = found.missing.into_iter().filter(|id| !holds.is_missing(*id)).collect();
        Ok((missing, depth.saturating_sub(found.hops_min)))
    }

    /// One graph Read from `starts` (at most `PREFETCH_OBJECTS_MAX`), its objects cached.
    async fn read_into_cache(
        &self,
        thread: u64,
        starts: Vec<u64>,
        depth: u32,
        max_objects: u32,
    ) -> Result<u32, HeapError> {
        debug_assert!(starts.len() <= PREFETCH_OBJECTS_MAX as usize, "the caller splits the starts");
        let grant_index = lock(&self.threads)?.get(&thread).map(|state| state.grant_index).unwrap_or(0);
        let seen_index = read_lock(&self.cache)?.seen_index();
        // As `object`: no older than the client's writes and the thread's grant, and at least as
        // fresh as the change stream, so what it returns may be cached.
        let min_index = self.min_read_index.load(Ordering::SeqCst).max(grant_index).max(seen_index);
        let request = pb::ReadRequest {
            max_objects: read_budget(starts.len(), max_objects),
            ids: starts,
            depth,
            local: true,
            min_applied_index: min_index,
            ..Default::default()
        };
        let read = self.cluster.read(request).await?;
        let count = read.objects.len() as u32;
        let mut cache = write_lock(&self.cache)?;
        for object in read.objects {
            cache.insert_read_at(object, read.applied_index);
        }
        Ok(count)
    }
}

/// The objects one Read may return: what the caller asked, never fewer than the starts (the server
/// stops at its budget, and a start cut off would be read again on its own), at most
/// `PREFETCH_OBJECTS_MAX`.
fn read_budget(starts: usize, max_objects: u32) -> u32 {
    let starts = u32::try_from(starts).unwrap_or(u32::MAX);
    max_objects.max(starts).min(PREFETCH_OBJECTS_MAX)
}

/// `ids` without repeats, in their first order.
fn distinct(ids: &[u64]) -> Vec<u64> {
    let mut seen = BTreeSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// The ids of the objects `values` reference, each once.
fn referenced_ids<'v>(values: impl Iterator<Item = &'v Value>) -> Vec<u64> {
    let ids: Vec<u64> = values
        .filter_map(|value| match value {
            Value::Object(id) => Some(*id),
            _ => None,
        })
        .collect();
    distinct(&ids)
}

/// The ids `object` references (entries and items), in order, with repeats.
fn references(object: &pb::Object) -> Vec<u64> {
    object
        .entries
        .values()
        .chain(object.items.iter())
        .filter_map(|value| match value.kind {
            Some(pb::value::Kind::RefId(id)) => Some(id),
            _ => None,
        })
        .collect()
}

/// What `walk_local` found: the objects missing here, in the order met, and the fewest references
/// between a start and one of them (`u32::MAX` when none is missing).
#[derive(Debug, PartialEq)]
struct Found {
    missing: Vec<u64>,
    hops_min: u32,
}

/// Walks breadth-first from `ids` through the objects `local` has (it gives their references),
/// at most `depth` references deep and `limit` objects in all, and collects those it does not
/// have. Each object is looked at once; the limit keeps a walk through a large cached graph short.
fn walk_local(ids: &[u64], depth: u32, limit: usize, mut local: impl FnMut(u64) -> Option<Vec<u64>>) -> Found {
    let mut seen: BTreeSet<u64> = BTreeSet::new();
    let mut queue: VecDeque<(u64, u32)> = VecDeque::new();
    for id in distinct(ids) {
        seen.insert(id);
        queue.push_back((id, 0));
    }
    let mut found = Found { missing: Vec::new(), hops_min: u32::MAX };
    // Each id enters the queue once (`seen`), and at most `limit` are looked at.
    let mut looked_at = 0;
    while let Some((id, hops)) = queue.pop_front() {
        if looked_at >= limit {
            break;
        }
        looked_at += 1;
        match local(id) {
            None => {
                found.missing.push(id);
                found.hops_min = found.hops_min.min(hops);
            }
            Some(references) if hops < depth => {
                for reference in references {
                    if seen.insert(reference) {
                        queue.push_back((reference, hops + 1));
                    }
                }
            }
            Some(_) => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_asks_for_at_least_its_starts_and_at_most_the_server_limit() {
        assert_eq!(read_budget(3, 0), 3, "depth 0 with no budget still returns every start");
        assert_eq!(read_budget(3, 64), 64);
        assert_eq!(read_budget(100, 64), 100);
        assert_eq!(read_budget(10, u32::MAX), PREFETCH_OBJECTS_MAX);
        assert_eq!(read_budget(usize::MAX, 0), PREFETCH_OBJECTS_MAX);
    }

    #[test]
    fn repeated_ids_are_asked_for_once_in_first_order() {
        assert_eq!(distinct(&[5, 3, 5, 9, 3]), vec![5, 3, 9]);
        assert!(distinct(&[]).is_empty());
    }

    /// A graph for the walks: 1 -> 2, 3; 2 -> 4; 3 -> 4, 5; 4 -> 1 (a cycle); 5 -> 6.
    fn graph(id: u64) -> Vec<u64> {
        match id {
            1 => vec![2, 3],
            2 => vec![4],
            3 => vec![4, 5],
            4 => vec![1],
            5 => vec![6],
            _ => vec![],
        }
    }

    #[test]
    fn a_walk_finds_the_missing_objects_below_the_ones_here() {
        let here = |id: u64| if id == 4 || id == 6 { None } else { Some(graph(id)) };
        let found = walk_local(&[1], 10, 100, here);
        assert_eq!(found, Found { missing: vec![4, 6], hops_min: 2 }, "4 once, though two paths lead to it");
        assert_eq!(walk_local(&[1], 1, 100, here), Found { missing: vec![], hops_min: u32::MAX }, "4 is 2 deep");
        assert_eq!(walk_local(&[5, 4, 5], 0, 100, here).missing, vec![4], "depth 0: only the starts, once each");
    }

    #[test]
    fn a_walk_through_a_cycle_ends_and_the_limit_cuts_it_short() {
        let everything = |id: u64| Some(graph(id));
        assert_eq!(walk_local(&[1], u32::MAX, 100, everything), Found { missing: vec![], hops_min: u32::MAX });
        let mut looked_at = Vec::new();
        let found = walk_local(&[1], u32::MAX, 3, |id| {
            looked_at.push(id);
            if id == 6 {
                None
            } else {
                Some(graph(id))
            }
        });
        assert_eq!(looked_at, vec![1, 2, 3], "breadth-first, and no more than the limit");
        assert!(found.missing.is_empty(), "6 is beyond the limit");
    }

    #[test]
    fn references_are_the_ref_values_of_entries_and_items() {
        use pb::value::Kind;
        let value = |kind| pb::Value { kind: Some(kind) };
        let mut object = pb::Object { id: 1, ..Default::default() };
        object.entries.insert("a".into(), value(Kind::RefId(7)));
        object.entries.insert("b".into(), value(Kind::IntValue(7)));
        object.items.push(value(Kind::RefId(9)));
        object.items.push(value(Kind::StringValue("x".into())));
        assert_eq!(references(&object), vec![7, 9]);
    }

    #[test]
    fn only_references_are_prefetched() {
        let values = [
            Value::Long(7),
            Value::Object(4),
            Value::String("x".into()),
            Value::Object(2),
            Value::Object(4),
            Value::Null,
        ];
        assert_eq!(referenced_ids(values.iter()), vec![4, 2]);
    }
}
