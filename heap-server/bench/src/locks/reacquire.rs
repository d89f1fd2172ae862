//! `reacquire`: one client, one thread, taking and releasing a lock its session already holds
//! greedily, with no change in between: all local, no round trip (issue 12: p50 at most 2 us).

use anyhow::Context;
use heap_client::HeapClient;

use crate::locks::latency::CaseSamples;
use crate::locks::lock;
use crate::locks::report::CaseFigures;
use crate::locks::unlock;
use crate::locks::LOCAL_WARMUP_OPS;

const LOCK_NAME: &str = "locks/reacquire";

/// Takes the lock once from the cluster, then times `ops` lock + unlock pairs.
pub async fn measure(client: &HeapClient, ops: u64) -> anyhow::Result<CaseFigures> {
    for _ in 0..LOCAL_WARMUP_OPS {
        lock(client, LOCK_NAME).await?;
        unlock(client, LOCK_NAME).await?;
    }
    anyhow::ensure!(
        client.greedy_locks_held() == 1,
        "the session holds {} locks greedily after its thread released {LOCK_NAME:?}, not 1: the client did not \
         keep the lock",
        client.greedy_locks_held()
    );
    let mut samples = CaseSamples::with_capacity(ops);
    for _ in 0..ops {
        let op = async {
            lock(client, LOCK_NAME).await?;
            unlock(client, LOCK_NAME).await
        };
        samples.time(&[client], op).await.context("reacquire")?;
    }
    Ok(CaseFigures::new("reacquire", "lock + unlock of a lock the session holds, no change", samples))
}
