//! `heapctl dev up`: spawns a local cluster of heap-server processes (the binary next to heapctl),
//! secured by default with a development CA, node certificates and tokens in
//! `<data-dir>/security` (made on the first run, reused after), prints their pids and addresses,
//! where the credentials are and the cluster status, and stops them on Ctrl-C or SIGTERM.

use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use heap_testkit::LocalCluster;
use heap_testkit::ADMIN_TOKEN_NAME;
use heap_testkit::APP_TOKEN_NAME;
use heap_testkit::TOKEN_FILE_SUFFIX;
use proto::security::CA_FILE;
use proto::security::DEV_SECURITY_DIR;
use proto::security::PLAINTEXT_ENV;
use proto::security::SECURITY_DIR_ENV;

/// Nodes a development cluster may have.
const DEV_NODES_MAX: u64 = 7;
/// How long `dev up` waits for the first leader before reporting the cluster as not ready.
const LEADER_WAIT_MS: u64 = 15_000;
/// Node N's `/metrics` port is its client port plus this (7101 -> 7181).
const METRICS_PORT_OFFSET: u16 = 80;
/// How long the status printed after start-up may take.
const STATUS_TIMEOUT_MS: u64 = 2_000;

/// The cluster `dev up` runs: secured (a CA, node certificates and tokens under `data_dir`,
/// reused on a restart) unless `insecure_plaintext`; says where clients find its security files.
fn new_cluster(
    server: &Path,
    data_dir: &Path,
    addrs: &[String],
    insecure_plaintext: bool,
) -> anyhow::Result<LocalCluster> {
    let cluster = if insecure_plaintext {
        eprintln!(
            "WARNING: --insecure-plaintext: no TLS and no tokens; anyone who can reach these ports can read and change \
             everything. For tests only."
        );
        if Path::new(DEV_SECURITY_DIR).join(CA_FILE).exists() {
            eprintln!(
                "WARNING: clients started here find {DEV_SECURITY_DIR} and would use TLS: run them with --plaintext \
                 or {PLAINTEXT_ENV}=1"
            );
        }
        LocalCluster::new(server, data_dir, addrs.to_vec(), Vec::new())
    } else {
        LocalCluster::new_secured(server, data_dir, addrs.to_vec(), Vec::new())?
    };
    if let Some(security) = cluster.security() {
        let dir = security.dir();
        println!(
            "security: {} (CA {CA_FILE}; the admin token is in {ADMIN_TOKEN_NAME}{TOKEN_FILE_SUFFIX}, an \
             application token (role write) in {APP_TOKEN_NAME}{TOKEN_FILE_SUFFIX})",
            dir.display()
        );
        let found_by_default = Path::new(DEV_SECURITY_DIR).canonicalize().is_ok_and(|default| default == dir);
        if !found_by_default {
            println!("clients find it with: export {SECURITY_DIR_ENV}={}", dir.display());
        }
    }
    Ok(cluster)
}

pub async fn up(nodes: u64, data_dir: &Path, base_port: u16, insecure_plaintext: bool) -> anyhow::Result<()> {
    if nodes == 0 || nodes > DEV_NODES_MAX {
        bail!("--nodes must be between 1 and {DEV_NODES_MAX}");
    }
    if u64::from(base_port) + u64::from(METRICS_PORT_OFFSET) + nodes > u64::from(u16::MAX) {
        bail!("--base-port {base_port} is too high: the nodes' metrics ports (+{METRICS_PORT_OFFSET}) must stay below 65536");
    }
    let server = heap_testkit::locate_server_binary(None)?;
    let addrs: Vec<String> = (0..nodes).map(|i| format!("127.0.0.1:{}", u64::from(base_port) + i)).collect();
    // Ports first: a second `dev up` must not touch the running cluster's files.
    LocalCluster::new(&server, data_dir, addrs.clone(), Vec::new()).check_ports_free()?;
    let cluster = new_cluster(&server, data_dir, &addrs, insecure_plaintext)?;
    let metrics_addr =
        |id: u64| format!("127.0.0.1:{}", u64::from(base_port) + u64::from(METRICS_PORT_OFFSET) + id - 1);
    let mut cluster = cluster.with_node_args(|id| vec!["--http-listen".to_string(), metrics_addr(id)]);
    for id in cluster.ids() {
        let pid = cluster.start(id)?;
        println!(
            "node {id}: pid {pid} at {}, dashboard http://{}/ (metrics at /metrics), data {}, log {}",
            cluster.addr(id)?,
            metrics_addr(id),
            cluster.node_data_dir(id).display(),
            cluster.log_path(id).display()
        );
    }
    let leader = cluster.wait_for_leader(Duration::from_millis(LEADER_WAIT_MS)).await;
    let exited = cluster.exited();
    if !exited.is_empty() {
        for (id, status) in &exited {
            eprintln!("node {id} exited ({status}); see {}", cluster.log_path(*id).display());
        }
        bail!("{} of {nodes} nodes exited during start-up", exited.len());
    }
    match leader {
        Ok(id) => println!("cluster ready: leader is node {id}"),
        Err(e) => println!("cluster not ready: {e}; see the node logs"),
    }
    crate::status::run(&addrs, &cluster.client_security(), Duration::from_millis(STATUS_TIMEOUT_MS), false).await.ok();
    println!("endpoints: {}", addrs.join(","));
    println!("press Ctrl-C to stop the cluster");

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    println!("stopping...");
    for id in cluster.ids() {
        let clean = cluster.terminate(id);
        println!("node {id} {}", if clean { "stopped" } else { "killed (did not stop in time)" });
    }
    Ok(())
}
