//! One critical section of the greedy-locks workload (`greedy_locks.rs`), recorded: lock,
//! read the lock's counter and log, set the counter to what it read + 1 and append the
//! section's record (`checker::greedy::Record`), unlock, which commits both fenced with the
//! session's grant; or stop inside it when the client is to vanish. Also what a client's
//! threads share (`Client`) and what a thread does next (`Flow`).

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use heap_client::HeapClient;
use heap_client::HeapError;
use heap_client::Value;
use heap_testkit::Prng;
use tokio::sync::Notify;

use crate::checker::greedy::section_key;
use crate::checker::greedy::Record;
use crate::history::Op;
use crate::workload::objects::GreedyLock;
use crate::workload::objects::VALUE_FIELD;
use crate::workload::within;
use crate::workload::Context;
use crate::workload::OP_DEADLINE_MS;

/// A holder stays in its section this long at most between its reads and its writes, so that a
/// second holder, if the locks ever admitted one, would overlap it.
const SECTION_HOLD_MS_MAX: u64 = 10;

/// What one client's threads share.
pub(super) struct Client {
    pub(super) context: Arc<Context>,
    pub(super) heap: HeapClient,
    pub(super) worker: u64,
    /// The history process of this client's session.
    pub(super) process: u64,
    /// The client is ending: threads finish their section and stop.
    pub(super) retire: AtomicBool,
    /// The client is to vanish: the next thread about to unlock stops there instead.
    pub(super) vanish_wanted: AtomicBool,
    /// A thread stopped inside its section (set once), with `vanished_signal` notified.
    pub(super) vanished: AtomicBool,
    pub(super) vanished_signal: Notify,
}

impl Client {
    /// A client under a new process id.
    pub(super) fn new(context: &Arc<Context>, heap: HeapClient, worker: u64) -> Self {
        Self {
            context: Arc::clone(context),
            heap,
            worker,
            process: context.new_process(),
            retire: AtomicBool::new(false),
            vanish_wanted: AtomicBool::new(false),
            vanished: AtomicBool::new(false),
            vanished_signal: Notify::new(),
        }
    }

    pub(super) fn ending(&self) -> bool {
        self.context.stopped() || self.retire.load(Ordering::SeqCst) || self.vanished.load(Ordering::SeqCst)
    }

    pub(super) fn vanish(&self) {
        self.vanished.store(true, Ordering::SeqCst);
        self.vanished_signal.notify_one();
    }
}

/// What a thread does after a section.
pub(super) enum Flow {
    Next,
    /// An unknown outcome: the client may be broken, so it is closed and replaced.
    Retire,
    /// The thread stopped inside its section; the client vanishes.
    Vanished,
}

/// One critical section on `lock` (waiting for it up to `lock_wait_ms`), recorded: ok when
/// `unlock` returned Ok (committed), fail when nothing was committed for certain (not granted,
/// a stale fence refused the commit, the holder vanished before unlocking), info when the
/// commit's outcome is unknown.
pub(super) async fn section(
    client: &Client,
    thread: u64,
    lock: &GreedyLock,
    lock_wait_ms: u64,
    prng: &mut Prng,
) -> Flow {
    let history = &client.context.history;
    let section = client.context.unique() as u64;
    let worker = client.worker;
    let op = |locked_us, unlock_us, local, vanished| Op::GreedySection {
        section,
        worker,
        thread,
        locked_us,
        unlock_us,
        local,
        vanished,
    };
    let pending = history.invoke(client.process, &section_key(&lock.name), op(None, None, false, false));
    let local = match take(client, thread, lock, lock_wait_ms).await {
        Ok(local) => local,
        Err((why, flow)) => {
            history.fail(pending, format!("lock: {why}; nothing was changed"));
            return flow;
        }
    };
    let locked_us = Some(history.now_us());
    if let Some(why) = vanishes_inside(client, thread, lock, section, prng).await {
        history.refused(pending, op(locked_us, None, local, true), why);
        return Flow::Vanished;
    }
    let unlock_us = Some(history.now_us());
    match within(client.heap.unlock(thread, &lock.name)).await {
        Ok(Ok(())) => {
            history.ok(pending, op(locked_us, unlock_us, local, false));
            Flow::Next
        }
        // A stale fence: the session had lost the lock, and the commit was refused.
        Ok(Err(error @ HeapError::Conflict(_))) => {
            history.refused(pending, op(locked_us, unlock_us, local, false), error.to_string());
            Flow::Next
        }
        // Anything else may have come after the commit was applied (`Rejected` also covers
        // request errors after a re-send): unknown.
        Ok(Err(error)) => {
            history.info(pending, error.to_string());
            Flow::Retire
        }
        Err(_) => {
            history.info(pending, format!("no answer within {OP_DEADLINE_MS} ms"));
            Flow::Retire
        }
    }
}

