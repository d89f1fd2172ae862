//! The gc workload: each worker, in its own session and under root names of its own, builds
//! small subgraphs (2-6 objects in a chain, sometimes closed into a cycle or with a shortcut,
//! sometimes with a lone object the session holds by creation), reads them, holds one object,
//! detaches it (unbinds the root or cuts a reference), waits up to 3 s (often past the
//! collector's 1 s grace), then re-attaches it under a new root and releases it, or only
//! releases it (it may then be collected), or closes the session first (its holds end). Each
//! round starts by reading one of the last few rounds' subgraphs again, seconds later, when
//! what was let go has had time to be collected and what was re-attached must still be there.
//! Every step goes in the history with the ids involved; the gc checker does the rest.

use std::collections::VecDeque;
use std::time::Duration;

use heap_client::tx::bind_root;
use heap_client::tx::create;
use heap_client::tx::id_target;
use heap_client::tx::new_target;
use heap_client::tx::set_field;
use heap_client::tx::transaction;
use heap_client::tx::unbind_root;
use heap_client::tx::value;
use proto::heap as pb;

use crate::history::Op;
use crate::history::Pending;
use crate::history_gc::GcEdge;
use crate::history_gc::GcObject;
use crate::history_gc::GcRoot;
use crate::history_gc::GcSeen;
use crate::workload::Answer;
use crate::workload::Worker;

/// Objects in one subgraph, linked in a chain from the root's object.
const LINKED_MIN: u64 = 2;
pub const LINKED_MAX: u64 = 6;
/// How many hops a gc read follows: more than any path in a subgraph, so a read reaches every
/// object of the subgraphs it starts in (and the checker can call a missing target dangling).
pub const GC_READ_DEPTH: u32 = 16;
const _: () = assert!(LINKED_MAX < GC_READ_DEPTH as u64);
/// Chances, in percent, that a subgraph closes its chain into a cycle, has a shortcut, and has
/// a lone object held by creation.
const CYCLE_PERCENT: u64 = 40;
const SHORTCUT_PERCENT: u64 = 30;
const UNLINKED_PERCENT: u64 = 30;
/// Chance that the detach cuts a reference rather than unbinding the root.
const CUT_PERCENT: u64 = 50;
/// The longest wait between detaching and re-attaching; the collector's grace is about 1 s.
pub const DETACH_WAIT_MS_MAX: u64 = 3_000;
/// After the wait, in percent: re-attach then release; release only; the rest closes the
/// session with the hold in place and tries to re-attach from a new one.
const REATTACH_PERCENT: u64 = 60;
const RELEASE_ONLY_PERCENT: u64 = 25;
const _: () = assert!(REATTACH_PERCENT + RELEASE_ONLY_PERCENT <= 100);
/// Chance that a round ends by closing the session (the next one opens a new one).
const CLOSE_PERCENT: u64 = 10;
/// Roots a worker keeps bound; past this the oldest is unbound, so the heap stays small while
/// some rooted objects are always there to check.
const KEPT_ROOTS_MAX: usize = 3;
/// Earlier rounds' subgraphs a worker may read again (one, drawn at random, per round).
const RECENT_ROUNDS_MAX: usize = 4;
const CLASS_NAME: &str = "chaos.GcNode";

/// One acknowledged build: ids by handle (the linked ones first).
struct Subgraph {
    ids: Vec<u64>,
    linked: usize,
}

/// What a round read last: its subgraph's ids and the roots that may name them.
struct Recent {
    roots: Vec<String>,
    ids: Vec<u64>,
}

pub async fn run(mut worker: Worker, gc_worker: usize) {
    let key = format!("gc:w{gc_worker}");
    let mut kept: VecDeque<String> = VecDeque::new();
    let mut recent: VecDeque<Recent> = VecDeque::new();
    while !worker.stopped() {
        if !recent.is_empty() {
            let again = &recent[worker.prng.below(recent.len() as u64) as usize];
            let (roots, ids) = (again.roots.clone(), again.ids.clone());
            read(&mut worker, &key, roots, ids).await;
        }
        if let Some(done) = round(&mut worker, &key, &mut kept).await {
            recent.push_back(done);
            if recent.len() > RECENT_ROUNDS_MAX {
                recent.pop_front();
            }
        }
        while kept.len() > KEPT_ROOTS_MAX {
            if let Some(root) = kept.pop_front() {
                // Refused or unknown: the root may stay bound; it is not tried again.
                unbind(&mut worker, &key, &root).await;
            }
        }
        if worker.prng.percent(CLOSE_PERCENT) {
            close(&mut worker, &key).await;
        }
        worker.think().await;
    }
    worker.finish().await;
}

