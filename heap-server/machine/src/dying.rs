//! The dying set: objects `Command::Collect` has freed whose outgoing references are not all
//! decremented yet. A freed object leaves the store at once (every reader sees it collected),
//! but a list of 100,000 references cannot be uncounted within one entry's budget
//! (`COLLECT_DECREMENTS_PER_STEP_MAX`), so what is left waits here and the following Collect
//! entries decrement it, a bounded number per entry.
//!
//! Why the counts stay exact and safe: a reference still waiting here is still counted in
//! `RefCounts` (by every apply, and by `load`, which counts the persisted rest), so its target
//! keeps a reference from outside any batch and cannot be freed before the reference is
//! decremented.
//!
//! Persisted in chunks: `d/` + id (8 bytes BE) + chunk number (4 bytes BE) -> up to
//! `DYING_REFERENCES_PER_KEY_MAX` references, 8 bytes BE each. What is left of an object is a
//! prefix of its body's references (the last go first), so every chunk but the last is full and
//! an entry rewrites at most one chunk per object it decrements: its writes stay bounded however
//! large the dying objects are.

use std::collections::BTreeMap;

use crate::limits::{COLLECTION_LENGTH_MAX, FIELDS_PER_OBJECT_MAX};
use crate::value::{ObjectId, OBJECT_ID_FIRST};

/// Bytes per persisted reference: a big-endian id.
const REFERENCE_BYTES: usize = 8;
/// References per persisted chunk (32 KiB): a Collect rewrites at most one partial chunk per
/// object it decrements, and deletes the chunks it empties.
pub(crate) const DYING_REFERENCES_PER_KEY_MAX: usize = 4_096;
/// The most references one object holds: one per list element or map entry, or per field.
const REFERENCES_PER_OBJECT_MAX: u64 =
    if COLLECTION_LENGTH_MAX > FIELDS_PER_OBJECT_MAX { COLLECTION_LENGTH_MAX } else { FIELDS_PER_OBJECT_MAX };
/// The most chunks one object needs.
pub(crate) const CHUNKS_PER_OBJECT_MAX: u32 =
    REFERENCES_PER_OBJECT_MAX.div_ceil(DYING_REFERENCES_PER_KEY_MAX as u64) as u32;

/// A dying object's chunks by number: 0 up to the last, each holding its part of the
/// references left (all but the last exactly `DYING_REFERENCES_PER_KEY_MAX`, none empty).
type Chunks = BTreeMap<u32, Vec<ObjectId>>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Dying {
    remaining: BTreeMap<ObjectId, Chunks>,
    /// All remaining references together; derived.
    pending: u64,
}

/// The references `Dying::take` decremented, and the chunks it changed.
#[derive(Debug, Default)]
pub(crate) struct Taken {
    pub references: Vec<ObjectId>,
    /// `(object, chunk)` of every chunk changed, in key order (`chunk` says what is left).
    pub changed: Vec<(ObjectId, u32)>,
}

impl Dying {
    /// Dying objects.
    pub fn len(&self) -> u64 {
        self.remaining.len() as u64
    }

    /// Persisted chunks (image keys).
    pub fn chunk_count(&self) -> usize {
        self.remaining.values().map(BTreeMap::len).sum()
    }

