//! `SovereignCluster`: a fresh three-node heap-server cluster on free loopback ports, for
//! `compare`, `memory` and `gc` (which also restart its nodes and read their pids): secured (a
//! CA, node certificates and tokens in `<dir>/security`, clients with TLS and the admin token)
//! unless asked for plaintext. Its processes die with it (LocalCluster kills
//! them on drop), its data dir, security folder included, is removed by `stop`.

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use heap_client::ClientSecurity;
use heap_testkit::free_ports;
use heap_testkit::LocalCluster;

use crate::child_guard::log_tail;
use crate::error::BenchError;
use crate::limits::CLUSTER_START_TIMEOUT_MS;
use crate::limits::LOG_TAIL_LINES;
use crate::server_cpu::ServerProcesses;
use crate::system::StartedCluster;

/// Nodes of the cluster `compare` starts.
const NODES: usize = 3;

pub struct SovereignCluster {
    cluster: LocalCluster,
    dir: PathBuf,
}

fn start_error(message: String) -> BenchError {
    BenchError::Start { system: "Sovereign".into(), message }
}

/// `explicit`, or the heap-server next to this executable (the same build's target dir).
pub fn server_binary(explicit: Option<&Path>) -> Result<PathBuf, BenchError> {
    heap_testkit::locate_server_binary(explicit).map_err(|e| start_error(format!("{e}, or pass --server-bin")))
}

impl SovereignCluster {
    /// Starts `NODES` nodes with fresh data under `dir`, secured (`LocalCluster::new_secured`) or,
    /// with `plaintext`, with `--insecure-plaintext`, and waits for a leader.
    pub async fn start(binary: &Path, dir: &Path, plaintext: bool) -> Result<Self, BenchError> {
        Self::start_with_node_args(binary, dir, plaintext, |_| Vec::new()).await
    }

    /// As `start`, node `id` also given the flags `node_args(id)` (its own `--http-listen`).
    pub async fn start_with_node_args(
        binary: &Path,
        dir: &Path,
        plaintext: bool,
        node_args: impl Fn(u64) -> Vec<String>,
    ) -> Result<Self, BenchError> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| BenchError::io(dir, e))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| BenchError::io(dir, e))?;
        let addrs = free_ports(NODES)
            .map_err(|e| start_error(e.to_string()))?
            .into_iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        // Dropped on any error below, which kills whatever nodes did start.
        let cluster = if plaintext {
            LocalCluster::new(binary, dir, addrs, Vec::new())
        } else {
            LocalCluster::new_secured(binary, dir, addrs, Vec::new())
                .map_err(|e| start_error(format!("cannot make the cluster's certificates and tokens: {e}")))?
        };
        let mut cluster = cluster.with_node_args(node_args);
        cluster.start_all().map_err(|e| start_error(e.to_string()))?;
        let mut started = Self { cluster, dir: dir.into() };
        if let Err(e) = started.cluster.wait_for_leader(Duration::from_millis(CLUSTER_START_TIMEOUT_MS)).await {
            return Err(start_error(format!("{e}{}", started.diagnosis())));
        }
        Ok(started)
    }

    /// Exited nodes and the end of every node's log.
    fn diagnosis(&mut self) -> String {
        let mut text = String::new();
        for (id, status) in self.cluster.exited() {
            text.push_str(&format!("\nnode {id} exited: {status}"));
        }
        for id in self.cluster.ids() {
            let path = self.cluster.log_path(id);
            text.push_str(&format!("\n--- {} ---\n{}", path.display(), log_tail(&path, LOG_TAIL_LINES)));
        }
        text
    }

    /// The nodes' ids (1, 2, 3: in the order of `endpoints`).
    pub fn ids(&self) -> Vec<u64> {
        self.cluster.ids()
    }

    /// The process id of every running node.
    pub fn pids(&self) -> BTreeMap<u64, u32> {
        self.cluster.ids().into_iter().filter_map(|id| self.cluster.pid(id).map(|pid| (id, pid))).collect()
    }

    pub fn node_data_dir(&self, id: u64) -> PathBuf {
        self.cluster.node_data_dir(id)
    }

    /// Stops node `id` with SIGTERM (killed if it does not exit in time) and starts it again on
    /// its data; returns its new pid and whether it had exited by itself.
    pub fn restart(&mut self, id: u64) -> Result<(u32, bool), BenchError> {
        let clean = self.cluster.terminate(id);
        let pid = self.cluster.start(id).map_err(|e| start_error(format!("node {id} did not restart: {e}")))?;
        Ok((pid, clean))
    }

    /// Waits until the running nodes agree on a leader; returns its id.
    pub async fn wait_for_leader(&mut self) -> Result<u64, BenchError> {
        match self.cluster.wait_for_leader(Duration::from_millis(CLUSTER_START_TIMEOUT_MS)).await {
            Ok(id) => Ok(id),
            Err(e) => Err(start_error(format!("{e}{}", self.diagnosis()))),
        }
    }

    /// Kills the nodes and removes their data (their logs too; a failed run keeps them).
    pub fn stop(mut self) -> Result<(), BenchError> {
        self.cluster.kill_all();
        std::fs::remove_dir_all(&self.dir).map_err(|e| BenchError::io(&self.dir, e))
    }
}

impl StartedCluster for SovereignCluster {
    fn endpoints(&self) -> Vec<String> {
        self.cluster.endpoints()
    }

    fn client_security(&self) -> ClientSecurity {
        self.cluster.client_security()
    }

    fn check_running(&mut self) -> Result<(), BenchError> {
        let exited = self.cluster.exited();
        if exited.is_empty() {
            return Ok(());
        }
        let mut message = String::new();
        for (id, status) in exited {
            let log = self.cluster.log_path(id);
            message.push_str(&format!(
                "\nnode {id} exited: {status}\n--- {} ---\n{}",
                log.display(),
                log_tail(&log, LOG_TAIL_LINES)
            ));
        }
        Err(BenchError::Died { system: "Sovereign".into(), message })
    }

    fn server_processes(&self) -> ServerProcesses {
        let pids = self.pids();
        if pids.len() == NODES {
            ServerProcesses::Started(pids.into_values().collect())
        } else {
            ServerProcesses::Unknown(format!("{} of {NODES} nodes run", pids.len()))
        }
    }
}
