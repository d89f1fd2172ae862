//! The greedy-locks workload (issue 12): each worker is one `HeapClient` (one session) with 2-3
//! local threads (tasks with their own thread ids) doing critical sections (`greedy_section.rs`)
//! on a few shared greedy locks, each committed by its unlock fenced with the session's grant.
//! Sessions keep locks their threads released, so many sections take the lock locally; the
//! other workers' requests recall it.
//!
//! A client lives for a while (an "incarnation", one process id in the history), then closes,
//! or vanishes: one of its threads stops inside a section and the client is dropped without
//! unlocking or closing, as a holder SIGKILLed or cut off would be (the workers run in this
//! process, so that is how a client dies here). Its session keeps its locks until its lease
//! (10 s) ends; the others must go on after that, and the vanished section must never appear.
//! A client whose request ended in an unknown outcome is closed and replaced too.
//!
//! Every new leader renews every session's lease (so no session expires because of an
//! election), so while leaders change faster than a lease runs out, a vanished holder keeps its
//! locks. Once the run stops (the faults healed), each worker's last client takes every lock
//! once more, waiting up to a lease and an election's margin: a lock a vanished session kept
//! must come free at its lease end. The commit level is the synchronous one (no other exists
//! yet).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use heap_client::HeapClient;
use heap_client::SESSION_TTL_MS_DEFAULT;
use heap_testkit::Prng;
use tokio::task::JoinHandle;

use crate::workload::greedy_section::section;
use crate::workload::greedy_section::Client;
use crate::workload::greedy_section::Flow;
use crate::workload::within;
use crate::workload::Context;
use crate::workload::LOCK_WAIT_MS;
use crate::workload::OP_DEADLINE_MS;
use crate::workload::SESSION_CLOSE_TIMEOUT_MS;
use crate::workload::SESSION_OPEN_ATTEMPTS_MAX;
use crate::workload::SESSION_OPEN_BACKOFF_MS;
use crate::workload::THINK_MS_MAX;

/// Local threads of one client.
const THREADS_MIN: u64 = 2;
const THREADS_MAX: u64 = 3;
/// How long one client lives before it closes or vanishes: long enough for many local grants
/// and recalls, short enough for several new sessions per worker and minute.
const INCARNATION_MS_MIN: u64 = 5_000;
const INCARNATION_MS_MAX: u64 = 20_000;
/// Chance that a client ends by vanishing rather than closing, in percent: rare, because while
/// leaders keep changing, a vanished session's locks stay frozen (see above), and a run under
/// steady leader kills makes no progress on them after that.
const VANISH_PERCENT: u64 = 5;
/// Worker 0's first client vanishes after this long, so that every run of half a minute has a
/// holder that vanished and time after its lease for the others to take its locks over.
const FIRST_VANISH_MS: u64 = 3_000;
/// Chance that a section takes its worker's own lock (worker modulo locks) rather than any, in
/// percent: runs of local grants on a worker's own lock, recalled whenever another worker
/// wants it.
const OWN_LOCK_PERCENT: u64 = 60;
/// How long a client that is to vanish waits for one of its threads to be inside a section.
const VANISH_WAIT_MS: u64 = LOCK_WAIT_MS + OP_DEADLINE_MS;
/// How long a closing client waits for its threads to finish their sections (lock, changes and
/// unlock each have the operation deadline); threads still running then are aborted, and their
/// open sections stay indeterminate.
const THREAD_STOP_TIMEOUT_MS: u64 = 3 * OP_DEADLINE_MS;
/// How often a client's supervisor looks at its end conditions.
const SUPERVISOR_POLL_MS: u64 = 50;
/// How long a closing section waits for its lock: a vanished holder's lease (no election
/// renews it once the faults are healed), an election, and margin. The first wait fits in the
/// time a stopping worker is given (`run::WORKER_STOP_TIMEOUT_MS`); the later locks are free.
const CLOSING_LOCK_WAIT_MS: u64 = SESSION_TTL_MS_DEFAULT + 5_000;
const _: () = assert!(CLOSING_LOCK_WAIT_MS < crate::run::WORKER_STOP_TIMEOUT_MS);
/// PRNG streams of the workers and their threads (other workloads use 1_000 + index).
const PRNG_STREAM: u64 = 2_000_000;
const PRNG_STREAMS_PER_WORKER: u64 = 1_000_000;

/// A client's thread tasks, aborted if the supervisor is dropped (run.rs aborts a worker that
/// does not stop in time).
struct Threads(Vec<JoinHandle<()>>);

impl Threads {
    /// Kills every thread at once, as a process dies: what each was doing stays open.
    async fn kill(mut self) {
        for handle in &self.0 {
            handle.abort();
        }
        for handle in self.0.drain(..) {
            let _ = handle.await;
        }
    }

