//! The garbage `collect-steps` frees, one kind at a time on top of the live population, each
//! batched as the leader's collector batches it (`Heap::plan_collect` within the entry bounds):
//! - abandoned lists: rooted lists of small items whose roots are unbound (the fast path: an
//!   unreferenced list with what only it references);
//! - garbage cycles: pairs referencing each other that nothing else reaches (a cycle's sweep);
//! - long lists: lists of `COLLECTION_LENGTH_MAX` items, freed alone, whose references are
//!   decremented over the following entries (the dying set);
//! - ended session holds: objects a session created and never attached, whose holds end with
//!   the session and are dropped a bounded number per entry.
//!
//! After each, the object count must be back to the live population's: a shape that leaves
//! garbage or frees a live object fails the benchmark instead of reporting a time.

use std::collections::{BTreeSet, VecDeque};

use heap_machine::{
    Caller, Command, Heap, ObjectId, ObjectKind, Op, Reply, SessionCommand, SessionRequest, Target, Value,
    COLLECTION_LENGTH_MAX, COLLECT_OBJECTS_PER_STEP_MAX,
};
use serde::Serialize;

use super::population::{transaction, Population};
use super::timing::Percentiles;
use crate::lifecycle::population::CYCLE_CLASS;
use crate::limits::ITEMS_PER_TRANSACTION_DEFAULT;

/// How much garbage of each kind a run frees.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Abandoned lists of `ITEMS_PER_TRANSACTION_DEFAULT` items each.
    pub abandoned_lists: usize,
    /// Garbage cycles (two objects each), a multiple of `CYCLES_PER_TRANSACTION`.
    pub garbage_cycles: usize,
    /// Long lists, of `long_list_length` items each.
    pub long_lists: usize,
    pub long_list_length: usize,
    /// Objects a session creates unattached and leaves held when it ends.
    pub held_objects: usize,
}

impl Sizes {
    /// The benchmark's: 200,000 objects of each kind, lists as long as a list may be.
    pub const BENCH: Sizes = Sizes {
        abandoned_lists: 200,
        garbage_cycles: 100_000,
        long_lists: 2,
        long_list_length: COLLECTION_LENGTH_MAX as usize,
        held_objects: 200_000,
    };
}

/// Cycles created per setup transaction (four ops each).
const CYCLES_PER_TRANSACTION: usize = 1_000;
/// Unreferenced objects the fast path reads per poll, as the node's collector does.
const UNREFERENCED_PER_POLL_MAX: usize = 131_072;
/// Most Collect entries one shape may take before the benchmark gives up (a shape that stops
/// making progress must not loop for ever).
const ENTRIES_PER_SHAPE_MAX: u64 = 1_000_000;
/// Consecutive entries that free nothing and leave no less work before the benchmark gives up.
const ENTRIES_WITHOUT_PROGRESS_MAX: u64 = 1_000;
/// The session the held-objects shape opens: its lease outlasts the benchmark (time advances
/// one millisecond per entry and no Tick is applied).
const SESSION_TTL_MS: u64 = 300_000;
const SESSION_OWNER: &str = "collect-steps";

/// What freeing one kind of garbage cost.
#[derive(Debug, Clone, Serialize)]
pub struct ShapeFigures {
    pub shape: &'static str,
    pub garbage_objects: u64,
    pub collect_entries: u64,
    pub freed: u64,
    pub apply_wall: Percentiles,
    pub apply_cpu: Percentiles,
    pub total_apply_ms: u64,
}

impl ShapeFigures {
    pub fn summary_line(&self) -> String {
        format!(
            "{}: {} garbage objects freed in {} Collect entries ({} ms applying); apply wall p50/p99/max {}/{}/{} us, \
             thread CPU p50/p99/max {}/{}/{} us",
            self.shape,
            self.freed,
            self.collect_entries,
            self.total_apply_ms,
            self.apply_wall.p50_us,
            self.apply_wall.p99_us,
            self.apply_wall.max_us,
            self.apply_cpu.p50_us,
            self.apply_cpu.p99_us,
            self.apply_cpu.max_us,
        )
    }
}

/// Measures every shape in turn.
pub fn measure_all(population: &mut Population, sizes: Sizes) -> anyhow::Result<Vec<ShapeFigures>> {
    Ok(vec![
        abandoned_lists(population, sizes.abandoned_lists)?,
        garbage_cycles(population, sizes.garbage_cycles)?,
        long_lists(population, sizes.long_lists, sizes.long_list_length)?,
        ended_holds(population, sizes.held_objects)?,
    ])
}

