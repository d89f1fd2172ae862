//! Turning garbage candidates into `Command::Collect` entries, proposed one at a time by the
//! leader: the unreferenced objects of the previous poll (the fast path), a cycle's sweep over
//! what its mark did not reach, and empty ones for the bounded work entries leave behind (holds
//! of ended sessions, references of freed objects still to be decremented). Each batch is
//! planned under the state machine's read lock (`Heap::plan_collect`) and proves itself when
//! applied, so a stale plan frees less, never more.

use std::collections::VecDeque;

use heap_machine as hm;
use heap_machine::Heap;
use heap_machine::ObjectId;
use heap_machine::COLLECTION_LENGTH_MAX;
use heap_machine::COLLECT_DECREMENTS_PER_STEP_MAX;
use heap_machine::DYING_REFERENCES_MAX;
use tonic::Status;

use crate::context::NodeContext;
use crate::gc::mark::Marked;
use crate::gc::pace::CollectPace;
use crate::proposer::Proposer;

/// Object ids the sweep reads per look at the state machine (about half a millisecond at 10
/// million objects); it yields to the runtime after each.
pub const SWEEP_IDS_PER_READ_MAX: usize = 16_384;
/// Most empty Collect entries per poll for left-over work: each drops up to 1,024 holds of
/// ended sessions and decrements up to 4,096 references of freed objects, so a poll drops
/// 262,144 holds and uncounts 1,048,576 references at most.
pub const PENDING_WORK_STEPS_PER_POLL_MAX: u32 = 256;
/// A batch is proposed only with at most this many decrements pending: the largest object it
/// can free (`COLLECTION_LENGTH_MAX` references) then still fits the state machine's
/// `DYING_REFERENCES_MAX`, which would otherwise make the entry keep the whole batch.
pub const PENDING_DECREMENTS_BEFORE_BATCH_MAX: u64 = DYING_REFERENCES_MAX - COLLECTION_LENGTH_MAX;
/// Empty entries that bring the largest backlog below `PENDING_DECREMENTS_BEFORE_BATCH_MAX`.
const DRAIN_STEPS_MAX: u64 = DYING_REFERENCES_MAX.div_ceil(COLLECT_DECREMENTS_PER_STEP_MAX);

/// What a run of Collect entries did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub steps: u64,
    pub freed: u64,
    pub kept: u64,
}

/// What a collector call is told while this node's collector is paused.
pub fn paused_status(node_id: u64) -> Status {
    Status::failed_precondition(format!(
        "the collector is paused on node {node_id} (the leader); resume it with `heapctl gc resume` (every node), \
         then try again"
    ))
}

fn unreadable(error: impl std::fmt::Display) -> Status {
    Status::internal(format!("the state machine could not be read: {error}; the node is stopping"))
}

/// Proposes one Collect and counts what it did; refuses while the collector is paused, which
/// ends the poll or cycle that asked (`gc::run` then waits for the resume).
async fn propose(node: &NodeContext, proposer: &Proposer, ids: Vec<ObjectId>, tally: &mut Tally) -> Result<(), Status> {
    let Some(_permit) = node.gc_trigger.collect_permit().await else {
        return Err(paused_status(node.id));
    };
    match proposer.propose_here(hm::Command::Collect { ids }).await? {
        hm::Reply::Collected { freed, kept, .. } => {
            tally.steps += 1;
            tally.freed += freed;
            tally.kept += kept;
            Ok(())
        }
        other => Err(Status::internal(format!("a Collect entry was answered with {other:?}; this is a bug"))),
    }
}

/// Proposes empty Collects (which only continue pending decrements) until at most `max`
/// decrements are pending.
async fn drain_decrements(node: &NodeContext, proposer: &Proposer, max: u64, tally: &mut Tally) -> Result<(), Status> {
    for _ in 0..DRAIN_STEPS_MAX {
        let pending = node.store.read(|machine, _| machine.heap.gc_summary().decrements_pending).map_err(unreadable)?;
        if pending <= max {
            break;
        }
        propose(node, proposer, Vec::new(), tally).await?;
    }
    Ok(())
}

