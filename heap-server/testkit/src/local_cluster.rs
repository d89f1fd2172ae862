//! `LocalCluster`: runs heap-server processes on loopback. It serves `heapctl dev up`, the
//! process-level tests and the failover probe, so all three start, kill and watch nodes the same way.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::Path;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use proto::heap as pb;

use heap_client::ClusterClient;

/// Poll interval while waiting for a cluster condition (each wait has its own deadline).
const POLL_INTERVAL_MS: u64 = 50;
/// A status probe of one node gives up after this long.
const STATUS_TIMEOUT_MS: u64 = 500;
/// SIGTERM waits this long for a node to exit before it is killed.
const TERMINATE_WAIT_MS: u64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot start heap-server {binary}: {error}")]
    Spawn { binary: String, error: std::io::Error },
    #[error("cannot prepare {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("no node {0} in this cluster")]
    UnknownNode(u64),
    #[error("timed out after {waited_ms} ms waiting for {what}")]
    Timeout { what: String, waited_ms: u64 },
    #[error(transparent)]
    Client(#[from] heap_client::ClientError),
}

pub struct LocalCluster {
    server_binary: PathBuf,
    data_dir: PathBuf,
    addrs: BTreeMap<u64, String>,
    extra_args: Vec<String>,
    children: BTreeMap<u64, Child>,
}

/// Picks `count` loopback ports that are free right now.
pub fn free_ports(count: usize) -> Result<Vec<u16>, ClusterError> {
    let listeners = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ClusterError::Io { path: "127.0.0.1:0".into(), error })?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ClusterError::Io { path: "127.0.0.1:0".into(), error })
}

impl LocalCluster {
    /// A cluster of nodes `1..=addrs.len()` at `addrs`, with data under `data_dir/node<ID>` and
    /// each node's output in `data_dir/node<ID>.log`. Nothing runs until `start_all`/`start`.
    pub fn new(server_binary: &Path, data_dir: &Path, addrs: Vec<String>, extra_args: Vec<String>) -> Self {
        Self {
            server_binary: server_binary.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            addrs: addrs.into_iter().enumerate().map(|(i, a)| (i as u64 + 1, a)).collect(),
            extra_args,
            children: BTreeMap::new(),
        }
    }

    pub fn peers_flag(&self) -> String {
        self.addrs.iter().map(|(id, addr)| format!("{id}={addr}")).collect::<Vec<_>>().join(",")
    }

    pub fn ids(&self) -> Vec<u64> {
        self.addrs.keys().copied().collect()
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.addrs.values().cloned().collect()
    }

    pub fn addr(&self, id: u64) -> Result<&str, ClusterError> {
        self.addrs.get(&id).map(String::as_str).ok_or(ClusterError::UnknownNode(id))
    }

    pub fn node_data_dir(&self, id: u64) -> PathBuf {
        self.data_dir.join(format!("node{id}"))
    }

    pub fn log_path(&self, id: u64) -> PathBuf {
        self.data_dir.join(format!("node{id}.log"))
    }

    pub fn is_running(&self, id: u64) -> bool {
        self.children.contains_key(&id)
    }

    /// Nodes whose process has exited since it was started, with their exit status.
    pub fn exited(&mut self) -> Vec<(u64, std::process::ExitStatus)> {
        let mut exited = Vec::new();
        for (id, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                exited.push((*id, status));
            }
        }
        for (id, _) in &exited {
            self.children.remove(id);
        }
        exited
    }

    /// Fails if any node's address is taken (another cluster may be running there).
    pub fn check_ports_free(&self) -> Result<(), ClusterError> {
        for addr in self.addrs.values() {
            std::net::TcpListener::bind(addr.as_str()).map_err(|error| ClusterError::Io {
                path: format!("{addr} (in use: is another cluster running? stop it or pick other ports)"),
                error,
            })?;
        }
        Ok(())
    }

    pub fn pid(&self, id: u64) -> Option<u32> {
        self.children.get(&id).map(Child::id)
    }

    /// Starts node `id` (on its existing data dir, if any); returns its pid.
    pub fn start(&mut self, id: u64) -> Result<u32, ClusterError> {
        let addr = self.addr(id)?.to_string();
        let peers = self.peers_flag();
        let io_error = |path: &Path, error| ClusterError::Io { path: path.display().to_string(), error };
        std::fs::create_dir_all(&self.data_dir).map_err(|e| io_error(&self.data_dir, e))?;
        let log_path = self.log_path(id);
        let log = OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| io_error(&log_path, e))?;
        let log_err = log.try_clone().map_err(|e| io_error(&log_path, e))?;
        let child = Command::new(&self.server_binary)
            .args(["--id", &id.to_string(), "--listen", &addr, "--peers", &peers])
            .arg("--data-dir")
            .arg(self.node_data_dir(id))
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|error| ClusterError::Spawn { binary: self.server_binary.display().to_string(), error })?;
        let pid = child.id();
        self.children.insert(id, child);
        Ok(pid)
    }

    pub fn start_all(&mut self) -> Result<(), ClusterError> {
        for id in self.ids() {
            self.start(id)?;
        }
        Ok(())
    }

    /// SIGKILL: the node dies at once, as in a power cut of the process.
    pub fn kill(&mut self, id: u64) {
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

    /// SIGTERM and wait (bounded) for a clean exit; returns whether it exited by itself.
    pub fn terminate(&mut self, id: u64) -> bool {
        let Some(mut child) = self.children.remove(&id) else {
            return true;
        };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(TERMINATE_WAIT_MS) {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MS));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// A client for the nodes given (all nodes when `ids` is empty).
    pub fn client(&self, deadline: Duration) -> Result<ClusterClient, ClusterError> {
        Ok(ClusterClient::with_deadline(&self.endpoints(), deadline)?)
    }

    /// The status of one node, or None if it does not answer promptly.
    pub async fn status(&self, id: u64) -> Option<pb::StatusResponse> {
        let addr = self.addrs.get(&id)?.clone();
        let client = ClusterClient::with_deadline(&[addr], Duration::from_millis(STATUS_TIMEOUT_MS)).ok()?;
        client.status_of(0).await.ok()
    }

    /// Waits until a running node is leader and every running node agrees on it.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Result<u64, ClusterError> {
        let started = Instant::now();
        loop {
            let mut statuses = Vec::new();
            for id in self.children.keys() {
                statuses.push(self.status(*id).await);
            }
            let leader = statuses.iter().flatten().find(|s| s.state == "Leader").map(|s| s.node_id);
            if let Some(leader) = leader {
                let agreed = statuses.iter().all(|s| s.as_ref().is_some_and(|s| s.leader_id == leader));
                if agreed {
                    return Ok(leader);
                }
            }
            if started.elapsed() > timeout {
                return Err(ClusterError::Timeout {
                    what: "a leader all running nodes agree on".into(),
                    waited_ms: timeout.as_millis() as u64,
                });
            }
            tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        }
    }

    /// Waits until node `id` has applied at least `index`.
    pub async fn wait_for_applied(&self, id: u64, index: u64, timeout: Duration) -> Result<(), ClusterError> {
        let started = Instant::now();
        loop {
            if self.status(id).await.is_some_and(|s| s.last_applied >= index) {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(ClusterError::Timeout {
                    what: format!("node {id} to apply index {index}"),
                    waited_ms: timeout.as_millis() as u64,
                });
            }
            tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.kill_all();
    }
}