/// Build, read, hold, detach, wait, then re-attach and release (or not), reading along the way.
/// Returns what to read again in a later round, once the subgraph was built.
async fn round(worker: &mut Worker, key: &str, kept: &mut VecDeque<String>) -> Option<Recent> {
    let root = format!("chaos-gc-{}", worker.context.unique());
    let graph = match build(worker, key, &root).await {
        Built::Yes(graph) => graph,
        Built::Maybe => {
            // Its root may be bound: unbind it with the others later.
            kept.push_back(root);
            return None;
        }
        Built::No => return None,
    };
    kept.push_back(root.clone());
    read(worker, key, vec![root.clone()], graph.ids.clone()).await;
    let held_index = worker.prng.between(1, graph.linked as u64 - 1) as usize;
    let held = graph.ids[held_index];
    if !hold(worker, key, held).await {
        return Some(Recent { roots: vec![root], ids: graph.ids });
    }
    if worker.prng.percent(CUT_PERCENT) {
        // Cutting a `next` before the held object detaches it (a shortcut or the cycle may still
        // reach it; the checker follows what the history says).
        let from = graph.ids[worker.prng.below(held_index as u64) as usize];
        cut(worker, key, from, "next").await;
    } else if unbind(worker, key, &root).await {
        kept.retain(|name| *name != root);
    }
    tokio::time::sleep(Duration::from_millis(worker.prng.below(DETACH_WAIT_MS_MAX + 1))).await;
    read(worker, key, vec![root.clone()], graph.ids.clone()).await;
    let mut roots = vec![root];
    let mut releases = vec![held];
    releases.extend(&graph.ids[graph.linked..]);
    let ending = Ending::draw(worker);
    if ending == Ending::CloseThenReattach {
        // The hold ends with the session: the object may be collected before the re-attach.
        close(worker, key).await;
    }
    if ending != Ending::ReleaseOnly {
        let again = format!("chaos-gc-{}", worker.context.unique());
        if bind(worker, key, &again, held).await {
            kept.push_back(again.clone());
            roots.push(again);
        }
    }
    release(worker, key, releases).await;
    read(worker, key, roots.clone(), graph.ids.clone()).await;
    Some(Recent { roots, ids: graph.ids })
}

/// How a round ends once the held object has been detached for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Re-attach it under a new root, then release it: it must survive.
    Reattach,
    /// Release it detached: it may be collected.
    ReleaseOnly,
    /// Close the session (the hold ends), then try to re-attach it from a new session.
    CloseThenReattach,
}

impl Ending {
    fn draw(worker: &mut Worker) -> Self {
        match worker.prng.below(100) {
            choice if choice < REATTACH_PERCENT => Ending::Reattach,
            choice if choice < REATTACH_PERCENT + RELEASE_ONLY_PERCENT => Ending::ReleaseOnly,
            _ => Ending::CloseThenReattach,
        }
    }
}

enum Built {
    Yes(Subgraph),
    Maybe,
    No,
}

/// The subgraph's references between handles: the chain, maybe a cycle and a shortcut.
fn shape(worker: &mut Worker, linked: u32) -> Vec<GcEdge> {
    let edge = |from: u32, field: &str, to: u32| GcEdge { from, field: field.to_string(), to };
    let mut edges: Vec<GcEdge> = (0..linked - 1).map(|i| edge(i, "next", i + 1)).collect();
    if worker.prng.percent(CYCLE_PERCENT) {
        edges.push(edge(linked - 1, "back", 0));
    }
    if worker.prng.percent(SHORTCUT_PERCENT) {
        let from = worker.prng.below(u64::from(linked)) as u32;
        let to = worker.prng.below(u64::from(linked)) as u32;
        edges.push(edge(from, "side", to));
    }
    edges
}