    /// Waits for the threads to stop, aborting those still running after `timeout_ms`.
    async fn join(mut self, timeout_ms: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms);
        for handle in self.0.drain(..) {
            let abort = handle.abort_handle();
            if tokio::time::timeout_at(deadline, handle).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}

/// Greedy-locks worker `worker` (worker `index` of the run, which picks the node it tries
/// first): one client after another until the run stops.
pub async fn run(context: Arc<Context>, index: usize, worker: usize) {
    let stream = PRNG_STREAM + worker as u64 * PRNG_STREAMS_PER_WORKER;
    let mut prng = Prng::derive(context.seed, stream);
    let mut incarnation = 0;
    while !context.stopped() {
        let Some(heap) = connect(&context, index).await else { continue };
        let first_vanish = worker == 0 && incarnation == 0;
        let vanishes = prng.percent(VANISH_PERCENT) || first_vanish;
        let lifetime_ms = prng.between(INCARNATION_MS_MIN, INCARNATION_MS_MAX);
        let lifetime_ms = if first_vanish { FIRST_VANISH_MS } else { lifetime_ms };
        let first_thread_stream = stream + 1 + incarnation * THREADS_MAX;
        let life = Life { worker: worker as u64, vanishes, lifetime_ms, first_thread_stream };
        live(&context, heap, life, &mut prng).await;
        incarnation += 1;
    }
    close_out(&context, index, worker as u64).await;
}

/// After the run stopped: a last client takes every lock once (its worker's own first), then
/// closes.
async fn close_out(context: &Arc<Context>, index: usize, worker: u64) {
    let Ok(Ok(heap)) = within(HeapClient::connect(&endpoints_from(context, index), &context.security)).await else {
        return;
    };
    let client = Client::new(context, heap, worker);
    let locks = &context.objects.greedy;
    let mut prng = Prng::derive(context.seed, PRNG_STREAM - 1 - worker);
    for offset in 0..locks.len() {
        let lock = &locks[(worker as usize + offset) % locks.len()];
        match section(&client, 1, lock, CLOSING_LOCK_WAIT_MS, &mut prng).await {
            Flow::Next => {}
            Flow::Retire => break,
            // Dropped as it is, as the section's record says (nothing it changed is sent).
            Flow::Vanished => return,
        }
    }
    let _ = tokio::time::timeout(Duration::from_millis(SESSION_CLOSE_TIMEOUT_MS), client.heap.close()).await;
}

/// The current addresses, node `index % count` first.
fn endpoints_from(context: &Context, index: usize) -> String {
    let (mut endpoints, _) = context.endpoints.current();
    let count = endpoints.len().max(1);
    endpoints.rotate_left(index % count);
    endpoints.join(",")
}

/// How one client of a worker is to live.
struct Life {
    worker: u64,
    /// Whether it ends by vanishing (else by closing).
    vanishes: bool,
    lifetime_ms: u64,
    /// The PRNG stream of its thread 1 (thread t uses the one t - 1 after it).
    first_thread_stream: u64,
}

/// A client for the current addresses that tries node `index % count` first; None once the run
/// stops or no session opens in time.
async fn connect(context: &Context, index: usize) -> Option<HeapClient> {
    for _ in 0..SESSION_OPEN_ATTEMPTS_MAX {
        if context.stopped() {
            return None;
        }
        if let Ok(Ok(heap)) = within(HeapClient::connect(&endpoints_from(context, index), &context.security)).await {
            return Some(heap);
        }
        tokio::time::sleep(Duration::from_millis(SESSION_OPEN_BACKOFF_MS)).await;
    }
    None
}

/// One client's life: its threads run sections until its lifetime passes, a thread retires it
/// (an unknown outcome) or vanishes, or the run stops; then it vanishes or closes.
async fn live(context: &Arc<Context>, heap: HeapClient, life: Life, prng: &mut Prng) {
    let client = Arc::new(Client::new(context, heap, life.worker));
    let thread_count = prng.between(THREADS_MIN, THREADS_MAX);
    let threads = Threads(
        (1..=thread_count)
            .map(|thread| {
                let thread_prng = Prng::derive(context.seed, life.first_thread_stream + thread - 1);
                tokio::spawn(run_thread(Arc::clone(&client), thread, thread_prng))
            })
            .collect(),
    );
    let deadline = Instant::now() + Duration::from_millis(life.lifetime_ms);
    while Instant::now() < deadline && !client.ending() {
        tokio::time::sleep(Duration::from_millis(SUPERVISOR_POLL_MS)).await;
    }
    let retired = context.stopped() || client.retire.load(Ordering::SeqCst);
    if client.vanished.load(Ordering::SeqCst) || (life.vanishes && !retired) {
        vanish(client, threads).await;
    } else {
        client.retire.store(true, Ordering::SeqCst);
        threads.join(THREAD_STOP_TIMEOUT_MS).await;
        let _ = tokio::time::timeout(Duration::from_millis(SESSION_CLOSE_TIMEOUT_MS), client.heap.close()).await;
    }
}

/// The client vanishes: once a thread stopped inside a section (or the run stops, or no thread
/// got into one in time), every thread is killed and the client dropped without unlocking or
/// closing; its session stops being kept alive and keeps its locks until its lease ends.
async fn vanish(client: Arc<Client>, threads: Threads) {
    client.vanish_wanted.store(true, Ordering::SeqCst);
    let stopped = async {
        while !client.context.stopped() {
            tokio::time::sleep(Duration::from_millis(SUPERVISOR_POLL_MS)).await;
        }
    };
    let inside_a_section = async {
        tokio::select! {
            _ = client.vanished_signal.notified() => {}
            _ = stopped => {}
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(VANISH_WAIT_MS), inside_a_section).await;
    threads.kill().await;
    // The last reference.
    drop(client);
}

async fn run_thread(client: Arc<Client>, thread: u64, mut prng: Prng) {
    let locks = &client.context.objects.greedy;
    while !client.ending() {
        let lock = if prng.percent(OWN_LOCK_PERCENT) {
            &locks[client.worker as usize % locks.len()]
        } else {
            prng.pick(locks)
        };
        match section(&client, thread, lock, LOCK_WAIT_MS, &mut prng).await {
            Flow::Next => {}
            Flow::Retire => {
                client.retire.store(true, Ordering::SeqCst);
                return;
            }
            // It never unlocks: the lock stays with its session until the lease ends.
            Flow::Vanished => return,
        }
        tokio::time::sleep(Duration::from_millis(prng.below(THINK_MS_MAX + 1))).await;
    }
}
