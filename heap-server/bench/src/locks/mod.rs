//! `heap-bench locks`: what greedy cluster locks cost through the client library
//! (`heap_client::HeapClient`), on a fresh secured three-node cluster started as `gc` and `memory`
//! start theirs (`run_scenario`). Issue 12's lock cases: a lock the session already holds taken
//! again (`reacquire`, no round trip), a critical section with one change against the same change
//! outside any lock (`section`, `put`: one commit each), and two clients alternating sections on
//! one lock (`handover`: recall, give-back, grant, read and commit), and one client's sections at
//! the asynchronous commit level, with the time until another session reads their last change
//! (`async_section`). Every op is timed alone (`latency`); results-locks.json and results-locks.md
//! hold p50, p99, mean and the round trips per op, against issue 12's targets (`report`).

mod async_section;
mod handover;
mod latency;
mod reacquire;
mod report;
mod section;

use std::path::PathBuf;

use anyhow::Context;
use heap_client::ClientSecurity;
use heap_client::HeapClient;
use heap_client::Value;

use crate::lifecycle::cluster::LifecycleCluster;
use crate::lifecycle::per_object::ratio;
use crate::lifecycle::proc_status::load_average_1m;
use crate::lifecycle::scenario::run_scenario;
use crate::lifecycle::LifecycleSpec;
pub use report::LocksReport;

/// Measured ops of each local case (`reacquire`, `async`) unless `--ops` says otherwise: about a
/// microsecond to tens of microseconds each.
pub const LOCKS_LOCAL_OPS_DEFAULT: u64 = 20_000;
/// Measured ops of each cluster case unless `--cluster-ops` says otherwise: a section or a put
/// took about 2 ms and a hand-over 5 ms on a loaded 2-core machine (load average 4.5), so the
/// three cases take about a minute together, and each p99 rests on 50 samples above it.
pub const LOCKS_CLUSTER_OPS_DEFAULT: u64 = 5_000;
/// The most either may ask for (a sample is 8 bytes: 80 MB of samples at the local maximum).
pub const LOCKS_LOCAL_OPS_MAX: u64 = 10_000_000;
pub const LOCKS_CLUSTER_OPS_MAX: u64 = 1_000_000;
const _: () = assert!(LOCKS_LOCAL_OPS_DEFAULT <= LOCKS_LOCAL_OPS_MAX);
const _: () = assert!(LOCKS_CLUSTER_OPS_DEFAULT <= LOCKS_CLUSTER_OPS_MAX);
/// Untimed ops before each case: connections, the cache and the greedy lock in place first.
const LOCAL_WARMUP_OPS: u64 = 1_000;
const CLUSTER_WARMUP_OPS: u64 = 50;
// Even, so `handover`'s measured sections start with a hand-over from the warm-up's last holder.
const _: () = assert!(CLUSTER_WARMUP_OPS.is_multiple_of(2));
/// A lock not granted within this long fails the run (nothing else takes these locks; a
/// hand-over normally takes milliseconds, an election a second).
const LOCK_TIMEOUT_MS: u64 = 10_000;
/// The application thread every client runs its ops on.
const THREAD: u64 = 1;
/// The long field the sections of `handover` and `async` increment.
const COUNTER_FIELD: &str = "counter";

/// What `locks` is given.
#[derive(Debug, Clone, PartialEq)]
pub struct LocksSpec {
    pub out: PathBuf,
    pub local_ops: u64,
    pub cluster_ops: u64,
    pub server_binary: Option<PathBuf>,
}

impl LocksSpec {
    pub fn new(out: PathBuf, local_ops: u64, cluster_ops: u64, server_binary: Option<PathBuf>) -> anyhow::Result<Self> {
        if local_ops == 0 || local_ops > LOCKS_LOCAL_OPS_MAX {
            anyhow::bail!("--ops must be between 1 and {LOCKS_LOCAL_OPS_MAX}");
        }
        if cluster_ops == 0 || cluster_ops > LOCKS_CLUSTER_OPS_MAX {
            anyhow::bail!("--cluster-ops must be between 1 and {LOCKS_CLUSTER_OPS_MAX}");
        }
        Ok(Self { out, local_ops, cluster_ops, server_binary })
    }
}

/// Runs every case on a fresh cluster; the report goes to `<out>/results-locks.json`, its table
/// to `<out>/results-locks.md` and stdout. Any client error, or a lost increment, fails the run.
pub async fn locks(spec: &LocksSpec) -> anyhow::Result<LocksReport> {
    // `run_scenario` reads only `out` and `server_binary`; this scenario creates no population.
    let scenario =
        LifecycleSpec { objects: 0, batch: 0, out: spec.out.clone(), server_binary: spec.server_binary.clone() };
    let report =
        run_scenario(&scenario, "locks", async |cluster| measure(spec, cluster).await, report::summary).await?;
    let path = spec.out.join("results-locks.md");
    std::fs::write(&path, report::markdown(&report)).with_context(|| format!("cannot write {}", path.display()))?;
    println!("table in {}", path.display());
    Ok(report)
}

