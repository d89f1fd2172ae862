//! The garbage collector, run by the leader (every node runs the task; only the leader acts).
//!
//! Two paths, both ending in `Command::Collect` entries that prove what they free when applied
//! (see `heap-machine`'s `gc_step.rs`), so nothing here has to be exact for the heap to stay
//! correct, and no entry's work is unbounded:
//! - the fast path, every `GC_POLL_INTERVAL_MS`: objects that were unreferenced and unheld at
//!   the previous poll (a grace of one interval, so a client that just read an object can hold
//!   it first) are freed with what only they referenced; holds of ended sessions are dropped
//!   and references of freed objects still pending are decremented (empty Collects).
//!   Reference counting alone frees everything but cycles.
//! - a cycle, every `--gc-cycle-interval-ms` or on `heapctl gc run`: a mark from the roots and
//!   held objects (`mark.rs`), the same grace, then a sweep proposing what it did not reach
//!   (`sweep.rs`): cycles, and garbage only cycles referenced.
//!
//! `heapctl gc pause` stops both on the node (`trigger.rs`): no Collect is proposed while it is
//! paused, not even by a cycle or poll already under way (`sweep.rs` checks before each entry),
//! and garbage waits; `heapctl gc resume` lets the next poll take it.

pub mod id_set;
pub mod mark;
pub mod pace;
pub mod stats;
pub mod status;
pub mod sweep;
pub mod trigger;

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use heap_machine::ObjectId;
use openraft::async_runtime::WatchReceiver;
use openraft::ServerState;
use tonic::Status;

use crate::context::NodeContext;
use crate::gc::pace::CollectPace;
use crate::gc::stats::CycleOutcome;
use crate::proposer::Proposer;

/// How often the leader looks for garbage; also the grace an unreferenced object gets before
/// it is freed.
pub const GC_POLL_INTERVAL_MS: u64 = 1_000;
/// How long `heapctl gc run` waits for its cycle (a cycle over 10 million objects takes tens
/// of seconds on two cores).
pub const GC_RUN_TIMEOUT_MS: u64 = 60_000;
/// How long `heapctl gc pause` waits for a Collect proposed before it to be answered (one
/// commit; longer only without a quorum, when the pause answers that the entry may still land).
pub const GC_PAUSE_DRAIN_TIMEOUT_MS: u64 = 5_000;
/// Most unreferenced objects the fast path takes per poll (128 Collect entries or more).
pub const UNREFERENCED_PER_POLL_MAX: usize = 131_072;

/// Whether this node leads now (only the leader's collector acts).
pub fn leads(node: &NodeContext) -> bool {
    node.raft.metrics().borrow_watched().state == ServerState::Leader
}

/// The fast path's state: the unreferenced objects seen at the last poll, and when; and the
/// size of its entries, paced by what they took to apply (`pace.rs`).
struct FastPath {
    seen: Vec<ObjectId>,
    seen_at: Instant,
    pace: CollectPace,
}

impl FastPath {
    fn new() -> Self {
        FastPath { seen: Vec::new(), seen_at: Instant::now(), pace: CollectPace::adaptive() }
    }

    /// Frees what was unreferenced a grace ago and still is, then looks again.
    async fn poll(&mut self, node: &NodeContext, proposer: &Proposer) -> Result<(), Status> {
        sweep::finish_pending_work(node, proposer).await?;
        if self.seen_at.elapsed() >= Duration::from_millis(GC_POLL_INTERVAL_MS) {
            let seen = std::mem::take(&mut self.seen);
            let seeds = read(node, |heap| seen.into_iter().filter(|id| heap.is_unreferenced(*id)).collect())?;
            // A child only its freed parent referenced goes in the same entry; shared ones wait.
            let only_parent_freed = |heap: &heap_machine::Heap, id| heap.reference_count(id) == 1;
            sweep::collect_seeds(node, proposer, seeds, &mut self.pace, only_parent_freed).await?;
            self.seen = read(node, |heap| heap.unreferenced_after(0, UNREFERENCED_PER_POLL_MAX))?;
            self.seen_at = Instant::now();
        }
        Ok(())
    }
}

fn read<R>(node: &NodeContext, read: impl FnOnce(&heap_machine::Heap) -> R) -> Result<R, Status> {
    node.store
        .read(|machine, _| read(&machine.heap))
        .map_err(|error| Status::internal(format!("the state machine could not be read: {error}")))
}

/// One cycle: mark (paced, also when an operator asked for it: a cycle never takes more than a
/// quarter of a core from the writes beside it), then sweep.
async fn cycle(node: &NodeContext, proposer: &Proposer) -> Result<CycleOutcome, Status> {
    let started = Instant::now();
    let marked = mark::mark(&node.store).await.map_err(|error| Status::internal(error.to_string()))?;
    // The grace, as on the fast path: an object detached just before or during the mark may have
    // been read by a client whose Hold is on its way; once it lands, Collect keeps the object.
    tokio::time::sleep(Duration::from_millis(GC_POLL_INTERVAL_MS)).await;
    let (tally, garbage) = sweep::sweep(node, proposer, &marked).await?;
    Ok(CycleOutcome {
        duration: started.elapsed(),
        mark: marked.duration,
        live_objects: marked.live_objects,
        live_bytes: marked.live_bytes,
        garbage,
        freed: tally.freed,
    })
}

/// Runs a cycle, records it, and answers the `heapctl gc run` requests it serves.
async fn run_cycle(node: &NodeContext, proposer: &Proposer) {
    let serves = node.gc_trigger.pending();
    node.gc_stats.cycle_started();
    match cycle(node, proposer).await {
        Ok(outcome) => {
            tracing::info!(
                duration_ms = outcome.duration.as_millis() as u64,
                mark_ms = outcome.mark.as_millis() as u64,
                live_objects = outcome.live_objects,
                garbage = outcome.garbage,
                freed = outcome.freed,
                "collection cycle done"
            );
            node.gc_stats.cycle_ended(Some(outcome));
            if let Some(request) = serves {
                node.gc_trigger.finished(request);
            }
        }
        Err(error) => {
            tracing::debug!(%error, "collection cycle cut short (leadership lost, or paused)");
            node.gc_stats.cycle_ended(None);
        }
    }
}

/// The collector's loop: acts while this node leads, until `stop` changes.
pub async fn run(
    node: Arc<NodeContext>,
    proposer: Arc<Proposer>,
    cycle_interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut fast_path = FastPath::new();
    // When this node started leading, or its last cycle started: the next is due an interval later.
    let mut last_cycle: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(Duration::from_millis(GC_POLL_INTERVAL_MS)) => {}
            () = node.gc_trigger.requested() => {}
        }
        if !leads(&node) {
            fast_path = FastPath::new();
            last_cycle = None;
            continue;
        }
        if node.gc_trigger.is_paused() {
            // What the last poll saw may be stale by resume time: its grace starts over then.
            fast_path = FastPath::new();
            continue;
        }
        let since = *last_cycle.get_or_insert_with(Instant::now);
        if let Err(error) = fast_path.poll(&node, &proposer).await {
            tracing::debug!(%error, "collector poll cut short (leadership lost, or paused)");
            fast_path = FastPath::new();
            continue;
        }
        if node.gc_trigger.pending().is_some() || since.elapsed() >= cycle_interval {
            last_cycle = Some(Instant::now());
            run_cycle(&node, &proposer).await;
        }
    }
}
