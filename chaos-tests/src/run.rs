//! One chaos run from start to report, in phases: network (when partitions are wanted) and
//! heap-server processes (secured unless `plaintext`: certificates for the addresses the nodes
//! listen on, loopback or their namespace's IP); start (a leader, the workload objects, the workers); fault (the nemesis
//! for the duration, then healing); read back (final reads, replica comparison, the collector's
//! figures); check (the checkers, the report, the history written out when anything was found).

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
use std::time::SystemTime;

use heap_client::ClusterClient;
use heap_testkit::free_ports;
use heap_testkit::LocalCluster;
use tokio::task::JoinHandle;

use crate::checker::check;
use crate::checker::gc::rooted_at_end;
use crate::checker::Anomaly;
use crate::checker::AnomalyKind;
use crate::config::RunConfig;
use crate::config::RunError;
use crate::endpoints::Endpoints;
use crate::evidence::write_evidence;
use crate::evidence::write_json;
use crate::history::Event;
use crate::history::History;
use crate::nemesis::Chaos;
use crate::netns::Network;
pub use crate::netns::NODE_PORT;
use crate::report::GcServerStatus;
use crate::report::OpCounts;
use crate::report::Report;
use crate::schedule::Nemesis;
use crate::schedule::Schedule;
use crate::workload::final_reads;
use crate::workload::gc_final;
use crate::workload::objects::create_objects;
use crate::workload::spawn_all;
use crate::workload::Context;
use crate::workload::Workload;
use crate::workload::WorkloadError;
use crate::workload::CLIENT_DEADLINE_MS;
use crate::workload::OP_DEADLINE_MS;

/// A fresh cluster must elect a leader within this long.
pub const STARTUP_TIMEOUT_MS: u64 = 60_000;
/// After the last fault is healed, the cluster must have a leader again within this long.
pub const RECOVERY_TIMEOUT_MS: u64 = 60_000;
/// Workers finish their operation in flight within this long after the stop (then are aborted).
pub const WORKER_STOP_TIMEOUT_MS: u64 = 2 * OP_DEADLINE_MS;
/// Gc objects (those certainly rooted at the end) added to the replica comparison, at most: with
/// the workload's own objects well within one read's 10,000 ids.
pub const GC_REPLICA_IDS_MAX: usize = 5_000;

/// Where the nodes keep their data and logs.
struct DataDir {
    path: PathBuf,
    /// Made for this run (deleted after a clean run).
    temporary: bool,
}

/// The client side of a run once the cluster is up.
struct Load {
    history: Arc<History>,
    context: Arc<Context>,
    workers: Vec<JoinHandle<()>>,
}

/// What the fault and read-back phases leave for the report.
struct Faults {
    /// Found outside the history: crashed nodes, failed workers, diverging replicas.
    anomalies: Vec<Anomaly>,
    by_nemesis: BTreeMap<String, u64>,
    by_kind: BTreeMap<String, u64>,
    skipped: u64,
}

/// Runs one chaos run and returns its report (the caller prints it and picks the exit code).
pub async fn run(config: &RunConfig) -> Result<Report, RunError> {
    let run_started = Instant::now();
    config.validate()?;
    let duration = Duration::from_secs(config.duration_s);
    let schedule = Schedule::generate(config.seed, config.nodes, &config.nemeses, duration.as_millis() as u64);
    eprint!("{schedule}");
    eprintln!("chaos: seed {} (replay this schedule with --seed {})", config.seed, config.seed);
    let mut network = create_network(config)?;
    let data_dir = create_data_dir(config)?;
    let mut cluster = node_cluster(config, network.as_ref(), &data_dir.path)?;

    let load = start(config, &mut cluster, &data_dir.path).await?;
    let history = Arc::clone(&load.history);
    let faults = fault_and_read_back(&mut cluster, network.as_mut(), load, &schedule, duration).await?;
    let gc_status = gc_status_of(config, &cluster).await;

    let events = history.events();
    let mut report = report_of(config, &events, faults);
    report.gc_status = gc_status;
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
    if data_dir.temporary && report.clean {
        let _ = std::fs::remove_dir_all(&data_dir.path);
    }
    Ok(report)
}

