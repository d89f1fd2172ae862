//! `LocalCluster`: runs heap-server processes and controls them. It serves `heapctl dev up`, the
//! failover probe, the benchmark, the process-level tests and the chaos runs, so all of them
//! start, kill, pause and watch nodes the same way. A node listens wherever its address says
//! (loopback, or an address inside a network namespace) and may run behind a launcher, words put
//! before its command line that exec it in place (`ip netns exec <namespace>`). What the nodes
//! answer (status, leader, applied index) is in `status.rs`. A cluster is plaintext
//! (`--insecure-plaintext`, for tests that check something else) unless it has a
//! `ClusterSecurity` (`with_security`, `new_secured`): then each node gets its certificate, the CA
//! and the tokens file, and clients of the cluster use the CA and the admin token.

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

use heap_client::ClientSecurity;

use crate::cluster_error::ClusterError;
use crate::cluster_security::ClusterSecurity;
use crate::cluster_security::SECURITY_DIR_NAME;
use crate::pki_error::PkiError;

/// Poll interval while waiting for a process or cluster condition (each wait has its own deadline).
pub(crate) const POLL_INTERVAL_MS: u64 = 50;
/// The node flag of a cluster without security (tests only; the node logs a warning).
const INSECURE_PLAINTEXT_FLAG: &str = "--insecure-plaintext";
/// SIGTERM waits this long for a node to exit before it is killed.
const TERMINATE_WAIT_MS: u64 = 10_000;

/// One node: where it listens and what runs it.
#[derive(Debug, Clone)]
struct Node {
    addr: String,
    /// Words before the heap-server command line (empty: run it directly).
    launcher: Vec<String>,
    /// Flags for this node only (after the cluster-wide extra arguments).
    args: Vec<String>,
    /// Added to a running cluster: starts with `--join` (the other nodes' addresses) instead of
    /// `--peers`.
    joins: bool,
}

pub struct LocalCluster {
    server_binary: PathBuf,
    data_dir: PathBuf,
    nodes: BTreeMap<u64, Node>,
    extra_args: Vec<String>,
    children: BTreeMap<u64, Child>,
    paused: BTreeSet<u64>,
    /// None: the nodes run with `--insecure-plaintext`.
    security: Option<ClusterSecurity>,
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

/// Sends `signal` (a name such as `STOP`) to process `pid` with kill(1); the error in words.
fn send_signal(pid: u32, signal: &str) -> Result<(), String> {
    let status =
        Command::new("kill").args([format!("-{signal}"), pid.to_string()]).status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("kill exited with {status}"));
    }
    Ok(())
}

impl LocalCluster {
    /// A plaintext cluster (`--insecure-plaintext`: no TLS, no tokens) of nodes
    /// `1..=addrs.len()` at `addrs`, with data under `data_dir/node<ID>` and each node's output in
    /// `data_dir/node<ID>.log`. Nothing runs until `start_all`/`start`. `with_security` or
    /// `new_secured` make it a secured one.
    pub fn new(server_binary: &Path, data_dir: &Path, addrs: Vec<String>, extra_args: Vec<String>) -> Self {
        let node =
            |(index, addr)| (index as u64 + 1, Node { addr, launcher: Vec::new(), args: Vec::new(), joins: false });
        Self {
            server_binary: server_binary.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            nodes: addrs.into_iter().enumerate().map(node).collect(),
            extra_args,
            children: BTreeMap::new(),
            paused: BTreeSet::new(),
            security: None,
        }
    }

    /// As `new`, secured by the folder `data_dir/security`: created (a CA, a certificate per
    /// node, the `admin` and `app` credentials) or, if it has a CA, reused (with certificates
    /// issued for nodes that have none), as `heapctl dev up` does on a restart.
    pub fn new_secured(
        server_binary: &Path,
        data_dir: &Path,
        addrs: Vec<String>,
        extra_args: Vec<String>,
    ) -> Result<Self, ClusterError> {
        let cluster = Self::new(server_binary, data_dir, addrs, extra_args);
        let nodes: Vec<(u64, String)> = cluster.nodes.iter().map(|(id, node)| (*id, node.addr.clone())).collect();
        let security = ClusterSecurity::open_or_create(&data_dir.join(SECURITY_DIR_NAME), &nodes)?;
        Ok(cluster.with_security(security))
    }

    /// Starts the nodes with `security`'s certificates, CA and tokens instead of
    /// `--insecure-plaintext`, and makes this cluster's clients use its CA and admin token.
    pub fn with_security(mut self, security: ClusterSecurity) -> Self {
        self.security = Some(security);
        self
    }

