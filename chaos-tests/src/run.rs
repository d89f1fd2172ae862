//! One chaos run from start to report: network (when partitions are wanted), heap-server
//! processes, workload objects, workers and nemesis for the duration, healing, final reads,
//! replica comparison, the checkers, and the history written out when anything was found.

use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
use std::time::SystemTime;

use heap_client::ClusterClient;
use heap_testkit::free_ports;

use crate::checker::check;
use crate::checker::Anomaly;
use crate::checker::AnomalyKind;
use crate::cluster::ChaosCluster;
use crate::cluster::ClusterError;
use crate::cluster::NodeSpec;
use crate::history::History;
use crate::nemesis::Chaos;
use crate::nemesis::NemesisError;
use crate::netns::NetError;
use crate::netns::Network;
use crate::report::OpCounts;
use crate::report::Report;
use crate::schedule::Nemesis;
use crate::schedule::Schedule;
use crate::workload::final_reads;
use crate::workload::objects::create_objects;
use crate::workload::spawn_all;
use crate::workload::Context;
use crate::workload::WorkloadError;
use crate::workload::CLIENT_DEADLINE_MS;
use crate::workload::OP_DEADLINE_MS;

/// The port every node listens on inside its own network namespace.
pub const NODE_PORT: u16 = 7100;
/// A fresh cluster must elect a leader within this long.
pub const STARTUP_TIMEOUT_MS: u64 = 60_000;
/// After the last fault is healed, the cluster must have a leader again within this long.
pub const RECOVERY_TIMEOUT_MS: u64 = 60_000;
/// Workers finish their operation in flight within this long after the stop (then are aborted).
pub const WORKER_STOP_TIMEOUT_MS: u64 = 2 * OP_DEADLINE_MS;
/// Longest run accepted (a day).
pub const DURATION_S_MAX: u64 = 24 * 3600;
/// Node counts accepted.
pub const NODES_MIN: u64 = 3;
pub const NODES_MAX: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "heap-server not found at {0}: build it with `cargo build --release -p heap-server` (or \
         `cargo build -p heap-server` for a debug chaos-tests), or pass --server-bin PATH"
    )]
    ServerBinary(String),
    #[error("give --nodes {NODES_MIN}..={NODES_MAX} (3 or 5 make sense), not {0}")]
    Nodes(u64),
    #[error("give --duration 1..={DURATION_S_MAX} seconds, not {0}")]
    Duration(u64),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Nemesis(#[from] NemesisError),
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    #[error("cannot write {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("the cluster did not start: {0} (node logs in {1})")]
    Startup(String, String),
}

/// The planted bug a run starts the servers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plant {
    /// `heap-server --unsafe-stale-reads`: reads from local state, no leadership check.
    StaleReads,
}

impl Plant {
    pub fn name(self) -> &'static str {
        match self {
            Plant::StaleReads => "stale-reads",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub nodes: u64,
    pub duration_s: u64,
    pub nemeses: Vec<Nemesis>,
    pub seed: u64,
    pub plant: Option<Plant>,
    pub server_binary: PathBuf,
    /// Node data and logs; a fresh temporary directory (deleted after a clean run) when None.
    pub data_dir: Option<PathBuf>,
    /// Where a run with anomalies writes its history, report and node logs.
    pub history_dir: PathBuf,
    /// Picks the network namespaces' names and /24 (see `netns`).
    pub net_slot: u8,
    /// heap-server `--snapshot-logs`: small, so restarted nodes catch up by snapshot too.
    pub snapshot_logs: u64,
}

/// The heap-server next to this executable (`target/<profile>/heap-server`), or `explicit`.
pub fn locate_server_binary(explicit: Option<PathBuf>) -> Result<PathBuf, RunError> {
    let path = match explicit {
        Some(path) => path,
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("heap-server")))
            .unwrap_or_else(|| PathBuf::from("heap-server")),
    };
    if !path.is_file() {
        return Err(RunError::ServerBinary(path.display().to_string()));
    }
    Ok(path)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |error| RunError::Io { path: path.display().to_string(), error }
}