async fn measure(spec: &LocksSpec, cluster: &mut LifecycleCluster) -> anyhow::Result<LocksReport> {
    let load_at_start = load_average_1m();
    let (endpoints, security) = (cluster.endpoints().join(","), cluster.security());

    cluster.phase(format!("reacquire: one client, {} lock + unlock of a lock its session holds", spec.local_ops));
    let client = connect(&endpoints, &security).await?;
    let reacquire = reacquire::measure(&client, spec.local_ops).await?;
    close(client).await?;

    cluster.phase(format!("section and put: one client, {} of each, interleaved", spec.cluster_ops));
    let client = connect(&endpoints, &security).await?;
    let (section, put) = section::measure(&client, spec.cluster_ops).await?;
    close(client).await?;

    cluster.phase(format!("handover: two clients, {} alternating sections on one lock", spec.cluster_ops));
    let (first, second) = (connect(&endpoints, &security).await?, connect(&endpoints, &security).await?);
    let (handover, handover_check) = handover::measure([&first, &second], spec.cluster_ops).await?;
    close(first).await?;
    close(second).await?;

    cluster.phase(format!(
        "async: one client, {} sections at the asynchronous commit level, then a second client reads the counter",
        spec.local_ops
    ));
    let (writer, reader) = (connect(&endpoints, &security).await?, connect(&endpoints, &security).await?);
    let (async_section, async_throughput) = async_section::measure([&writer, &reader], spec.local_ops).await?;
    close(writer).await?;
    close(reader).await?;

    let section_over_put_p50 = ratio(section.latencies.p50_ns as f64, put.latencies.p50_ns as f64);
    Ok(LocksReport {
        local_ops: spec.local_ops,
        cluster_ops: spec.cluster_ops,
        local_warmup_ops: LOCAL_WARMUP_OPS,
        cluster_warmup_ops: CLUSTER_WARMUP_OPS,
        targets_met: report::TargetsMet::of(&reacquire, section_over_put_p50, &async_throughput),
        section_over_put_p50,
        reacquire,
        section,
        put,
        handover,
        handover_check,
        async_section,
        async_throughput,
        reacquire_p50_ns_target: report::REACQUIRE_P50_NS_TARGET,
        section_over_put_p50_target: report::SECTION_OVER_PUT_P50_TARGET,
        async_sections_per_s_target: report::ASYNC_SECTIONS_PER_S_TARGET,
        load_average_1m: [load_at_start, load_average_1m()],
        phases: cluster.phases(),
    })
}

async fn connect(endpoints: &str, security: &ClientSecurity) -> anyhow::Result<HeapClient> {
    HeapClient::connect(endpoints, security)
        .await
        .with_context(|| format!("cannot connect a heap client to {endpoints}; check the nodes' logs in the work dir"))
}

/// Ends the client's session, so its greedy locks go back to the cluster.
async fn close(client: HeapClient) -> anyhow::Result<()> {
    client.close().await.context("closing a heap client's session")
}

/// Takes lock `name` for writing on `THREAD`; not granted within `LOCK_TIMEOUT_MS` is an error.
async fn lock(client: &HeapClient, name: &str) -> anyhow::Result<()> {
    let granted =
        client.lock(THREAD, name, false, Some(LOCK_TIMEOUT_MS)).await.with_context(|| format!("lock {name:?}"))?;
    anyhow::ensure!(
        granted,
        "lock {name:?} was not granted within {LOCK_TIMEOUT_MS} ms, though only this run takes it; check the \
         nodes' logs in the work dir"
    );
    Ok(())
}

/// Releases lock `name` on `THREAD`, committing the changes made under it (or queueing them, at
/// the asynchronous commit level).
async fn unlock(client: &HeapClient, name: &str) -> anyhow::Result<()> {
    client.unlock(THREAD, name).await.with_context(|| format!("unlock {name:?} (commits the changes made under it)"))
}

/// One critical section under lock `name`: object `id`'s counter one higher.
async fn increment(client: &HeapClient, name: &str, id: u64) -> anyhow::Result<()> {
    lock(client, name).await?;
    let counter = counter_of(client.get(THREAD, id, COUNTER_FIELD).await.context("get the counter")?)?;
    client.set(THREAD, id, COUNTER_FIELD, Value::Long(counter + 1)).await.context("set the counter")?;
    unlock(client, name).await
}

fn counter_of(value: Value) -> anyhow::Result<i64> {
    match value {
        Value::Long(counter) => Ok(counter),
        other => anyhow::bail!("the counter field holds {other:?}, not a long; only this run writes it"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_counts_outside_their_bounds_are_refused_by_flag_name() {
        let spec = |local, cluster| LocksSpec::new(PathBuf::from("/tmp/x"), local, cluster, None);
        assert!(spec(LOCKS_LOCAL_OPS_DEFAULT, LOCKS_CLUSTER_OPS_DEFAULT).is_ok());
        assert!(spec(LOCKS_LOCAL_OPS_MAX, LOCKS_CLUSTER_OPS_MAX).is_ok());
        let zero = spec(0, 1).expect_err("no ops");
        assert!(zero.to_string().contains("--ops"), "{zero}");
        assert!(spec(LOCKS_LOCAL_OPS_MAX + 1, 1).is_err());
        let cluster = spec(1, LOCKS_CLUSTER_OPS_MAX + 1).expect_err("too many cluster ops");
        assert!(cluster.to_string().contains("--cluster-ops"), "{cluster}");
        assert!(spec(1, 0).is_err());
    }
}