    /// References waiting to be decremented.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    pub fn contains(&self, id: ObjectId) -> bool {
        self.remaining.contains_key(&id)
    }

    /// What is left of chunk `chunk` of object `id`; `None` once it is empty (deleted).
    pub fn chunk(&self, id: ObjectId, chunk: u32) -> Option<&[ObjectId]> {
        self.remaining.get(&id)?.get(&chunk).map(|references| &references[..])
    }

    /// Every chunk in key order: object, chunk number, references.
    pub fn chunks(&self) -> impl Iterator<Item = (ObjectId, u32, &[ObjectId])> + '_ {
        self.remaining
            .iter()
            .flat_map(|(id, chunks)| chunks.iter().map(move |(chunk, references)| (*id, *chunk, &references[..])))
    }

    /// Every dying object with the references it still holds, in order (for tests).
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (ObjectId, Vec<ObjectId>)> + '_ {
        self.remaining.iter().map(|(id, chunks)| (*id, chunks.values().flatten().copied().collect()))
    }

    /// Every remaining reference (repeats included).
    pub fn references(&self) -> impl Iterator<Item = ObjectId> + '_ {
        self.remaining.values().flat_map(BTreeMap::values).flatten().copied()
    }

    /// Adds freed object `id` with the references it still holds (not empty), in chunks;
    /// returns how many chunks. It must not be dying already.
    pub fn insert(&mut self, id: ObjectId, references: &[ObjectId]) -> u32 {
        assert!(!references.is_empty(), "dying object {id} has references left to decrement");
        let chunks: Chunks = references
            .chunks(DYING_REFERENCES_PER_KEY_MAX)
            .map(<[ObjectId]>::to_vec)
            .zip(0..)
            .map(|(c, n)| (n, c))
            .collect();
        let count = chunks.len() as u32;
        let previous = self.remaining.insert(id, chunks);
        assert!(previous.is_none(), "object {id} is dying once");
        self.pending += references.len() as u64;
        count
    }

    /// Loads one persisted chunk; false if it was loaded already (then nothing changes). Its
    /// place among the object's other chunks is checked by `validate`, once all are loaded.
    pub fn load_chunk(&mut self, id: ObjectId, chunk: u32, references: Vec<ObjectId>) -> bool {
        let chunks = self.remaining.entry(id).or_default();
        if chunks.contains_key(&chunk) {
            return false;
        }
        self.pending += references.len() as u64;
        chunks.insert(chunk, references);
        true
    }

    /// Takes up to `max` references to decrement: objects in id order, each one's last
    /// references first. Empty chunks and objects are removed. Linear in what it takes.
    pub fn take(&mut self, max: u64) -> Taken {
        let mut taken = Taken::default();
        let mut done = Vec::new();
        for (id, chunks) in self.remaining.iter_mut() {
            let mut changed_here = Vec::new();
            while (taken.references.len() as u64) < max {
                let Some(mut last) = chunks.last_entry() else { break };
                let left_to_take = max as usize - taken.references.len();
                let keep = last.get().len().saturating_sub(left_to_take);
                taken.references.extend(last.get_mut().drain(keep..));
                changed_here.push((*id, *last.key()));
                if last.get().is_empty() {
                    last.remove();
                }
            }
            // Chunks were taken from the last one down; writes go in key order.
            taken.changed.extend(changed_here.into_iter().rev());
            if chunks.is_empty() {
                done.push(*id);
            }
            if taken.references.len() as u64 >= max {
                break;
            }
        }
        for id in done {
            self.remaining.remove(&id);
        }
        self.pending -= taken.references.len() as u64;
        taken
    }

    /// Checks each object's chunks (numbered from 0 without gaps, all but the last full, none
    /// empty) and the derived total.
    pub fn validate(&self) -> Result<(), String> {
        for (id, chunks) in &self.remaining {
            let last = chunks.len() as u32;
            for (expected, (chunk, references)) in (0..).zip(chunks) {
                if *chunk != expected {
                    return Err(format!("dying object {id} has chunk {chunk} but no chunk {expected}"));
                }
                let full = references.len() == DYING_REFERENCES_PER_KEY_MAX;
                if references.is_empty() || (*chunk + 1 < last && !full) {
                    return Err(format!("dying object {id}'s chunk {chunk} holds {} references", references.len()));
                }
            }
        }
        let pending: u64 = self.references().count() as u64;
        if pending != self.pending {
            return Err(format!("{pending} references are dying, but {} are counted", self.pending));
        }
        Ok(())
    }
}

/// The persisted value of one chunk: its references, 8 bytes BE each.
pub(crate) fn encode_references(references: &[ObjectId]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(references.len() * REFERENCE_BYTES);
    for id in references {
        bytes.extend_from_slice(&id.to_be_bytes());
    }
    bytes
}