    /// The security folder, if the cluster is secured.
    pub fn security(&self) -> Option<&ClusterSecurity> {
        self.security.as_ref()
    }

    /// How a client of this cluster connects: the CA and admin token of a secured cluster,
    /// plaintext otherwise.
    pub fn client_security(&self) -> ClientSecurity {
        match &self.security {
            Some(security) => security.admin_client_security().clone(),
            None => ClientSecurity::plaintext(),
        }
    }

    /// heapctl's flags to reach this cluster as its admin: `--ca FILE --token-file FILE`, or
    /// `--plaintext` (for tests and probes that run heapctl against it).
    pub fn heapctl_security_flags(&self) -> Vec<String> {
        match &self.security {
            Some(security) => vec![
                "--ca".to_string(),
                security.ca_file().display().to_string(),
                "--token-file".to_string(),
                security.admin_token_file().display().to_string(),
            ],
            None => vec!["--plaintext".to_string()],
        }
    }

    /// The security flags of node `id`: its certificate, key, the CA and tokens, or
    /// `--insecure-plaintext`.
    fn security_flags(&self, id: u64) -> Result<Vec<String>, ClusterError> {
        let Some(security) = &self.security else {
            return Ok(vec![INSECURE_PLAINTEXT_FLAG.to_string()]);
        };
        if !security.node_cert_file(id).is_file() || !security.node_key_file(id).is_file() {
            return Err(PkiError::UnknownNode(id).into());
        }
        Ok(security.node_flags(id))
    }

    /// Runs node `id` behind `launcher(id)`: words put before the heap-server command line, which
    /// must exec it in place (as `ip netns exec <namespace>` does) so the pid stays heap-server's.
    pub fn with_launcher(mut self, launcher: impl Fn(u64) -> Vec<String>) -> Self {
        for (id, node) in &mut self.nodes {
            node.launcher = launcher(*id);
        }
        self
    }

    /// Gives node `id` the flags `args(id)` besides the cluster-wide ones (e.g. its own
    /// `--http-listen`).
    pub fn with_node_args(mut self, args: impl Fn(u64) -> Vec<String>) -> Self {
        for (id, node) in &mut self.nodes {
            node.args = args(*id);
        }
        self
    }

    /// Registers node `id` at `addr` to join the running cluster (`--join`; the caller then adds
    /// it with the Admin service or `heapctl member add`), with the cluster-wide flags and
    /// `args`; issues its certificate on a secured cluster. Nothing runs until `start(id)`.
    pub fn add_joining_node(&mut self, id: u64, addr: &str, args: Vec<String>) -> Result<(), ClusterError> {
        if let Some(security) = &self.security {
            security.issue_missing_node_certs(&[(id, addr.to_string())])?;
        }
        let node = Node { addr: addr.to_string(), launcher: Vec::new(), args, joins: true };
        self.nodes.insert(id, node);
        Ok(())
    }

    /// Runs node `id` behind `launcher` (as `with_launcher` does for the starting nodes): for a
    /// node added to a cluster whose nodes run in network namespaces.
    pub fn set_node_launcher(&mut self, id: u64, launcher: Vec<String>) -> Result<(), ClusterError> {
        let node = self.nodes.get_mut(&id).ok_or(ClusterError::UnknownNode(id))?;
        node.launcher = launcher;
        Ok(())
    }

    /// Kills node `id` (if it runs) and forgets it: after it left the membership.
    pub fn forget_node(&mut self, id: u64) {
        self.kill(id);
        self.nodes.remove(&id);
    }

    /// How node `id` finds its cluster: `--peers` of every node, or `--join` the others.
    fn membership_flags(&self, id: u64, node: &Node) -> Vec<String> {
        if node.joins {
            let others: Vec<String> =
                self.nodes.iter().filter(|(other, _)| **other != id).map(|(_, n)| n.addr.clone()).collect();
            return vec!["--join".to_string(), others.join(",")];
        }
        vec!["--peers".to_string(), self.peers_flag()]
    }

    fn peers_flag(&self) -> String {
        self.nodes.iter().map(|(id, node)| format!("{id}={}", node.addr)).collect::<Vec<_>>().join(",")
    }

    pub fn ids(&self) -> Vec<u64> {
        self.nodes.keys().copied().collect()
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.nodes.values().map(|node| node.addr.clone()).collect()
    }

