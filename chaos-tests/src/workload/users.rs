//! The user-session workload: each simulated user (two browser tabs, each its own session) takes
//! lock-protected read-modify-write steps on its own objects (a step counter and a step log) and,
//! every other step on average, on objects all users share, as a web application's session
//! handling would. Each step's counter and log entry commit together at the lock's release.

use crate::workload::counters::locked_increment;
use crate::workload::Worker;

/// Chance that a step also updates the shared objects, in percent.
const SHARED_STEP_PERCENT: u64 = 50;

pub async fn run(mut worker: Worker, user: usize) {
    let own = worker.context.objects.users[user].clone();
    let shared = worker.context.objects.shared.clone();
    while !worker.stopped() {
        let step = worker.context.unique();
        locked_increment(&mut worker, &own, Some(format!("u{user}-s{step}"))).await;
        if worker.prng.percent(SHARED_STEP_PERCENT) {
            locked_increment(&mut worker, &shared, Some(format!("u{user}-s{step}"))).await;
        }
        worker.think().await;
    }
    worker.finish().await;
}