fn abandoned_lists(population: &mut Population, lists: usize) -> anyhow::Result<ShapeFigures> {
    let live = population.live_objects();
    let mut unbinds = Vec::with_capacity(lists);
    for list in 0..lists {
        let root = format!("abandoned/{list}");
        population.rooted_list(&root, ITEMS_PER_TRANSACTION_DEFAULT)?;
        unbinds.push(Op::UnbindRoot { name: root });
    }
    population.commit(transaction(unbinds))?;
    drain(population, "abandoned lists", live, fast_path)
}

fn garbage_cycles(population: &mut Population, cycles: usize) -> anyhow::Result<ShapeFigures> {
    let live = population.live_objects();
    let mut ids = Vec::with_capacity(2 * cycles);
    for _ in 0..cycles / CYCLES_PER_TRANSACTION {
        ids.extend(population.commit(transaction(cycle_ops(CYCLES_PER_TRANSACTION)))?);
    }
    let candidates: BTreeSet<ObjectId> = ids.iter().copied().collect();
    let mut remaining: VecDeque<ObjectId> = ids.into();
    let sweep = |heap: &Heap| {
        let take = remaining.len().min(COLLECT_OBJECTS_PER_STEP_MAX as usize);
        let front: Vec<ObjectId> = remaining.drain(..take).collect();
        let plan = heap.plan_collect(&front, |id| candidates.contains(&id));
        for id in plan.deferred.into_iter().rev() {
            remaining.push_front(id);
        }
        plan.batch
    };
    drain(population, "garbage cycles", live, sweep)
}

/// The ops of `cycles` pairs of objects referencing each other, unrooted.
fn cycle_ops(cycles: usize) -> Vec<Op> {
    let mut ops = Vec::with_capacity(4 * cycles);
    for pair in 0..cycles as u32 {
        let (a, b) = (2 * pair, 2 * pair + 1);
        let next =
            |from, to| Op::SetField { target: Target::New(from), field: "next".into(), value: Value::NewRef(to) };
        ops.push(Op::Create { handle: a, class: CYCLE_CLASS.into(), kind: ObjectKind::Fields });
        ops.push(Op::Create { handle: b, class: CYCLE_CLASS.into(), kind: ObjectKind::Fields });
        ops.push(next(a, b));
        ops.push(next(b, a));
    }
    ops
}

fn long_lists(population: &mut Population, lists: usize, length: usize) -> anyhow::Result<ShapeFigures> {
    let live = population.live_objects();
    let mut unbinds = Vec::with_capacity(lists);
    for list in 0..lists {
        let root = format!("long/{list}");
        let list_id = population.rooted_list(&root, 0)?[0];
        let mut items = 0;
        while items < length {
            let chunk = ITEMS_PER_TRANSACTION_DEFAULT.min(length - items);
            population.append_items(list_id, chunk)?;
            items += chunk;
        }
        unbinds.push(Op::UnbindRoot { name: root });
    }
    population.commit(transaction(unbinds))?;
    drain(population, "long lists", live, fast_path)
}

fn ended_holds(population: &mut Population, held_objects: usize) -> anyhow::Result<ShapeFigures> {
    let live = population.live_objects();
    let session_id = open_session(population)?;
    let mut sequence = 0;
    let mut created = 0;
    while created < held_objects {
        let chunk = ITEMS_PER_TRANSACTION_DEFAULT.min(held_objects - created);
        let ops = (0..chunk as u32)
            .map(|handle| Op::Create { handle, class: CYCLE_CLASS.into(), kind: ObjectKind::Fields })
            .collect();
        sequence += 1;
        let request = session_request(
            session_id,
            sequence,
            SessionCommand::Transaction(heap_machine::Transaction { expect: Vec::new(), fences: Vec::new(), ops }),
        );
        population.commit(request)?;
        created += chunk;
    }
    let held = population.heap().gc_summary().held_objects;
    anyhow::ensure!(
        held >= held_objects as u64,
        "{held} objects held after a session created {held_objects} unattached"
    );
    match population.apply(session_request(session_id, sequence + 1, SessionCommand::Close)).0 {
        Reply::Done => {}
        other => anyhow::bail!("closing the session: {other:?}"),
    }
    drain(population, "ended session holds", live, fast_path)
}

fn open_session(population: &mut Population) -> anyhow::Result<u64> {
    let open =
        Command::OpenSession { client: SESSION_OWNER.into(), ttl_ms: SESSION_TTL_MS, owner: SESSION_OWNER.into() };
    match population.apply(open).0 {
        Reply::SessionOpened { session_id, .. } => Ok(session_id),
        other => anyhow::bail!("opening a session: {other:?}"),
    }
}

