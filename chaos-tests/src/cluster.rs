//! `ChaosCluster`: the heap-server processes of a chaos run. Like heap-server's `LocalCluster`,
//! but each node may run behind a command prefix (`ip netns exec <namespace>`), and nodes can be
//! paused (SIGSTOP) and resumed (SIGCONT) as well as killed and restarted on their data.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::path::Path;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::ExitStatus;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use heap_client::ClusterClient;
use proto::heap as pb;

/// A status probe of one node gives up after this long.
pub const STATUS_TIMEOUT_MS: u64 = 500;
/// Poll interval while waiting for a cluster condition (each wait has its own deadline).
const POLL_INTERVAL_MS: u64 = 50;
/// Lines of a node's log quoted when it exits on its own.
pub const LOG_TAIL_LINES: usize = 30;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot start heap-server {binary} for node {id}: {error}")]
    Spawn { binary: String, id: u64, error: std::io::Error },
    #[error("cannot prepare {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("no node {0} in this cluster")]
    UnknownNode(u64),
    #[error("cannot signal node {id} ({signal}): {error}")]
    Signal { id: u64, signal: &'static str, error: String },
    #[error("no leader that a majority agrees on within {0} ms")]
    NoLeader(u64),
}

/// One node: where it listens and how it is started.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub addr: String,
    /// Words before the heap-server command line (empty: run it directly).
    pub prefix: Vec<String>,
}

pub struct ChaosCluster {
    server_binary: PathBuf,
    data_dir: PathBuf,
    nodes: BTreeMap<u64, NodeSpec>,
    extra_args: Vec<String>,
    children: BTreeMap<u64, Child>,
    paused: BTreeSet<u64>,
}

impl ChaosCluster {
    /// Nodes `1..=specs.len()`; data under `data_dir/node<ID>`, output in `data_dir/node<ID>.log`.
    pub fn new(server_binary: &Path, data_dir: &Path, specs: Vec<NodeSpec>, extra_args: Vec<String>) -> Self {
        Self {
            server_binary: server_binary.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            nodes: specs.into_iter().enumerate().map(|(i, spec)| (i as u64 + 1, spec)).collect(),
            extra_args,
            children: BTreeMap::new(),
            paused: BTreeSet::new(),
        }
    }

    pub fn ids(&self) -> Vec<u64> {
        self.nodes.keys().copied().collect()
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.nodes.values().map(|n| n.addr.clone()).collect()
    }

    pub fn log_path(&self, id: u64) -> PathBuf {
        self.data_dir.join(format!("node{id}.log"))
    }

    fn peers_flag(&self) -> String {
        self.nodes.iter().map(|(id, n)| format!("{id}={}", n.addr)).collect::<Vec<_>>().join(",")
    }

    pub fn is_running(&self, id: u64) -> bool {
        self.children.contains_key(&id)
    }

    pub fn is_paused(&self, id: u64) -> bool {
        self.paused.contains(&id)
    }

    /// Starts node `id` on its data dir (kept across restarts).
    pub fn start(&mut self, id: u64) -> Result<(), ClusterError> {
        let spec = self.nodes.get(&id).ok_or(ClusterError::UnknownNode(id))?.clone();
        let io_error = |path: &Path, error| ClusterError::Io { path: path.display().to_string(), error };
        std::fs::create_dir_all(&self.data_dir).map_err(|e| io_error(&self.data_dir, e))?;
        let log_path = self.log_path(id);
        let log = OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| io_error(&log_path, e))?;
        let log_err = log.try_clone().map_err(|e| io_error(&log_path, e))?;
        let mut command = match spec.prefix.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(&self.server_binary);
                command
            }
            None => Command::new(&self.server_binary),
        };
        let child = command
            .args(["--id", &id.to_string(), "--listen", &spec.addr, "--peers", &self.peers_flag()])
            .arg("--data-dir")
            .arg(self.data_dir.join(format!("node{id}")))
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|error| ClusterError::Spawn { binary: self.server_binary.display().to_string(), id, error })?;
        self.children.insert(id, child);
        Ok(())
    }

    pub fn start_all(&mut self) -> Result<(), ClusterError> {
        for id in self.ids() {
            if !self.is_running(id) {
                self.start(id)?;
            }
        }
        Ok(())
    }

    /// SIGKILL (a stopped process dies too); the node stays down until `start`.
    pub fn kill(&mut self, id: u64) {
        self.paused.remove(&id);
        if let Some(mut child) = self.children.remove(&id) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn kill_all(&mut self) {
        for id in self.ids() {
            self.kill(id);
        }
    }

    fn signal(&self, id: u64, signal: &'static str) -> Result<(), ClusterError> {
        let child = self.children.get(&id).ok_or(ClusterError::UnknownNode(id))?;
        let status = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .map_err(|e| ClusterError::Signal { id, signal, error: e.to_string() })?;
        if !status.success() {
            return Err(ClusterError::Signal { id, signal, error: format!("kill exited with {status}") });
        }
        Ok(())
    }

    /// SIGSTOP: the process freezes with its sockets open, as in a long GC pause or a VM stall.
    pub fn pause(&mut self, id: u64) -> Result<(), ClusterError> {
        self.signal(id, "STOP")?;
        self.paused.insert(id);
        Ok(())
    }

    pub fn resume(&mut self, id: u64) -> Result<(), ClusterError> {
        self.signal(id, "CONT")?;
        self.paused.remove(&id);
        Ok(())
    }

    /// Nodes whose process exited without being killed, with their exit status (they are
    /// forgotten: `start` brings them back).
    pub fn exited(&mut self) -> Vec<(u64, ExitStatus)> {
        let mut exited = Vec::new();
        for (id, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                exited.push((*id, status));
            }
        }
        for (id, _) in &exited {
            self.children.remove(id);
            self.paused.remove(id);
        }
        exited
    }

    /// The last lines of node `id`'s log.
    pub fn log_tail(&self, id: u64) -> String {
        let log = std::fs::read_to_string(self.log_path(id)).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
    }

    /// Node `id`'s own view, or None if it does not answer promptly.
    pub async fn status(&self, id: u64) -> Option<pb::StatusResponse> {
        let addr = self.nodes.get(&id)?.addr.clone();
        let client = ClusterClient::with_deadline(&[addr], Duration::from_millis(STATUS_TIMEOUT_MS)).ok()?;
        client.status_of(0).await.ok()
    }

    /// The node that a majority of the cluster names as leader right now (running, not paused,
    /// and claiming leadership itself), if any.
    pub async fn leader(&self) -> Option<u64> {
        let mut named: BTreeMap<u64, usize> = BTreeMap::new();
        let mut claims = BTreeSet::new();
        for id in self.children.keys().filter(|id| !self.paused.contains(id)) {
            if let Some(status) = self.status(*id).await {
                if status.leader_id != 0 {
                    *named.entry(status.leader_id).or_default() += 1;
                }
                if status.state == "Leader" {
                    claims.insert(status.node_id);
                }
            }
        }
        let majority = self.nodes.len() / 2 + 1;
        named.into_iter().find(|(id, votes)| *votes >= majority && claims.contains(id)).map(|(id, _)| id)
    }

    /// Waits (bounded) for `leader()`.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Result<u64, ClusterError> {
        let started = Instant::now();
        loop {
            if let Some(leader) = self.leader().await {
                return Ok(leader);
            }
            if started.elapsed() > timeout {
                return Err(ClusterError::NoLeader(timeout.as_millis() as u64));
            }
            tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        }
    }
}

impl Drop for ChaosCluster {
    fn drop(&mut self) {
        self.kill_all();
    }
}