    pub fn addr(&self, id: u64) -> Result<&str, ClusterError> {
        self.nodes.get(&id).map(|node| node.addr.as_str()).ok_or(ClusterError::UnknownNode(id))
    }

    pub fn node_data_dir(&self, id: u64) -> PathBuf {
        self.data_dir.join(format!("node{id}"))
    }

    pub fn log_path(&self, id: u64) -> PathBuf {
        self.data_dir.join(format!("node{id}.log"))
    }

    /// The last `lines_max` lines of node `id`'s log (empty if it has none).
    pub fn log_tail(&self, id: u64, lines_max: usize) -> String {
        let log = std::fs::read_to_string(self.log_path(id)).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(lines_max)..].join("\n")
    }

    /// The process id of running node `id` (for its memory or file descriptors in /proc).
    pub fn pid(&self, id: u64) -> Option<u32> {
        self.children.get(&id).map(Child::id)
    }

    pub fn is_running(&self, id: u64) -> bool {
        self.children.contains_key(&id)
    }

    pub fn is_paused(&self, id: u64) -> bool {
        self.paused.contains(&id)
    }

    /// Nodes started and not paused: the ones that can answer.
    pub(crate) fn responsive_ids(&self) -> Vec<u64> {
        self.children.keys().copied().filter(|id| !self.paused.contains(id)).collect()
    }

    /// Fails if any node's address is taken (another cluster may be running there).
    pub fn check_ports_free(&self) -> Result<(), ClusterError> {
        for node in self.nodes.values() {
            let addr = node.addr.as_str();
            std::net::TcpListener::bind(addr).map_err(|error| ClusterError::Io {
                path: format!("{addr} (in use: is another cluster running? stop it or pick other ports)"),
                error,
            })?;
        }
        Ok(())
    }

    /// Starts node `id` on its data dir (kept across restarts, so a restart recovers its state);
    /// returns its pid.
    pub fn start(&mut self, id: u64) -> Result<u32, ClusterError> {
        let node = self.nodes.get(&id).ok_or(ClusterError::UnknownNode(id))?.clone();
        let security_flags = self.security_flags(id)?;
        let io_error = |path: &Path, error| ClusterError::Io { path: path.display().to_string(), error };
        std::fs::create_dir_all(&self.data_dir).map_err(|e| io_error(&self.data_dir, e))?;
        let log_path = self.log_path(id);
        let log = OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| io_error(&log_path, e))?;
        let log_err = log.try_clone().map_err(|e| io_error(&log_path, e))?;
        let mut command = match node.launcher.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(&self.server_binary);
                command
            }
            None => Command::new(&self.server_binary),
        };
        let child = command
            .args(["--id", &id.to_string(), "--listen", &node.addr])
            .args(self.membership_flags(id, &node))
            .arg("--data-dir")
            .arg(self.node_data_dir(id))
            .args(&security_flags)
            .args(&self.extra_args)
            .args(&node.args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|error| ClusterError::Spawn { binary: self.server_binary.display().to_string(), id, error })?;
        let pid = child.id();
        self.children.insert(id, child);
        Ok(pid)
    }

    /// Starts every node that is not running.
    pub fn start_all(&mut self) -> Result<(), ClusterError> {
        for id in self.ids() {
            if !self.is_running(id) {
                self.start(id)?;
            }
        }
        Ok(())
    }

    /// SIGKILL: the node dies at once, as in a power cut of the process (a paused one too); it
    /// stays down until `start`.
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

    /// SIGTERM and wait (bounded) for a clean exit; returns whether it exited by itself.
    pub fn terminate(&mut self, id: u64) -> bool {
        self.paused.remove(&id);
        let Some(mut child) = self.children.remove(&id) else {
            return true;
        };
        let _ = send_signal(child.id(), "TERM");
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

    /// Sends `signal` to running node `id`.
    fn signal(&self, id: u64, signal: &'static str) -> Result<(), ClusterError> {
        let child = self.children.get(&id).ok_or(ClusterError::UnknownNode(id))?;
        send_signal(child.id(), signal).map_err(|error| ClusterError::Signal { id, signal, error })
    }

    /// SIGSTOP: the process freezes with its sockets open, as in a long GC pause or a VM stall.
    pub fn pause(&mut self, id: u64) -> Result<(), ClusterError> {
        self.signal(id, "STOP")?;
        self.paused.insert(id);
        Ok(())
    }

    /// SIGCONT: a paused node goes on where it stopped.
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
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.kill_all();
    }
}
