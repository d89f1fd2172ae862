//! The mark of a collection cycle: everything reachable from the roots and the held objects,
//! read from this node's applied state in chunks of `MARK_OBJECTS_PER_READ_MAX` objects, each
//! under the state machine's read lock, so applying entries waits at most one chunk.
//!
//! The heap changes between chunks, so the mark is not a consistent snapshot: it may miss an
//! object moved during the mark (found unreachable although it is live) or count one that died
//! meanwhile. Neither matters for safety: `Command::Collect` frees only what it proves
//! unreachable from the counts at its own log index. A missed object is proposed and kept; a
//! dead one counted live is found by the next cycle.

use std::time::Duration;
use std::time::Instant;

use heap_machine::ObjectId;

use crate::context::HeapStore;
use crate::gc::id_set::IdSet;

/// Objects visited per read of the state machine: about two milliseconds of work, which is as
/// long as an apply (a write) may wait for the mark. At 10,000 a busy collector cost writes at 64
/// clients a third of their throughput.
pub const MARK_OBJECTS_PER_READ_MAX: usize = 2_500;
/// A mark rests this many times as long as each read took, so a cycle takes at most a quarter of
/// one core from the requests it runs beside.
pub const MARK_REST_PER_WORK: u32 = 3;

/// What a mark found.
pub struct Marked {
    pub live: IdSet,
    /// Live objects that existed when visited, and their encoded bytes.
    pub live_objects: u64,
    pub live_bytes: u64,
    /// Ids at or above this did not exist when the mark started: the sweep leaves them to the
    /// next cycle, as they may be linked from objects the mark already passed.
    pub id_boundary: ObjectId,
    pub duration: Duration,
}

/// The state machine is unreadable (a poisoned lock: the node is stopping).
#[derive(Debug, thiserror::Error)]
#[error("the state machine could not be read: {0}; the node is stopping")]
pub struct MarkError(String);

/// Marks from the roots and holds of `store`'s applied state, resting between reads.
pub async fn mark(store: &HeapStore) -> Result<Marked, MarkError> {
    let started = Instant::now();
    let (mut stack, id_boundary) = store
        .read(|machine, _| (machine.heap.mark_starts(), machine.heap.next_id()))
        .map_err(|error| MarkError(error.to_string()))?;
    let mut live = IdSet::default();
    let mut live_objects = 0;
    let mut live_bytes = 0;
    while !stack.is_empty() {
        let read_started = Instant::now();
        store
            .read(|machine, _| {
                for _ in 0..MARK_OBJECTS_PER_READ_MAX {
                    let Some(id) = stack.pop() else { break };
                    if !live.insert(id) {
                        continue;
                    }
                    let Some(references) = machine.heap.references_of(id) else { continue };
                    live_objects += 1;
                    live_bytes += machine.heap.encoded_size_of(id).unwrap_or(0);
                    stack.extend(references.into_iter().filter(|to| !live.contains(*to)));
                }
            })
            .map_err(|error| MarkError(error.to_string()))?;
        tokio::time::sleep(read_started.elapsed() * MARK_REST_PER_WORK).await;
    }
    Ok(Marked { live, live_objects, live_bytes, id_boundary, duration: started.elapsed() })
}
