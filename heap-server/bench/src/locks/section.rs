//! `section` and `put`: one client setting a long field, under a lock its session holds (lock,
//! set, unlock: the unlock commits the change, fenced) and outside any lock (the set commits at
//! once). Both commit once; issue 12 asks that the section's p50 be at most 1.2 times the put's.
//! The two are interleaved op by op, so a change in the machine's other load hits both alike.

use anyhow::Context;
use heap_client::HeapClient;
use heap_client::ObjectKind;
use heap_client::Value;

use crate::locks::latency::CaseSamples;
use crate::locks::lock;
use crate::locks::report::CaseFigures;
use crate::locks::unlock;
use crate::locks::CLUSTER_WARMUP_OPS;
use crate::locks::THREAD;

const LOCK_NAME: &str = "locks/section";
const ROOT_NAME: &str = "locks/section";
const FIELD: &str = "value";

/// Times `ops` sections and as many puts, alternately, on one object.
pub async fn measure(client: &HeapClient, ops: u64) -> anyhow::Result<(CaseFigures, CaseFigures)> {
    let id = client.root(THREAD, ROOT_NAME, ObjectKind::Fields).await.context("root of the section's object")?;
    let mut value = 0;
    // Warm-up; its first section takes the lock from the cluster, the session keeps it after.
    for _ in 0..CLUSTER_WARMUP_OPS {
        value += 1;
        section(client, id, value).await?;
        value += 1;
        put(client, id, value).await?;
    }
    let (mut sections, mut puts) = (CaseSamples::with_capacity(ops), CaseSamples::with_capacity(ops));
    for _ in 0..ops {
        value += 1;
        sections.time(&[client], section(client, id, value)).await?;
        value += 1;
        puts.time(&[client], put(client, id, value)).await?;
    }
    let last = client.get(THREAD, id, FIELD).await.context("get after the last put")?;
    anyhow::ensure!(last == Value::Long(value), "the field is {last:?} after the last put, not {value}");
    Ok((
        CaseFigures::new("section", "lock + set of a long field + unlock (one commit)", sections),
        CaseFigures::new("put", "the same set outside any lock (one commit)", puts),
    ))
}

async fn section(client: &HeapClient, id: u64, value: i64) -> anyhow::Result<()> {
    lock(client, LOCK_NAME).await?;
    client.set(THREAD, id, FIELD, Value::Long(value)).await.context("set under the lock")?;
    unlock(client, LOCK_NAME).await
}

async fn put(client: &HeapClient, id: u64, value: i64) -> anyhow::Result<()> {
    client.set(THREAD, id, FIELD, Value::Long(value)).await.context("set outside any lock")
}
