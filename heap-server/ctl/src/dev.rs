//! `heapctl dev up`: spawns a local cluster of heap-server processes (the binary next to heapctl),
//! prints their pids and addresses and the cluster status, and stops them on Ctrl-C or SIGTERM.

use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use heap_testkit::LocalCluster;

/// Nodes a development cluster may have.
const DEV_NODES_MAX: u64 = 7;
/// How long `dev up` waits for the first leader before reporting the cluster as not ready.
const LEADER_WAIT_MS: u64 = 15_000;

pub async fn up(nodes: u64, data_dir: &Path, base_port: u16) -> anyhow::Result<()> {
    if nodes == 0 || nodes > DEV_NODES_MAX {
        bail!("--nodes must be between 1 and {DEV_NODES_MAX}");
    }
    let server = heap_testkit::locate_server_binary(None)?;
    let addrs: Vec<String> = (0..nodes).map(|i| format!("127.0.0.1:{}", u64::from(base_port) + i)).collect();
    let mut cluster = LocalCluster::new(&server, data_dir, addrs.clone(), Vec::new());
    cluster.check_ports_free()?;
    for id in cluster.ids() {
        let pid = cluster.start(id)?;
        println!(
            "node {id}: pid {pid} at {}, data {}, log {}",
            cluster.addr(id)?,
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
    crate::status::run(&addrs, Duration::from_millis(2_000), false).await.ok();
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
