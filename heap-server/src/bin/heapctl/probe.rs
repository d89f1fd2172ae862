//! `heapctl dev probe-failover` and `heapctl dev probe-latency`: measurements on a fresh local
//! cluster in a temporary directory. They measure and print; they assert nothing.

use std::path::PathBuf;
use std::time::Duration;
use std::time::Instant;

use anyhow::bail;
use anyhow::Context;
use heap_server::client::ClusterClient;
use heap_server::local_cluster::free_ports;
use heap_server::local_cluster::LocalCluster;
use heap_server::tx::bind_root;
use heap_server::tx::create;
use heap_server::tx::id_target;
use heap_server::tx::map_put;
use heap_server::tx::new_target;
use heap_server::tx::transaction;
use proto::heap as pb;

/// Bounds of the probes, so a broken cluster ends a probe instead of hanging it.
const TRIALS_MAX: u32 = 1_000;
const WRITES_MAX: u32 = 1_000_000;
const CONDITION_TIMEOUT_MS: u64 = 30_000;
const CLIENT_DEADLINE_MS: u64 = 15_000;
/// The value written by the latency probe, as etcd's benchmark writes 256-byte values.
const VALUE_SIZE_BYTES: usize = 256;

/// A fresh cluster of `nodes` in a new temporary directory (removed when dropped).
struct ProbeCluster {
    cluster: LocalCluster,
    dir: PathBuf,
}

impl ProbeCluster {
    fn start(nodes: usize) -> anyhow::Result<Self> {
        let server = std::env::current_exe()?.with_file_name("heap-server");
        if !server.exists() {
            bail!("{} not found; build it first: cargo build --release -p heap-server", server.display());
        }
        let dir = std::env::temp_dir().join(format!("sovereign-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let addrs = free_ports(nodes)?.into_iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let mut cluster = LocalCluster::new(&server, &dir, addrs, Vec::new());
        cluster.start_all()?;
        println!("cluster of {nodes} in {}", dir.display());
        Ok(Self { cluster, dir })
    }
}

impl Drop for ProbeCluster {
    fn drop(&mut self) {
        self.cluster.kill_all();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Creates a map object bound to root `name`; returns its id.
async fn create_map_root(client: &ClusterClient, name: &str) -> anyhow::Result<u64> {
    let tx = transaction(vec![create(0, "probe.Map", pb::ObjectKind::Map), bind_root(name, new_target(0))]);
    match client.commit(tx).await?.result {
        Some(pb::commit_response::Result::Committed(c)) => Ok(c.created.first().map(|c| c.id).unwrap_or(0)),
        other => bail!("cannot create the probe object: {other:?}"),
    }
}

async fn put(client: &ClusterClient, id: u64, key: &str, value: pb::Value) -> anyhow::Result<u64> {
    match client.commit(transaction(vec![map_put(id_target(id), key, Some(value))])).await?.result {
        Some(pb::commit_response::Result::Committed(c)) => Ok(c.log_index),
        other => bail!("write not committed: {other:?}"),
    }
}

/// SIGKILLs the leader `trials` times and measures the time to the first successful write.
pub async fn failover(trials: u32) -> anyhow::Result<()> {
    if trials == 0 || trials > TRIALS_MAX {
        bail!("--trials must be between 1 and {TRIALS_MAX}");
    }
    let mut probe = ProbeCluster::start(3)?;
    let timeout = Duration::from_millis(CONDITION_TIMEOUT_MS);
    let client = probe.cluster.client(Duration::from_millis(CLIENT_DEADLINE_MS))?;
    probe.cluster.wait_for_leader(timeout).await?;
    let id = create_map_root(&client, "failover-probe").await?;
    let mut samples = Vec::new();
    for trial in 1..=trials {
        let leader = probe.cluster.wait_for_leader(timeout).await?;
        let before =
            put(&client, id, "trial", pb::Value { kind: Some(pb::value::Kind::IntValue(trial.into())) }).await?;
        for node in probe.cluster.ids() {
            probe.cluster.wait_for_applied(node, before, timeout).await?;
        }
        probe.cluster.kill(leader);
        let killed = Instant::now();
        let index =
            put(&client, id, "after-kill", pb::Value { kind: Some(pb::value::Kind::IntValue(trial.into())) }).await?;
        let elapsed = killed.elapsed();
        samples.push(elapsed);
        println!("trial {trial}: killed leader node {leader}; first write committed after {}", ms(elapsed));
        probe.cluster.start(leader)?;
        probe.cluster.wait_for_applied(leader, index, timeout).await?;
    }
    samples.sort();
    println!(
        "failover over {trials} trials: median {}, min {}, max {}",
        ms(percentile(&samples, 0.5)),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
    Ok(())
}

/// One client writes `writes` 256-byte values, one after another, and reports the latencies.
pub async fn latency(writes: u32) -> anyhow::Result<()> {
    if writes == 0 || writes > WRITES_MAX {
        bail!("--writes must be between 1 and {WRITES_MAX}");
    }
    let probe = ProbeCluster::start(3)?;
    let timeout = Duration::from_millis(CONDITION_TIMEOUT_MS);
    let leader = probe.cluster.wait_for_leader(timeout).await?;
    // Talk to the leader directly, as a leader-following client does.
    let client = ClusterClient::with_deadline(
        &[probe.cluster.addr(leader)?.to_string()],
        Duration::from_millis(CLIENT_DEADLINE_MS),
    )?;
    let id = create_map_root(&client, "latency-probe").await?;
    let value = pb::Value { kind: Some(pb::value::Kind::StringValue("v".repeat(VALUE_SIZE_BYTES))) };
    let warmup = (writes / 10).max(1);
    for i in 0..warmup {
        put(&client, id, &format!("k{:07}", i % 1000), value.clone()).await?;
    }
    let mut samples = Vec::with_capacity(writes as usize);
    let started = Instant::now();
    for i in 0..writes {
        let t = Instant::now();
        put(&client, id, &format!("k{:07}", i % 1000), value.clone()).await?;
        samples.push(t.elapsed());
    }
    let total = started.elapsed();
    samples.sort();
    println!(
        "{writes} sequential durable writes (1 client, {VALUE_SIZE_BYTES}-byte value, 3 nodes): {:.0} writes/s",
        f64::from(writes) / total.as_secs_f64()
    );
    println!(
        "latency: p50 {}  p90 {}  p99 {}  max {}",
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.9)),
        ms(percentile(&samples, 0.99)),
        ms(samples[samples.len() - 1])
    );
    Ok(())
}