/// Proposes batches until every seed was in one (or no longer exists), each within `pace`'s
/// bound, and tells `pace` what each took to apply here (the leader). `is_candidate` says which
/// objects a batch may grow into beyond its seeds.
pub async fn collect_seeds(
    node: &NodeContext,
    proposer: &Proposer,
    seeds: Vec<ObjectId>,
    pace: &mut CollectPace,
    is_candidate: impl Fn(&Heap, ObjectId) -> bool,
) -> Result<Tally, Status> {
    let mut tally = Tally::default();
    let mut remaining: VecDeque<ObjectId> = seeds.into();
    while !remaining.is_empty() {
        drain_decrements(node, proposer, PENDING_DECREMENTS_BEFORE_BATCH_MAX, &mut tally).await?;
        let objects_max = pace.objects_max();
        let take = remaining.len().min(objects_max as usize);
        let front: Vec<ObjectId> = remaining.drain(..take).collect();
        let plan = node
            .store
            .read(|machine, _| {
                machine.heap.plan_collect_within(&front, objects_max, |id| is_candidate(&machine.heap, id))
            })
            .map_err(unreadable)?;
        // Deferred seeds go first next time, where the first one always fits: progress.
        for id in plan.deferred.into_iter().rev() {
            remaining.push_front(id);
        }
        if plan.batch.is_empty() {
            // Seeds already gone: another read follows at once, so let other tasks run first.
            tokio::task::yield_now().await;
        } else {
            let batch_objects = plan.batch.len() as u64;
            propose(node, proposer, plan.batch, &mut tally).await?;
            // The answer comes from this node's apply, which recorded its time first.
            pace.observe(batch_objects, node.gc_stats.figures().last_step_us);
        }
    }
    Ok(tally)
}

/// Finishes what earlier entries left (holds of ended sessions to drop, references of freed
/// objects to decrement) with empty Collects, a bounded number per poll.
pub async fn finish_pending_work(node: &NodeContext, proposer: &Proposer) -> Result<Tally, Status> {
    let mut tally = Tally::default();
    for _ in 0..PENDING_WORK_STEPS_PER_POLL_MAX {
        let summary = node.store.read(|machine, _| machine.heap.gc_summary()).map_err(unreadable)?;
        if summary.ended_holds == 0 && summary.decrements_pending == 0 {
            break;
        }
        propose(node, proposer, Vec::new(), &mut tally).await?;
    }
    Ok(tally)
}

/// The sweep of a cycle: every object below the mark's id boundary that the mark did not reach
/// and that is referenced (unreferenced ones are the fast path's, after their grace) seeds a
/// batch that grows through other unreached objects. Returns the tally and how many such
/// objects there were.
pub async fn sweep(node: &NodeContext, proposer: &Proposer, marked: &Marked) -> Result<(Tally, u64), Status> {
    let unreached = |id: ObjectId| id < marked.id_boundary && !marked.live.contains(id);
    let mut tally = Tally::default();
    let mut garbage = 0;
    let mut cursor = 0;
    loop {
        let (ids, seeds) = node
            .store
            .read(|machine, _| {
                let ids = machine.heap.object_ids_after(cursor, SWEEP_IDS_PER_READ_MAX);
                let seeds: Vec<ObjectId> =
                    ids.iter().copied().filter(|id| unreached(*id) && !machine.heap.is_unreferenced(*id)).collect();
                (ids, seeds)
            })
            .map_err(unreadable)?;
        let Some(last) = ids.last() else { break };
        cursor = *last;
        garbage += seeds.len() as u64;
        // Reads that find no garbage never wait, so without this the sweep held its runtime
        // worker for the whole heap: 153 reads, ~0.5 s at 10 million objects, during which a
        // task parked in that worker's LIFO slot (Raft's core, a heartbeat) could not run and
        // the followers elected a new leader (four elections in one `heap-bench gc` run).
        tokio::task::yield_now().await;
        let done = collect_seeds(node, proposer, seeds, &mut CollectPace::full(), |_, id| unreached(id)).await?;
        tally.steps += done.steps;
        tally.freed += done.freed;
        tally.kept += done.kept;
    }
    Ok((tally, garbage))
}