async fn build(worker: &mut Worker, key: &str, root: &str) -> Built {
    let linked = worker.prng.between(LINKED_MIN, LINKED_MAX) as u32;
    let unlinked = u32::from(worker.prng.percent(UNLINKED_PERCENT));
    let edges = shape(worker, linked);
    let mut ops: Vec<pb::Op> = (0..linked + unlinked).map(|h| create(h, CLASS_NAME, pb::ObjectKind::Fields)).collect();
    for e in &edges {
        ops.push(set_field(new_target(e.from), &e.field, value(pb::value::Kind::NewRef(e.to))));
    }
    ops.push(bind_root(root, new_target(0)));
    let op = Op::GcBuild { root: root.to_string(), linked, unlinked, edges: edges.clone(), created: None };
    let Some(pending) = invoke(worker, key, op).await else {
        return Built::No;
    };
    let command = pb::session_request::Command::Transaction(transaction(ops));
    match worker.request_with_response(command).await {
        Some((Answer::Committed, Some(response))) => {
            let Some(pb::session_response::Result::Committed(committed)) = response.result else {
                worker.history().info(pending, format!("committed without a commit: {response:?}"));
                return Built::Maybe;
            };
            let mut ids = vec![0; (linked + unlinked) as usize];
            for created in &committed.created {
                if let Some(slot) = ids.get_mut(created.handle as usize) {
                    *slot = created.id;
                }
            }
            if ids.contains(&0) {
                worker.history().info(pending, format!("committed without an id for every handle: {committed:?}"));
                return Built::Maybe;
            }
            let result = Op::GcBuild { root: root.to_string(), linked, unlinked, edges, created: Some(ids.clone()) };
            worker.history().ok(pending, result);
            Built::Yes(Subgraph { ids, linked: linked as usize })
        }
        Some((Answer::Refused { message, .. }, _)) => {
            worker.history().fail(pending, message);
            Built::No
        }
        other => {
            worker.history().info(pending, format!("{other:?}"));
            Built::Maybe
        }
    }
}

/// Invokes `op` in the worker's session (opened first, so the process id is the session's).
async fn invoke(worker: &mut Worker, key: &str, op: Op) -> Option<Pending> {
    worker.session().await?;
    Some(worker.history().invoke(worker.process, key, op))
}

/// A recorded linearizable read of `roots` and `ids` and everything they reach.
async fn read(worker: &mut Worker, key: &str, roots: Vec<String>, ids: Vec<u64>) {
    let op = Op::GcRead { roots: roots.clone(), ids: ids.clone(), depth: GC_READ_DEPTH, seen: None };
    let pending = worker.history().invoke(worker.process, key, op);
    let request =
        pb::ReadRequest { roots: roots.clone(), ids: ids.clone(), depth: GC_READ_DEPTH, ..Default::default() };
    match worker.read_graph(request).await {
        Ok(response) => {
            let seen = Some(seen_of(&response));
            worker.history().ok(pending, Op::GcRead { roots, ids, depth: GC_READ_DEPTH, seen });
        }
        // A read changes nothing: whatever went wrong, it observed nothing.
        Err(e) => worker.history().info(pending, e),
    }
}

/// What a read returned, as the history keeps it.
pub fn seen_of(response: &pb::ReadResponse) -> GcSeen {
    GcSeen {
        roots: response.roots.iter().map(|r| GcRoot { name: r.name.clone(), id: r.id }).collect(),
        missing_roots: response.missing_roots.clone(),
        objects: response.objects.iter().map(|o| GcObject { id: o.id, refs: references(o) }).collect(),
        missing_ids: response.missing_ids.clone(),
        truncated: response.truncated,
    }
}

/// Every object id `object`'s fields, entries and items reference.
fn references(object: &pb::Object) -> Vec<u64> {
    let values = object.entries.values().chain(&object.items);
    values
        .filter_map(|v| match v.kind {
            Some(pb::value::Kind::RefId(id)) => Some(id),
            _ => None,
        })
        .collect()
}

