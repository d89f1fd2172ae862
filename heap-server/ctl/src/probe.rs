//! `heapctl dev probe-failover` and `heapctl dev probe-latency`: measurements on a fresh local
//! cluster in a temporary directory. They measure and print; they assert nothing. The cluster is
//! secured (TLS, tokens) as `heapctl dev up` makes it, so they measure what users run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use anyhow::bail;
use anyhow::Context;
use heap_client::tx::bind_root;
use heap_client::tx::create;
use heap_client::tx::id_target;
use heap_client::tx::list_push;
use heap_client::tx::map_put;
use heap_client::tx::new_target;
use heap_client::tx::transaction;
use heap_client::tx::value;
use heap_client::ClusterClient;
use heap_client::LockOutcome;
use heap_client::Session;
use heap_testkit::free_ports;
use heap_testkit::LocalCluster;
use proto::heap as pb;

use crate::failover_phases::PhaseWatch;
use crate::failover_phases::Phases;

/// Bounds of the probes, so a broken cluster ends a probe instead of hanging it.
const TRIALS_MAX: u32 = 1_000;
const WRITES_MAX: u32 = 1_000_000;
const NODES_MAX: usize = 7;
const LOAD_CLIENTS_MAX: u32 = 1_000;
const CONDITION_TIMEOUT_MS: u64 = 30_000;
const CLIENT_DEADLINE_MS: u64 = 15_000;
/// The value written by the latency probe, as etcd's benchmark writes 256-byte values.
const VALUE_SIZE_BYTES: usize = 256;
/// The latency probe spreads its writes over this many small objects, as a put to many keys would.
const PROBE_OBJECTS: u32 = 100;

/// A fresh cluster of `nodes` in a new temporary directory (removed when dropped).
struct ProbeCluster {
    cluster: LocalCluster,
    dir: PathBuf,
}

impl ProbeCluster {
    fn start(nodes: usize) -> anyhow::Result<Self> {
        Self::start_with(nodes, Vec::new())
    }

