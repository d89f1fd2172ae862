//! `handover`: two clients (two sessions) taking turns on one lock, one critical section each
//! (lock, read the counter, set it one higher, unlock). Each `lock` recalls the lock from the
//! other session, which gives it back (its background releaser), so a section's latency is the
//! hand-over plus the section's read and commit. The run fails unless the counter ends at the
//! number of sections: no increment may be lost in a hand-over.

use anyhow::Context;
use heap_client::HeapClient;
use heap_client::ObjectKind;
use heap_client::Value;

use crate::locks::counter_of;
use crate::locks::increment;
use crate::locks::latency::CaseSamples;
use crate::locks::lock;
use crate::locks::report::CaseFigures;
use crate::locks::report::HandoverCheck;
use crate::locks::unlock;
use crate::locks::CLUSTER_WARMUP_OPS;
use crate::locks::COUNTER_FIELD;
use crate::locks::THREAD;

const LOCK_NAME: &str = "locks/handover";
const ROOT_NAME: &str = "locks/handover";

/// Times `sections` alternating sections of `clients` (after untimed warm-up ones) and checks
/// the counter. The loop is the ping-pong: each section starts once the other client's
/// `unlock` returned; what the idle client does meanwhile (follow the change stream, give the
/// lock back) runs in its background tasks, as it would in another process.
pub async fn measure(clients: [&HeapClient; 2], sections: u64) -> anyhow::Result<(CaseFigures, HandoverCheck)> {
    let id = clients[0].root(THREAD, ROOT_NAME, ObjectKind::Fields).await.context("root of the counter")?;
    let other_id = clients[1].root(THREAD, ROOT_NAME, ObjectKind::Fields).await.context("root of the counter")?;
    anyhow::ensure!(id == other_id, "the two clients found different objects ({id}, {other_id}) under one root");
    clients[0].set(THREAD, id, COUNTER_FIELD, Value::Long(0)).await.context("counter set to 0")?;
    // CLUSTER_WARMUP_OPS is even: the measured sections start with clients[0], taking the lock
    // from clients[1], which had the last warm-up section.
    for turn in 0..CLUSTER_WARMUP_OPS {
        increment(clients[(turn % 2) as usize], LOCK_NAME, id).await?;
    }
    let mut samples = CaseSamples::with_capacity(sections);
    for turn in 0..sections {
        let client = clients[(turn % 2) as usize];
        samples
            .time(&clients, increment(client, LOCK_NAME, id))
            .await
            .with_context(|| format!("hand-over section {turn}"))?;
    }
    let total_sections = CLUSTER_WARMUP_OPS + sections;
    let final_counter = read_counter(clients[0], id).await?;
    anyhow::ensure!(
        u64::try_from(final_counter).ok() == Some(total_sections),
        "the counter is {final_counter} after {total_sections} sections that each added one: increments were lost \
         in hand-overs of the greedy lock (a commit not fenced, or a grant before the previous holder's commit)"
    );
    let figures =
        CaseFigures::new("handover", "two clients alternate: lock, get counter, set counter + 1, unlock", samples);
    Ok((figures, HandoverCheck { sections: total_sections, final_counter }))
}

/// The counter as of the last grant: read under the lock.
async fn read_counter(client: &HeapClient, id: u64) -> anyhow::Result<i64> {
    lock(client, LOCK_NAME).await?;
    let counter = client.get(THREAD, id, COUNTER_FIELD).await.context("get the counter");
    unlock(client, LOCK_NAME).await?;
    counter_of(counter?)
}