/// Takes `lock` for `thread`: whether that sent no session request at all (the session held the
/// lock already), or why it was not taken and what the thread does next.
async fn take(client: &Client, thread: u64, lock: &GreedyLock, lock_wait_ms: u64) -> Result<bool, (String, Flow)> {
    let requests_before = client.heap.session_requests();
    let deadline = Duration::from_millis(lock_wait_ms + OP_DEADLINE_MS);
    match tokio::time::timeout(deadline, client.heap.lock(thread, &lock.name, false, Some(lock_wait_ms))).await {
        Ok(Ok(true)) => Ok(client.heap.session_requests() == requests_before),
        Ok(Ok(false)) => Err((format!("not granted within {lock_wait_ms} ms"), Flow::Next)),
        // The session may hold the lock on the cluster without the client knowing (an answer
        // lost): replace the client, whose session then gives it back.
        Ok(Err(error)) => Err((error.to_string(), Flow::Retire)),
        Err(_) => Err((format!("no answer within {} ms", deadline.as_millis()), Flow::Retire)),
    }
}

/// Inside the section, holding the lock: its changes, then, if the client is to vanish and no
/// other thread did yet, or a change failed, why the holder vanishes here instead of unlocking
/// (nothing it changed is sent).
async fn vanishes_inside(
    client: &Client,
    thread: u64,
    lock: &GreedyLock,
    section: u64,
    prng: &mut Prng,
) -> Option<String> {
    let changed = match within(change(client, thread, lock, section, prng)).await {
        Ok(changed) => changed,
        Err(_) => Err(format!("no answer within {OP_DEADLINE_MS} ms")),
    };
    if let Err(why) = changed {
        client.vanish();
        return Some(format!("{why}; the holder vanishes without unlocking, so nothing it changed is sent"));
    }
    let first_to_vanish = || client.vanished.compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst).is_ok();
    if client.vanish_wanted.load(Ordering::SeqCst) && first_to_vanish() {
        client.vanished_signal.notify_one();
        return Some("the holder vanished inside the section (its client dropped without unlock or close)".into());
    }
    None
}

/// Inside the section: reads the counter and the log, then records counter + 1 and the
/// section's record under the lock (sent with the unlock).
async fn change(client: &Client, thread: u64, lock: &GreedyLock, section: u64, prng: &mut Prng) -> Result<(), String> {
    let heap = &client.heap;
    let counter = match heap.get(thread, lock.counter, VALUE_FIELD).await {
        Ok(Value::Long(counter)) => counter,
        Ok(other) => return Err(format!("the counter holds {other:?}, not an integer")),
        Err(e) => return Err(format!("reading the counter: {e}")),
    };
    let length = heap.list_len(thread, lock.log).await.map_err(|e| format!("reading the log: {e}"))?;
    tokio::time::sleep(Duration::from_millis(prng.below(SECTION_HOLD_MS_MAX + 1))).await;
    let record =
        Record { section, worker: client.worker, process: client.process, thread, counter, length: u64::from(length) };
    heap.set(thread, lock.counter, VALUE_FIELD, Value::Long(counter + 1))
        .await
        .map_err(|e| format!("setting the counter: {e}"))?;
    heap.list_push(thread, lock.log, Value::String(record.element()))
        .await
        .map_err(|e| format!("appending to the log: {e}"))
}