/// One network namespace per node, when the partition nemesis is wanted.
fn create_network(config: &RunConfig) -> Result<Option<Network>, RunError> {
    if !config.nemeses.contains(&Nemesis::Partition) {
        return Ok(None);
    }
    let network = Network::create(config.net_slot, config.nodes)?;
    eprintln!(
        "chaos: nodes in network namespaces {}n1..n{} at {}, runner at {}",
        network.prefix(),
        config.nodes,
        network.node_ip(1),
        network.bridge_ip()
    );
    Ok(Some(network))
}

/// The data dir asked for, or a fresh one under the temporary directory; created.
fn create_data_dir(config: &RunConfig) -> Result<DataDir, RunError> {
    let data_dir = match &config.data_dir {
        Some(dir) => DataDir { path: dir.clone(), temporary: false },
        None => {
            let unique = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
            let path = std::env::temp_dir().join(format!("sovereign-chaos-{}-{unique}", config.seed));
            DataDir { path, temporary: true }
        }
    };
    std::fs::create_dir_all(&data_dir.path).map_err(RunError::io(&data_dir.path))?;
    Ok(data_dir)
}

/// The addresses the nodes listen on (and are reached at): each in its namespace at
/// `<node ip>:NODE_PORT`, or on free loopback ports when there is no network.
fn node_addrs(config: &RunConfig, network: Option<&Network>) -> Result<Vec<String>, RunError> {
    match network {
        Some(network) => Ok((1..=config.nodes).map(|id| format!("{}:{NODE_PORT}", network.node_ip(id))).collect()),
        None => {
            let ports =
                free_ports(config.nodes as usize).map_err(|e| RunError::Startup(e.to_string(), String::new()))?;
            Ok(ports.into_iter().map(|port| format!("127.0.0.1:{port}")).collect())
        }
    }
}

/// The heap-server processes (not started) at `node_addrs`, behind `ip netns exec` when there is
/// a network. Secured unless `config.plaintext`: the certificates are issued for exactly these
/// addresses (each node's IP as a SAN), so they hold in the namespaces too.
fn node_cluster(config: &RunConfig, network: Option<&Network>, data_dir: &Path) -> Result<LocalCluster, RunError> {
    let addrs = node_addrs(config, network)?;
    let (binary, args) = (&config.server_binary, config.server_args());
    let cluster = if config.plaintext {
        LocalCluster::new(binary, data_dir, addrs, args)
    } else {
        LocalCluster::new_secured(binary, data_dir, addrs, args)?
    };
    Ok(match network {
        Some(network) => cluster.with_launcher(|id| network.command_prefix(id)),
        None => cluster,
    })
}

/// Start: the nodes, a leader, the objects, the workers.
async fn start(config: &RunConfig, cluster: &mut LocalCluster, data_dir: &Path) -> Result<Load, RunError> {
    let endpoints = cluster.endpoints();
    cluster.start_all()?;
    let leader = cluster
        .wait_for_majority_leader(Duration::from_millis(STARTUP_TIMEOUT_MS))
        .await
        .map_err(|e| RunError::Startup(e.to_string(), data_dir.display().to_string()))?;
    eprintln!(
        "chaos: {} nodes up at {}, leader node {leader}, security {}",
        config.nodes,
        endpoints.join(","),
        config.security_mode()
    );
    let security = cluster.client_security();
    let client = ClusterClient::connect(&endpoints, &security, Duration::from_millis(CLIENT_DEADLINE_MS))
        .map_err(WorkloadError::from)?;
    let objects = create_objects(&client).await?;
    let history = Arc::new(History::new());
    let shared_endpoints = Arc::new(Endpoints::new(endpoints));
    let context = Arc::new(Context::new(Arc::clone(&history), shared_endpoints, security, objects, config.seed));
    let workers = spawn_all(&context, &config.workloads)?;
    eprintln!("chaos: {} workers started; faults for {} s", workers.len(), config.duration_s);
    Ok(Load { history, context, workers })
}