/// Holds `id`; true when the hold is in place (the cluster found the object).
async fn hold(worker: &mut Worker, key: &str, id: u64) -> bool {
    let Some(pending) = invoke(worker, key, Op::GcHold { ids: vec![id], missing: None }).await else {
        return false;
    };
    let command = pb::session_request::Command::Hold(pb::Hold { ids: vec![id] });
    match worker.request(command).await {
        Some(Answer::Held { missing }) => {
            let held = !missing.contains(&id);
            worker.history().ok(pending, Op::GcHold { ids: vec![id], missing: Some(missing) });
            held
        }
        Some(Answer::Refused { message, .. }) => {
            worker.history().fail(pending, message);
            false
        }
        other => {
            worker.history().info(pending, format!("{other:?}"));
            false
        }
    }
}

async fn release(worker: &mut Worker, key: &str, ids: Vec<u64>) {
    let Some(pending) = invoke(worker, key, Op::GcRelease { ids: ids.clone() }).await else {
        return;
    };
    let answer = worker.request(pb::session_request::Command::Release(pb::Release { ids })).await;
    record(worker, pending, answer, None);
}

/// Unbinds root `root`; true when that is acknowledged.
async fn unbind(worker: &mut Worker, key: &str, root: &str) -> bool {
    let Some(pending) = invoke(worker, key, Op::GcUnbind { root: root.to_string() }).await else {
        return false;
    };
    let tx = transaction(vec![unbind_root(root)]);
    let answer = worker.request(pb::session_request::Command::Transaction(tx)).await;
    let unbound = answer == Some(Answer::Committed);
    record(worker, pending, answer, None);
    unbound
}

/// Sets `from.field` to null.
async fn cut(worker: &mut Worker, key: &str, from: u64, field: &str) {
    let op = |unknown_object| Op::GcCut { from, field: field.to_string(), unknown_object };
    let Some(pending) = invoke(worker, key, op(false)).await else {
        return;
    };
    let null = value(pb::value::Kind::NullValue(true));
    let tx = transaction(vec![set_field(id_target(from), field, null)]);
    let answer = worker.request(pb::session_request::Command::Transaction(tx)).await;
    record(worker, pending, answer, Some(op(true)));
}

/// Binds root `root` to the existing object `id`; true unless refused.
async fn bind(worker: &mut Worker, key: &str, root: &str, id: u64) -> bool {
    let op = |unknown_object| Op::GcBind { root: root.to_string(), id, unknown_object };
    let Some(pending) = invoke(worker, key, op(false)).await else {
        return false;
    };
    let tx = transaction(vec![bind_root(root, id_target(id))]);
    let answer = worker.request(pb::session_request::Command::Transaction(tx)).await;
    let refused = matches!(answer, Some(Answer::Refused { .. }));
    record(worker, pending, answer, Some(op(true)));
    !refused
}

/// Closes the session, recorded (its holds end from the moment it is invoked).
async fn close(worker: &mut Worker, key: &str) {
    if !worker.has_session() {
        return;
    }
    let pending = worker.history().invoke(worker.process, key, Op::GcClose);
    match worker.close_session().await {
        Some(Ok(())) => worker.history().ok(pending, Op::GcClose),
        Some(Err(e)) => worker.history().info(pending, e),
        None => worker.history().info(pending, "no session"),
    }
}

/// Records a session request's answer; a refusal for an unknown object is recorded as
/// `unknown_object` (the op to record then), which the checker reads as "it does not exist".
fn record(worker: &Worker, pending: Pending, answer: Option<Answer>, unknown_object: Option<Op>) {
    let history = worker.history();
    match answer {
        Some(Answer::Committed) => {
            let op = pending.op().clone();
            history.ok(pending, op)
        }
        Some(refused @ Answer::Refused { .. }) => {
            let message = format!("{refused:?}");
            match unknown_object {
                Some(op) if refused.refused_because(pb::RejectionKind::UnknownObject) => {
                    history.refused(pending, op, message)
                }
                _ => history.fail(pending, message),
            }
        }
        Some(other) => history.info(pending, format!("{other:?}")),
        None => history.info(pending, "the session was lost while the run stopped"),
    }
}