/// Runs one chaos run and returns its report (the caller prints it and picks the exit code).
pub async fn run(config: &RunConfig) -> Result<Report, RunError> {
    let run_started = Instant::now();
    if !(NODES_MIN..=NODES_MAX).contains(&config.nodes) {
        return Err(RunError::Nodes(config.nodes));
    }
    if !(1..=DURATION_S_MAX).contains(&config.duration_s) {
        return Err(RunError::Duration(config.duration_s));
    }
    let duration = Duration::from_secs(config.duration_s);
    let schedule = Schedule::generate(config.seed, config.nodes, &config.nemeses, duration.as_millis() as u64);
    eprint!("{schedule}");
    eprintln!("chaos: seed {} (replay this schedule with --seed {})", config.seed, config.seed);

    let mut network = if config.nemeses.contains(&Nemesis::Partition) {
        let network = Network::create(config.net_slot, config.nodes)?;
        eprintln!(
            "chaos: nodes in network namespaces {}n1..n{} at {}, runner at {}",
            network.prefix(),
            config.nodes,
            network.node_ip(1),
            network.bridge_ip()
        );
        Some(network)
    } else {
        None
    };
    let specs: Vec<NodeSpec> = match &network {
        Some(network) => (1..=config.nodes)
            .map(|id| NodeSpec {
                addr: format!("{}:{NODE_PORT}", network.node_ip(id)),
                prefix: network.command_prefix(id),
            })
            .collect(),
        None => free_ports(config.nodes as usize)
            .map_err(|e| RunError::Startup(e.to_string(), String::new()))?
            .into_iter()
            .map(|port| NodeSpec { addr: format!("127.0.0.1:{port}"), prefix: Vec::new() })
            .collect(),
    };
    let (data_dir, temporary) = match &config.data_dir {
        Some(dir) => (dir.clone(), false),
        None => {
            let unique = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
            (std::env::temp_dir().join(format!("sovereign-chaos-{}-{unique}", config.seed)), true)
        }
    };
    std::fs::create_dir_all(&data_dir).map_err(io_error(&data_dir))?;
    let mut extra_args = vec![
        "--snapshot-logs".to_string(),
        config.snapshot_logs.to_string(),
        "--logs-to-keep".to_string(),
        (config.snapshot_logs / 10).to_string(),
    ];
    if config.plant == Some(Plant::StaleReads) {
        extra_args.push("--unsafe-stale-reads".into());
    }
    let mut cluster = ChaosCluster::new(&config.server_binary, &data_dir, specs, extra_args);
    let endpoints = cluster.endpoints();

    // Start: nodes, a leader, the objects, the workers.
    cluster.start_all()?;
    let leader = cluster
        .wait_for_leader(Duration::from_millis(STARTUP_TIMEOUT_MS))
        .await
        .map_err(|e| RunError::Startup(e.to_string(), data_dir.display().to_string()))?;
    eprintln!("chaos: {} nodes up at {}, leader node {leader}", config.nodes, endpoints.join(","));
    let client = ClusterClient::with_deadline(&endpoints, Duration::from_millis(CLIENT_DEADLINE_MS))
        .map_err(WorkloadError::from)?;
    let objects = create_objects(&client).await?;
    let history = Arc::new(History::new());
    let context = Arc::new(Context::new(Arc::clone(&history), endpoints.clone(), objects, config.seed));
    let workers = spawn_all(&context)?;
    eprintln!("chaos: {} workers started; faults for {} s", workers.len(), config.duration_s);

    // Act and fault: the nemesis runs the schedule, then everything is healed.
    let mut chaos = Chaos::new(&mut cluster, network.as_mut(), &history);
    let nemesis_result = chaos.run(&schedule, Instant::now(), duration).await;
    let healed = chaos.heal_all();
    context.stop();
    nemesis_result?;
    healed?;
    let mut anomalies: Vec<Anomaly> = Vec::new();
    for worker in workers {
        let abort = worker.abort_handle();
        match tokio::time::timeout(Duration::from_millis(WORKER_STOP_TIMEOUT_MS), worker).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => anomalies.push(Anomaly::new(
                AnomalyKind::MalformedHistory,
                "",
                1,
                format!("a workload worker failed: {e}"),
            )),
            // Its operation in flight stays indeterminate, as it should.
            Err(_) => abort.abort(),
        }
    }
    eprintln!("chaos: faults over and healed; workers stopped; reading everything back");

    // Check: a leader again, every key read back, replicas equal, the history checked.
    if let Err(e) = chaos.cluster.wait_for_leader(Duration::from_millis(RECOVERY_TIMEOUT_MS)).await {
        eprintln!("chaos: after healing: {e}");
    }
    final_reads::read_back(&context, &client).await;
    anomalies.extend(final_reads::compare_replicas(&endpoints, &context.objects.all_ids()).await);
    chaos.heal_all()?;
    anomalies.append(&mut chaos.anomalies);
    let (faults, fault_kinds, faults_skipped) = chaos.counts();
    drop(chaos);

    let events = history.events();
    let mut findings = check(&events);
    findings.anomalies.extend(anomalies);
    let mut report = Report {
        seed: config.seed,
        nodes: config.nodes,
        duration_s: config.duration_s,
        nemeses: config.nemeses.iter().map(|n| n.name().to_string()).collect(),
        plant: config.plant.map(|p| p.name().to_string()),
        ops: OpCounts::of(&events),
        faults,
        fault_kinds,
        faults_skipped,
        ..Default::default()
    };
    report.set_findings(&findings);
    report.elapsed_s = run_started.elapsed().as_secs_f64();

    cluster.kill_all();
    if !report.clean {
        let dir = write_evidence(config, &report, &events, &schedule, &cluster)?;
        report.history_dir = Some(dir.display().to_string());
        // Written again with the history's location in it.
        write_json(&report, &dir.join("report.json"))?;
    }
    drop(cluster);
    if let Some(network) = network.as_mut() {
        network.teardown();
    }
    if temporary && report.clean {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    Ok(report)
}

/// Writes the history, report, schedule and node logs of a run with anomalies; returns the
/// directory (`<history dir>/seed-<seed>-<unix seconds>`).
fn write_evidence(
    config: &RunConfig,
    report: &Report,
    events: &[crate::history::Event],
    schedule: &Schedule,
    cluster: &ChaosCluster,
) -> Result<PathBuf, RunError> {
    let seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let dir = config.history_dir.join(format!("seed-{}-{seconds}", config.seed));
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let history_path = dir.join("history.jsonl");
    History::write_jsonl(events, &history_path)
        .map_err(|e| RunError::Io { path: history_path.display().to_string(), error: std::io::Error::other(e) })?;
    write_json(report, &dir.join("report.json"))?;
    let schedule_path = dir.join("schedule.txt");
    std::fs::write(&schedule_path, schedule.to_string()).map_err(io_error(&schedule_path))?;
    for id in cluster.ids() {
        let target = dir.join(format!("node{id}.log"));
        let _ = std::fs::copy(cluster.log_path(id), &target);
    }
    Ok(dir)
}

/// Writes the report as pretty JSON.
pub fn write_json(report: &Report, path: &Path) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| RunError::Io { path: path.display().to_string(), error: std::io::Error::other(e) })?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    std::fs::write(path, text + "\n").map_err(io_error(path))
}