/// Fault: the nemesis runs the schedule under load, then everything is healed and the workers
/// stop. Read back: a leader again, every key read back, the replicas compared.
async fn fault_and_read_back(
    cluster: &mut LocalCluster,
    network: Option<&mut Network>,
    load: Load,
    schedule: &Schedule,
    duration: Duration,
) -> Result<Faults, RunError> {
    let mut chaos = Chaos::new(cluster, network, &load.history).with_endpoints(Arc::clone(&load.context.endpoints));
    let nemesis_result = chaos.run(schedule, Instant::now(), duration).await;
    let healed = chaos.heal_all();
    load.context.stop();
    nemesis_result?;
    healed?;
    let mut anomalies = stop_workers(load.workers).await;
    eprintln!("chaos: faults over and healed; workers stopped; reading everything back");

    if let Err(e) = chaos.cluster.wait_for_majority_leader(Duration::from_millis(RECOVERY_TIMEOUT_MS)).await {
        eprintln!("chaos: after healing: {e}");
    }
    // The members now (the membership nemesis may have replaced every starting node).
    let endpoints = chaos.cluster.endpoints();
    let deadline = Duration::from_millis(CLIENT_DEADLINE_MS);
    let client = ClusterClient::connect(&endpoints, &load.context.security, deadline).map_err(WorkloadError::from)?;
    final_reads::read_back(&load.context, &client).await;
    gc_final::read_back(&load.context, &client).await;
    let mut ids = load.context.objects.all_ids();
    ids.extend(rooted_at_end(&load.history.events()).into_iter().take(GC_REPLICA_IDS_MAX));
    anomalies.extend(final_reads::compare_replicas(&endpoints, &load.context.security, &ids).await);
    chaos.heal_all()?;
    anomalies.append(&mut chaos.anomalies);
    let (by_nemesis, by_kind, skipped) = chaos.counts();
    Ok(Faults { anomalies, by_nemesis, by_kind, skipped })
}

/// The leader's collector figures after a run with the gc workload (None otherwise, or when no
/// node answers: the report then has none, and the gc test fails on that).
async fn gc_status_of(config: &RunConfig, cluster: &LocalCluster) -> Option<GcServerStatus> {
    if !config.workloads.contains(&Workload::Gc) {
        return None;
    }
    match gc_final::leader_status(&cluster.endpoints(), &cluster.client_security()).await {
        Ok(status) => Some(status),
        Err(e) => {
            eprintln!("chaos: no collector figures from the leader: {e}");
            None
        }
    }
}

/// Waits (bounded) for each worker to end its operation in flight; one that does not is aborted
/// (that operation stays indeterminate, as it should). A worker that failed is an anomaly.
async fn stop_workers(workers: Vec<JoinHandle<()>>) -> Vec<Anomaly> {
    let mut anomalies = Vec::new();
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
            Err(_) => abort.abort(),
        }
    }
    anomalies
}

/// Check: the checkers' findings over the history, with the anomalies and faults of the fault
/// phase, as the run's report (its `elapsed_s` still to fill in).
fn report_of(config: &RunConfig, events: &[Event], faults: Faults) -> Report {
    let mut findings = check(events);
    findings.anomalies.extend(faults.anomalies);
    let mut report = Report {
        seed: config.seed,
        nodes: config.nodes,
        duration_s: config.duration_s,
        nemeses: config.nemeses.iter().map(|n| n.name().to_string()).collect(),
        workloads: config.workloads.iter().map(|w| w.name().to_string()).collect(),
        plant: config.plant.map(|p| p.name().to_string()),
        security: Some(config.security_mode().to_string()),
        ops: OpCounts::of(events),
        faults: faults.by_nemesis,
        fault_kinds: faults.by_kind,
        faults_skipped: faults.skipped,
        ..Default::default()
    };
    report.set_findings(&findings);
    report
}