    /// A fresh cluster whose nodes get `node_args` besides their own (e.g. Raft timings to try).
    fn start_with(nodes: usize, node_args: Vec<String>) -> anyhow::Result<Self> {
        let server = heap_testkit::locate_server_binary(None)?;
        let dir = std::env::temp_dir().join(format!("sovereign-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let addrs = free_ports(nodes)?.into_iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let mut cluster = LocalCluster::new_secured(&server, &dir, addrs, node_args)?;
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

/// Creates `count` map objects, listed under root `name`; returns their ids.
async fn create_maps(client: &ClusterClient, name: &str, count: u32) -> anyhow::Result<Vec<u64>> {
    let mut ops = vec![create(count, "probe.List", pb::ObjectKind::List), bind_root(name, new_target(count))];
    for handle in 0..count {
        ops.push(create(handle, "probe.Map", pb::ObjectKind::Map));
        ops.push(list_push(new_target(count), value(pb::value::Kind::NewRef(handle))));
    }
    match client.commit(transaction(ops)).await?.result {
        Some(pb::commit_response::Result::Committed(c)) => {
            let mut created = c.created;
            created.sort_by_key(|c| c.handle);
            Ok(created.into_iter().filter(|c| c.handle < count).map(|c| c.id).collect())
        }
        other => bail!("cannot create the probe objects: {other:?}"),
    }
}

async fn put(client: &ClusterClient, id: u64, key: &str, value: pb::Value) -> anyhow::Result<u64> {
    match client.commit(transaction(vec![map_put(id_target(id), key, Some(value))])).await?.result {
        Some(pb::commit_response::Result::Committed(c)) => Ok(c.log_index),
        other => bail!("write not committed: {other:?}"),
    }
}

/// How a failover probe runs: trials, a background load, and extra node flags.
pub struct FailoverProbe {
    pub trials: u32,
    /// Clients writing continuously through every trial (0: an idle cluster).
    pub load_clients: u32,
    /// Extra heap-server flags, e.g. Raft timings to compare.
    pub node_args: Vec<String>,
}

/// SIGKILLs the leader `trials` times and measures the time to the first successful write, with
/// the phases the survivors report (`failover_phases.rs`).
pub async fn failover(settings: FailoverProbe) -> anyhow::Result<()> {
    let FailoverProbe { trials, load_clients, node_args } = settings;
    if trials == 0 || trials > TRIALS_MAX {
        bail!("--trials must be between 1 and {TRIALS_MAX}");
    }
    if load_clients > LOAD_CLIENTS_MAX {
        bail!("--load-clients must be at most {LOAD_CLIENTS_MAX}");
    }
    let mut probe = ProbeCluster::start_with(3, node_args)?;
    let timeout = Duration::from_millis(CONDITION_TIMEOUT_MS);
    let client = probe.cluster.client(Duration::from_millis(CLIENT_DEADLINE_MS))?;
    probe.cluster.wait_for_leader(timeout).await?;
    let id = create_maps(&client, "failover-probe", 1).await?[0];
    let load = BackgroundLoad::start(&probe.cluster, load_clients).await?;
    let mut samples = FailoverSamples::default();
    for trial in 1..=trials {
        let leader = probe.cluster.wait_for_leader(timeout).await?;
        let before =
            put(&client, id, "trial", pb::Value { kind: Some(pb::value::Kind::IntValue(trial.into())) }).await?;
        for node in probe.cluster.ids() {
            probe.cluster.wait_for_applied(node, before, timeout).await?;
        }
        let old_term = probe.cluster.status(leader).await.context("the leader does not answer")?.term;
        let survivors = probe
            .cluster
            .ids()
            .into_iter()
            .filter(|&node| node != leader)
            .map(|node| probe.cluster.node_client(node, Duration::from_millis(CLIENT_DEADLINE_MS)))
            .collect::<Result<Vec<_>, _>>()?;
        let watch = PhaseWatch::new(survivors, old_term);
        probe.cluster.kill(leader);
        let killed = Instant::now();
        let write = async {
            let value = pb::Value { kind: Some(pb::value::Kind::IntValue(trial.into())) };
            let index = put(&client, id, "after-kill", value).await;
            (index, killed.elapsed())
        };
        let ((index, elapsed), phases) = tokio::join!(write, watch.watch(killed, timeout));
        let index = index?;
        println!(
            "trial {trial}: killed leader node {leader}; election started {}, leader elected {}, leader's first \
             commit {}, client's first write committed {}",
            phase_ms(phases.election_started),
            phase_ms(phases.leader_elected),
            phase_ms(phases.leader_committed),
            ms(elapsed)
        );
        samples.record(phases, elapsed);
        probe.cluster.start(leader)?;
        probe.cluster.wait_for_applied(leader, index, timeout).await?;
    }
    let load_writes = load.stop().await;
    if load_clients > 0 {
        println!("background load: {load_clients} clients committed {load_writes} writes during the trials");
    }
    samples.print(trials);
    Ok(())
}

/// Clients that write continuously (each to its own object) until stopped; errors during a
/// failover are expected and only counted out.
struct BackgroundLoad {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<u64>>,
}

impl BackgroundLoad {
    async fn start(cluster: &LocalCluster, clients: u32) -> anyhow::Result<Self> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        if clients > 0 {
            let writer = cluster.client(Duration::from_millis(CLIENT_DEADLINE_MS))?;
            let ids = create_maps(&writer, "failover-load", clients).await?;
            for id in ids {
                let client = cluster.client(Duration::from_millis(CLIENT_DEADLINE_MS))?;
                let stopped = stopped.clone();
                tasks.push(tokio::spawn(async move {
                    let value = pb::Value { kind: Some(pb::value::Kind::StringValue("v".repeat(VALUE_SIZE_BYTES))) };
                    let mut committed = 0;
                    while !*stopped.borrow() {
                        if put(&client, id, "load", value.clone()).await.is_ok() {
                            committed += 1;
                        }
                    }
                    committed
                }));
            }
        }
        Ok(Self { stop, tasks })
    }

    /// Stops the clients; returns how many writes they committed.
    async fn stop(self) -> u64 {
        let _ = self.stop.send(true);
        let mut committed = 0;
        for task in self.tasks {
            committed += task.await.unwrap_or(0);
        }
        committed
    }
}

fn phase_ms(at: Option<Duration>) -> String {
    at.map_or_else(|| "(not seen)".to_string(), ms)
}

/// Every trial's phases, for the summary.
#[derive(Default)]
struct FailoverSamples {
    election_started: Vec<Duration>,
    leader_elected: Vec<Duration>,
    leader_committed: Vec<Duration>,
    write_committed: Vec<Duration>,
}

impl FailoverSamples {
    fn record(&mut self, phases: Phases, write_committed: Duration) {
        self.election_started.extend(phases.election_started);
        self.leader_elected.extend(phases.leader_elected);
        self.leader_committed.extend(phases.leader_committed);
        self.write_committed.push(write_committed);
    }

    fn print(mut self, trials: u32) {
        println!("failover over {trials} trials, from the SIGKILL (p50 / p99 / max):");
        for (name, samples) in [
            ("election started", &mut self.election_started),
            ("leader elected", &mut self.leader_elected),
            ("leader's first commit", &mut self.leader_committed),
            ("client's first write", &mut self.write_committed),
        ] {
            samples.sort();
            let Some(max) = samples.last() else {
                println!("  {name:<22} not seen");
                continue;
            };
            println!(
                "  {name:<22} {} / {} / {} ({} trials)",
                ms(percentile(samples, 0.5)),
                ms(percentile(samples, 0.99)),
                ms(*max),
                samples.len()
            );
        }
    }
}

/// One client writes `writes` 256-byte values, one after another, each to one of
/// `PROBE_OBJECTS` objects, and reports the latencies.
pub async fn latency(writes: u32, nodes: usize) -> anyhow::Result<()> {
    if writes == 0 || writes > WRITES_MAX {
        bail!("--writes must be between 1 and {WRITES_MAX}");
    }
    if nodes == 0 || nodes > NODES_MAX {
        bail!("--nodes must be between 1 and {NODES_MAX}");
    }
    let probe = ProbeCluster::start(nodes)?;
    let timeout = Duration::from_millis(CONDITION_TIMEOUT_MS);
    let leader = probe.cluster.wait_for_leader(timeout).await?;
    // Talk to the leader directly, as a leader-following client does.
    let client = probe.cluster.node_client(leader, Duration::from_millis(CLIENT_DEADLINE_MS))?;
    let ids = create_maps(&client, "latency-probe", PROBE_OBJECTS).await?;
    let value = pb::Value { kind: Some(pb::value::Kind::StringValue("v".repeat(VALUE_SIZE_BYTES))) };
    let warmup = (writes / 10).max(1);
    for i in 0..warmup {
        put(&client, ids[(i % PROBE_OBJECTS) as usize], "value", value.clone()).await?;
    }
    let mut samples = Vec::with_capacity(writes as usize);
    let started = Instant::now();
    for i in 0..writes {
        let t = Instant::now();
        put(&client, ids[(i % PROBE_OBJECTS) as usize], "value", value.clone()).await?;
        samples.push(t.elapsed());
    }
    let total = started.elapsed();
    samples.sort();
    println!(
        "{writes} sequential durable writes (1 client, {VALUE_SIZE_BYTES}-byte value, {nodes} nodes): {:.0} writes/s",
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

/// Uncontended lock acquire + release round trips by one session, and the time from a holder's
/// death (its process SIGKILLed) to the next grant, with a lease of `ttl_ms`.
pub async fn locks(rounds: u32, trials: u32, ttl_ms: u64) -> anyhow::Result<()> {
    if rounds == 0 || rounds > WRITES_MAX || trials > TRIALS_MAX {
        bail!("--rounds must be between 1 and {WRITES_MAX}, --trials at most {TRIALS_MAX}");
    }
    let probe = ProbeCluster::start(3)?;
    let timeout = Duration::from_millis(CONDITION_TIMEOUT_MS);
    let leader = probe.cluster.wait_for_leader(timeout).await?;
    let client = Arc::new(probe.cluster.node_client(leader, Duration::from_millis(CLIENT_DEADLINE_MS))?);
    uncontended_locks(&client, rounds).await?;
    let mut holder_args = vec!["--endpoints".to_string(), probe.cluster.endpoints().join(",")];
    holder_args.extend(probe.cluster.heapctl_security_flags());
    let mut deaths = Vec::new();
    for trial in 1..=trials {
        let elapsed = holder_death_to_grant(&client, &holder_args, trial, ttl_ms).await?;
        println!("trial {trial}: next grant {} after the holder's death (lease {ttl_ms} ms)", ms(elapsed));
        deaths.push(elapsed);
    }
    if !deaths.is_empty() {
        deaths.sort();
        println!(
            "holder death to next grant over {trials} trials: median {}, max {} (lease {ttl_ms} ms)",
            ms(percentile(&deaths, 0.5)),
            ms(deaths[deaths.len() - 1])
        );
    }
    Ok(())
}

/// Times `rounds` lock+unlock round trips of one session on a free lock and prints percentiles.
async fn uncontended_locks(client: &Arc<ClusterClient>, rounds: u32) -> anyhow::Result<()> {
    let session = Session::open(Arc::clone(client), "probe", 10_000).await?;
    let mut samples = Vec::with_capacity(rounds as usize);
    for round in 0..rounds + rounds / 10 {
        let started = Instant::now();
        if session.lock("probe-lock", 1, pb::LockMode::Write, None).await? == LockOutcome::TimedOut {
            bail!("an uncontended lock timed out");
        }
        session.unlock("probe-lock", 1, None).await?;
        // The first tenth warms up connections and caches.
        if round >= rounds / 10 {
            samples.push(started.elapsed());
        }
    }
    samples.sort();
    println!(
        "{rounds} uncontended lock+unlock round trips (1 session, 3 nodes): p50 {}  p90 {}  p99 {}  max {}",
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.9)),
        ms(percentile(&samples, 0.99)),
        ms(samples[samples.len() - 1])
    );
    Ok(())
}

/// One trial: a `heapctl lock hold` process (started with `cluster_args`: its endpoints and
/// security) takes a lock, a waiter queues behind it, the holder is SIGKILLed; returns the time
/// from the kill to the waiter's grant (the lease running out).
async fn holder_death_to_grant(
    client: &Arc<ClusterClient>,
    cluster_args: &[String],
    trial: u32,
    ttl_ms: u64,
) -> anyhow::Result<Duration> {
    let lock = format!("death-{trial}");
    let mut holder = std::process::Command::new(std::env::current_exe()?)
        .args(cluster_args)
        .args(["lock", "hold", &lock, "--ms", "600000", "--ttl-ms", &ttl_ms.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let mut line = String::new();
    let stdout = holder.stdout.take().context("holder stdout")?;
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
    let waiter = Session::open(Arc::clone(client), "probe-waiter", 10_000).await?;
    let waiting = tokio::spawn(async move {
        let outcome = waiter.lock(&lock, 1, pb::LockMode::Write, None).await;
        let _ = waiter.close().await;
        (outcome, Instant::now())
    });
    // Let the waiter queue up before the holder dies.
    tokio::time::sleep(Duration::from_millis(200)).await;
    holder.kill()?;
    let _ = holder.wait();
    let killed = Instant::now();
    let (outcome, granted_at) = waiting.await?;
    outcome?;
    Ok(granted_at.duration_since(killed))
}
