//! The lock workload: acquire a write lock, append `<token>:begin` and later `<token>:end` to the
//! lock's fence log with the grant's fencing token, release. Acquire and release times and tokens
//! go in the history; the fence log is the lock's own record of who wrote while holding it.

use std::time::Duration;

use heap_client::tx::id_target;
use heap_client::tx::list_push;
use heap_client::tx::transaction;
use proto::heap as pb;

use crate::history::Op;
use crate::workload::counters::acquire;
use crate::workload::counters::release;
use crate::workload::objects::fence_log_key;
use crate::workload::objects::Guarded;
use crate::workload::string;
use crate::workload::Answer;
use crate::workload::Worker;

/// How long a holder stays in its critical section between its two fenced writes, at most.
const CRITICAL_SECTION_MS_MAX: u64 = 50;

pub async fn run(mut worker: Worker) {
    let logs = worker.context.objects.fence_logs.clone();
    while !worker.stopped() {
        let index = worker.prng.below(logs.len() as u64) as usize;
        hold(&mut worker, index, logs[index]).await;
        worker.think().await;
    }
    worker.finish().await;
}

async fn hold(worker: &mut Worker, index: usize, log: u64) {
    // The lock is named like its log; it guards no counter.
    let guarded = Guarded { name: format!("fence-{index}"), counter: 0, list: None };
    let Some(token) = acquire(worker, &guarded).await else {
        return;
    };
    if fenced_append(worker, &guarded, index, log, token, "begin").await {
        let pause = worker.prng.below(CRITICAL_SECTION_MS_MAX + 1);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        fenced_append(worker, &guarded, index, log, token, "end").await;
    }
    // An abandoned session is being closed, which releases the lock; otherwise release it (a
    // lock lost meanwhile answers "not holder", recorded as a failed release).
    if worker.has_session() {
        release(worker, &guarded, token, None).await;
    }
}

/// Appends `<token>:<phase>` to the fence log with the token as fence; false when the lock is no
/// longer ours or the outcome is unknown.
async fn fenced_append(
    worker: &mut Worker,
    guarded: &Guarded,
    index: usize,
    log: u64,
    token: u64,
    phase: &str,
) -> bool {
    let element = format!("{token}:{phase}");
    let mut tx = transaction(vec![list_push(id_target(log), string(&element))]);
    tx.fences = vec![pb::Fence { lock: guarded.lock_name().to_string(), token }];
    let pending =
        worker.history().invoke(worker.process, &fence_log_key(index), Op::Append { element: element.clone() });
    match worker.request(pb::session_request::Command::Transaction(tx)).await {
        Some(Answer::Committed) => {
            worker.history().ok(pending, Op::Append { element });
            true
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