fn session_request(session_id: u64, sequence: u64, command: SessionCommand) -> Command {
    Command::Session(SessionRequest {
        session_id,
        caller: Caller { name: SESSION_OWNER.into(), admin: false },
        sequence,
        acknowledged_below: sequence,
        command,
    })
}

/// The fast path's next batch: unreferenced objects with what only they reference.
fn fast_path(heap: &Heap) -> Vec<ObjectId> {
    let seeds = heap.unreferenced_after(0, UNREFERENCED_PER_POLL_MAX);
    heap.plan_collect(&seeds, |id| heap.reference_count(id) == 1).batch
}

/// Applies Collect entries with the batches `next_batch` plans (empty ones while holds of ended
/// sessions or dying references are left) until nothing is left, timing each apply; then checks
/// that exactly the live population is left.
fn drain(
    population: &mut Population,
    shape: &'static str,
    live: u64,
    mut next_batch: impl FnMut(&Heap) -> Vec<ObjectId>,
) -> anyhow::Result<ShapeFigures> {
    let garbage_objects = population.live_objects() - live;
    let (mut walls, mut cpus, mut freed, mut idle) = (Vec::new(), Vec::new(), 0u64, 0u64);
    loop {
        let batch = next_batch(population.heap());
        let before = population.heap().gc_summary();
        if batch.is_empty() && before.ended_holds == 0 && before.decrements_pending == 0 {
            break;
        }
        let (reply, wall_us, cpu_us) = population.apply(Command::Collect { ids: batch });
        let Reply::Collected { freed: freed_now, .. } = reply else {
            anyhow::bail!("{shape}: a Collect was not applied: {reply:?}");
        };
        walls.push(wall_us);
        cpus.push(cpu_us);
        freed += freed_now;
        let after = population.heap().gc_summary();
        let progress = freed_now > 0
            || after.ended_holds < before.ended_holds
            || after.decrements_pending < before.decrements_pending;
        idle = if progress { 0 } else { idle + 1 };
        anyhow::ensure!(
            idle < ENTRIES_WITHOUT_PROGRESS_MAX,
            "{shape}: {idle} Collect entries in a row changed nothing"
        );
        anyhow::ensure!(
            (walls.len() as u64) < ENTRIES_PER_SHAPE_MAX,
            "{shape}: more than {ENTRIES_PER_SHAPE_MAX} Collect entries"
        );
    }
    let left = population.live_objects();
    anyhow::ensure!(left == live, "{shape}: {left} objects left after collection, the live population is {live}");
    anyhow::ensure!(freed == garbage_objects, "{shape}: {freed} freed of {garbage_objects} garbage objects");
    Ok(ShapeFigures {
        shape,
        garbage_objects,
        collect_entries: walls.len() as u64,
        freed,
        total_apply_ms: walls.iter().sum::<u64>() / 1_000,
        apply_wall: Percentiles::of(walls),
        apply_cpu: Percentiles::of(cpus),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use heap_machine::{COLLECT_DECREMENTS_PER_STEP_MAX, ENDED_HOLDS_DROPPED_PER_STEP_MAX};

    use super::*;

    #[test]
    fn every_shape_frees_all_its_garbage_and_nothing_live() {
        let sizes = Sizes {
            abandoned_lists: 3,
            garbage_cycles: 2 * CYCLES_PER_TRANSACTION,
            long_lists: 1,
            long_list_length: 3 * COLLECT_DECREMENTS_PER_STEP_MAX as usize,
            held_objects: 3 * ENDED_HOLDS_DROPPED_PER_STEP_MAX as usize,
        };
        let mut population = Population::build(5_000).unwrap();
        let live = population.live_objects();
        let shapes = measure_all(&mut population, sizes).unwrap();
        let freed: Vec<u64> = shapes.iter().map(|shape| shape.freed).collect();
        assert_eq!(freed, [3 * 1_001, 4_000, 1 + 3 * 4_096, 3 * 1_024], "{shapes:?}");
        assert_eq!(population.live_objects(), live, "the live population survives every shape");
        let long = &shapes[2];
        assert!(long.collect_entries >= 3, "a long list's decrements take one entry per budget: {long:?}");
        let holds = &shapes[3];
        assert!(holds.collect_entries >= 3, "ended holds are dropped a bounded number per entry: {holds:?}");
    }
}
