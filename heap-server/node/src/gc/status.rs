//! The `GcStatus` answer: the heap's object lifecycle figures at this node's applied index and
//! this node's collector figures (`stats.rs`) and whether it is paused (`trigger.rs`).

use openraft::async_runtime::WatchReceiver;
use proto::admin as pb;
use tonic::Status;

use crate::context::NodeContext;

pub fn gc_status(node: &NodeContext) -> Result<pb::GcStatusResponse, Status> {
    let (summary, applied_index) = node
        .store
        .read(|machine, applied| (machine.heap.gc_summary(), applied))
        .map_err(|error| Status::internal(format!("the state machine could not be read: {error}")))?;
    let figures = node.gc_stats.figures();
    Ok(pb::GcStatusResponse {
        leader_id: node.raft.metrics().borrow_watched().current_leader.unwrap_or(0),
        applied_index,
        objects: summary.objects,
        roots: summary.roots,
        unreferenced: summary.unreferenced,
        held_objects: summary.held_objects,
        holds: summary.holds,
        ended_holds: summary.ended_holds,
        cycles: figures.cycles,
        cycle_running: figures.cycle_running,
        last_cycle_ms: figures.last_cycle_ms,
        last_mark_ms: figures.last_mark_ms,
        live_objects: figures.live_objects,
        live_bytes: figures.live_bytes,
        last_cycle_garbage: figures.last_cycle_garbage,
        last_cycle_freed: figures.last_cycle_freed,
        freed_total: figures.freed_total,
        collect_steps: figures.collect_steps,
        longest_step_us: figures.longest_step_us,
        longest_step_cpu_us: figures.longest_step_cpu_us,
        last_step_us: figures.last_step_us,
        dying: summary.dying,
        decrements_pending: summary.decrements_pending,
        paused: node.gc_trigger.is_paused(),
    })
}
