//! `async`: one client's critical sections (lock, read the counter, set it one higher, unlock) on
//! a lock set to the asynchronous commit level, where `unlock` returns once the changes are
//! queued. Each section is timed alone, and so is the whole run until the changes are durable: a
//! second client (another session) takes the lock, which makes the first drain its queue and give
//! the lock back, and reads the counter. Issue 12 asks for at least 50,000 sections a second over
//! that span; the run fails unless the second client reads every increment.

use std::time::Instant;

use anyhow::Context;
use heap_client::CommitLevel;
use heap_client::HeapClient;
use heap_client::ObjectKind;
use heap_client::Value;

use crate::locks::counter_of;
use crate::locks::increment;
use crate::locks::latency::CaseSamples;
use crate::locks::latency::Requests;
use crate::locks::lock;
use crate::locks::report::AsyncThroughput;
use crate::locks::report::CaseFigures;
use crate::locks::unlock;
use crate::locks::COUNTER_FIELD;
use crate::locks::LOCAL_WARMUP_OPS;
use crate::locks::THREAD;

const LOCK_NAME: &str = "locks/async";
const ROOT_NAME: &str = "locks/async";
/// Sections before the measured ones: the warm-up's and the one that drains its queue.
const UNMEASURED_SECTIONS: u64 = LOCAL_WARMUP_OPS + 1;

/// Times `sections` sections of `clients[0]` (after untimed warm-up ones), then the span from the
/// first of them until `clients[1]` has read the counter under the lock.
pub async fn measure(clients: [&HeapClient; 2], sections: u64) -> anyhow::Result<(CaseFigures, AsyncThroughput)> {
    let [writer, reader] = clients;
    writer.set_commit_level(LOCK_NAME, CommitLevel::Async).context("set the lock's commit level to async")?;
    let id = writer.root(THREAD, ROOT_NAME, ObjectKind::Fields).await.context("root of the counter")?;
    // The reader's connection is in place before the span starts, so the span ends with the
    // lock's hand-over and read, not with a connection set up.
    let reader_id = reader.root(THREAD, ROOT_NAME, ObjectKind::Fields).await.context("root of the counter")?;
    anyhow::ensure!(id == reader_id, "the two clients found different objects ({id}, {reader_id}) under one root");
    writer.set(THREAD, id, COUNTER_FIELD, Value::Long(0)).await.context("counter set to 0")?;
    // Warm-up; its first section takes the lock from the cluster, the session keeps it after.
    for _ in 0..LOCAL_WARMUP_OPS {
        increment(writer, LOCK_NAME, id).await?;
    }
    drain_queue(writer, id).await?;
    anyhow::ensure!(
        writer.greedy_locks_held() == 1,
        "the session holds {} locks greedily after the warm-up of {LOCK_NAME:?}, not 1: the client did not keep \
         the lock",
        writer.greedy_locks_held()
    );

    let before = Requests::of(&[writer]);
    let started = Instant::now();
    let mut samples = CaseSamples::with_capacity(sections);
    for section in 0..sections {
        samples
            .time(&[writer], increment(writer, LOCK_NAME, id))
            .await
            .with_context(|| format!("async section {section}"))?;
    }
    lock(reader, LOCK_NAME).await.context("the second client taking the lock (the first drains its queue first)")?;
    let read = reader.get(THREAD, id, COUNTER_FIELD).await.context("the second client reading the counter");
    let span_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let sent = Requests::of(&[writer]).since(before);
    unlock(reader, LOCK_NAME).await?;
    let final_counter = counter_of(read?)?;

    let expected_counter = UNMEASURED_SECTIONS + sections;
    anyhow::ensure!(
        u64::try_from(final_counter).ok() == Some(expected_counter),
        "a second session read the counter as {final_counter} after {expected_counter} sections that each added \
         one: asynchronous sections were lost or reordered (the lock given back before the queue drained, or a \
         batch committed in part)"
    );
    let figures = CaseFigures::new(
        "async",
        "lock + get counter + set counter + 1 + unlock at the async commit level (returns once queued)",
        samples,
    );
    Ok((figures, AsyncThroughput::new(sections, span_ns, sent, expected_counter, final_counter)))
}

/// One section at the majority level: its commit goes out after every queued asynchronous one (a
/// client's commits leave in the order they were made), so when its `unlock` returns the queue is
/// empty and the measured span sends none of the warm-up's changes.
async fn drain_queue(client: &HeapClient, id: u64) -> anyhow::Result<()> {
    client.set_commit_level(LOCK_NAME, CommitLevel::Majority).context("set the lock's commit level to majority")?;
    increment(client, LOCK_NAME, id).await.context("the section that drains the warm-up's queue")?;
    client.set_commit_level(LOCK_NAME, CommitLevel::Async).context("set the lock's commit level back to async")
}