/// Reads `encode_references`' bytes back: a non-empty whole number of ids, no more than one
/// chunk holds, none below `OBJECT_ID_FIRST`.
pub(crate) fn decode_references(bytes: &[u8]) -> Result<Vec<ObjectId>, String> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(REFERENCE_BYTES) {
        return Err(format!("{} bytes are not a non-empty list of {REFERENCE_BYTES}-byte ids", bytes.len()));
    }
    let count = bytes.len() / REFERENCE_BYTES;
    if count > DYING_REFERENCES_PER_KEY_MAX {
        return Err(format!("{count} references, more than one chunk holds ({DYING_REFERENCES_PER_KEY_MAX})"));
    }
    let ids: Vec<ObjectId> = bytes
        .chunks_exact(REFERENCE_BYTES)
        .map(|chunk| ObjectId::from_be_bytes(chunk.try_into().expect("chunks of 8 bytes")))
        .collect();
    if let Some(id) = ids.iter().find(|id| **id < OBJECT_ID_FIRST) {
        return Err(format!("a reference to object {id}, below the first id {OBJECT_ID_FIRST}"));
    }
    Ok(ids)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const FULL: usize = DYING_REFERENCES_PER_KEY_MAX;

    #[test]
    fn take_goes_in_id_order_from_each_ones_end_and_drops_finished_objects() {
        let mut dying = Dying::default();
        assert_eq!(dying.insert(9, &[1, 2, 3]), 1);
        assert_eq!(dying.insert(4, &[5, 6]), 1);
        assert_eq!((dying.len(), dying.pending()), (2, 5));
        let taken = dying.take(3);
        assert_eq!(taken.references, vec![5, 6, 3]);
        assert_eq!(taken.changed, vec![(4, 0), (9, 0)]);
        assert_eq!((dying.chunk(4, 0), dying.chunk(9, 0)), (None, Some(&[1, 2][..])));
        assert_eq!((dying.len(), dying.pending()), (1, 2));
        assert_eq!(dying.iter().collect::<Vec<_>>(), vec![(9, vec![1, 2])]);
        dying.validate().unwrap();
        assert_eq!(dying.take(10).references, vec![1, 2]);
        assert_eq!((dying.len(), dying.pending()), (0, 0));
        assert!(dying.take(10).references.is_empty());
    }

    #[test]
    fn a_big_object_is_chunked_and_taken_from_its_last_chunk_down() {
        let mut dying = Dying::default();
        let references: Vec<ObjectId> = (1..=2 * FULL as u64 + 5).collect();
        assert_eq!(dying.insert(7, &references), 3);
        assert_eq!(
            dying.chunks().map(|(id, chunk, refs)| (id, chunk, refs.len())).collect::<Vec<_>>(),
            [(7, 0, FULL), (7, 1, FULL), (7, 2, 5)]
        );
        let taken = dying.take(10);
        assert_eq!(taken.changed, vec![(7, 1), (7, 2)], "the last chunk emptied, the one before it cut");
        assert_eq!(taken.references.len(), 10);
        assert_eq!(dying.chunk(7, 2), None);
        assert_eq!(dying.chunk(7, 1).unwrap().len(), FULL - 5);
        dying.validate().unwrap();
        assert_eq!(dying.iter().next().unwrap().1, references[..references.len() - 10].to_vec());
    }

    #[test]
    fn chunks_load_in_any_order_and_bad_layouts_are_found() {
        let mut dying = Dying::default();
        assert!(dying.load_chunk(3, 1, vec![9]));
        assert!(dying.validate().unwrap_err().contains("no chunk 0"));
        assert!(dying.load_chunk(3, 0, vec![8; FULL]));
        assert!(!dying.load_chunk(3, 0, vec![8]), "a chunk loads once");
        dying.validate().unwrap();
        assert_eq!(dying.pending(), FULL as u64 + 1);
        let mut short = Dying::default();
        short.load_chunk(3, 0, vec![8]);
        short.load_chunk(3, 1, vec![9]);
        assert!(short.validate().unwrap_err().contains("chunk 0 holds 1 references"));
    }

    #[test]
    fn references_round_trip_and_damage_is_refused() {
        let ids = vec![1, 7, u64::MAX / 2];
        assert_eq!(decode_references(&encode_references(&ids)).unwrap(), ids);
        assert!(decode_references(&[]).is_err(), "a chunk has references");
        assert!(decode_references(&[0; 9]).is_err(), "not whole ids");
        assert!(decode_references(&0u64.to_be_bytes()).is_err(), "id 0 is never used");
        let too_many = vec![1; (FULL + 1) * REFERENCE_BYTES];
        assert!(decode_references(&too_many).unwrap_err().contains("more than one chunk holds"));
    }
}
