//! `EtcdCluster`: a fresh three-member etcd cluster on free loopback ports, started as in
//! shared/docs/reference.md ("Running etcd side by side"); its processes are killed when it is
//! dropped, its data removed by `stop`. Plain http for clients and peers, no authentication:
//! the fair floor (`etcd_security`).

use std::fs::File;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use heap_client::ClientSecurity;
use heap_testkit::free_ports;

use crate::child_guard::log_tail;
use crate::child_guard::ChildGuard;
use crate::error::BenchError;
use crate::etcd::discover::etcd_security;
use crate::etcd::discover::leader_once;
use crate::limits::CLUSTER_START_TIMEOUT_MS;
use crate::limits::LOG_TAIL_LINES;
use crate::limits::POLL_INTERVAL_MS;
use crate::server_cpu::ServerProcesses;
use crate::system::StartedCluster;

const MEMBERS: usize = 3;

pub struct EtcdCluster {
    members: Vec<ChildGuard>,
    /// The members' process ids, in `members`' order (their CPU time is read from /proc).
    pids: Vec<u32>,
    logs: Vec<PathBuf>,
    endpoints: Vec<String>,
    dir: PathBuf,
}

fn start_error(message: String) -> BenchError {
    BenchError::Start { system: "etcd".into(), message }
}

/// The flags of member `index` (1-based), as reference.md starts them.
fn member_args(index: usize, data_dir: &Path, client_port: u16, peer_port: u16, initial_cluster: &str) -> Vec<String> {
    let client = format!("http://127.0.0.1:{client_port}");
    let peer = format!("http://127.0.0.1:{peer_port}");
    vec![
        format!("--name=infra{index}"),
        format!("--data-dir={}", data_dir.display()),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        "--initial-cluster-token=heap-bench".to_string(),
        "--initial-cluster-state=new".to_string(),
        format!("--initial-cluster={initial_cluster}"),
    ]
}

impl EtcdCluster {
    /// Starts `MEMBERS` members with fresh data under `dir` and waits for a leader.
    pub async fn start(binary: &Path, dir: &Path) -> Result<Self, BenchError> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| BenchError::io(dir, e))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| BenchError::io(dir, e))?;
        let ports = free_ports(2 * MEMBERS).map_err(|e| start_error(e.to_string()))?;
        let (client_ports, peer_ports) = ports.split_at(MEMBERS);
        let initial_cluster = peer_ports
            .iter()
            .enumerate()
            .map(|(i, port)| format!("infra{}=http://127.0.0.1:{port}", i + 1))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = Self {
            members: Vec::with_capacity(MEMBERS),
            pids: Vec::with_capacity(MEMBERS),
            logs: Vec::with_capacity(MEMBERS),
            endpoints: client_ports.iter().map(|port| format!("127.0.0.1:{port}")).collect(),
            dir: dir.to_path_buf(),
        };
        for index in 1..=MEMBERS {
            let log_path = dir.join(format!("infra{index}.log"));
            let log = File::create(&log_path).map_err(|e| BenchError::io(&log_path, e))?;
            let log_err = log.try_clone().map_err(|e| BenchError::io(&log_path, e))?;
            let args = member_args(
                index,
                &dir.join(format!("infra{index}")),
                client_ports[index - 1],
                peer_ports[index - 1],
                &initial_cluster,
            );
            let child = Command::new(binary)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log_err)
                .spawn()
                .map_err(|e| start_error(format!("cannot run {}: {e}", binary.display())))?;
            cluster.pids.push(child.id());
            cluster.members.push(ChildGuard::new(child));
            cluster.logs.push(log_path);
        }
        cluster.wait_for_leader().await?;
        Ok(cluster)
    }

    async fn wait_for_leader(&mut self) -> Result<(), BenchError> {
        let started = Instant::now();
        loop {
            let last = match leader_once(&self.endpoints).await {
                Ok(_) => return Ok(()),
                Err(last) => last,
            };
            let exited: Vec<String> = self
                .members
                .iter_mut()
                .enumerate()
                .filter_map(|(i, m)| m.exited().map(|status| format!("infra{} exited: {status}", i + 1)))
                .collect();
            if !exited.is_empty() || started.elapsed() > Duration::from_millis(CLUSTER_START_TIMEOUT_MS) {
                let mut message = format!("no leader after {} ms (last: {last})", started.elapsed().as_millis());
                for line in exited {
                    message.push_str(&format!("\n{line}"));
                }
                for log in &self.logs {
                    message.push_str(&format!("\n--- {} ---\n{}", log.display(), log_tail(log, LOG_TAIL_LINES)));
                }
                return Err(start_error(message));
            }
            tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        }
    }

    /// Kills the members and removes their data.
    pub fn stop(mut self) -> Result<(), BenchError> {
        for member in &mut self.members {
            member.kill();
        }
        std::fs::remove_dir_all(&self.dir).map_err(|e| BenchError::io(&self.dir, e))
    }
}

impl StartedCluster for EtcdCluster {
    fn endpoints(&self) -> Vec<String> {
        self.endpoints.clone()
    }

    fn client_security(&self) -> ClientSecurity {
        etcd_security()
    }

    fn check_running(&mut self) -> Result<(), BenchError> {
        let mut message = String::new();
        for (index, member) in self.members.iter_mut().enumerate() {
            if let Some(status) = member.exited() {
                let log = &self.logs[index];
                message.push_str(&format!(
                    "\ninfra{} exited: {status}\n--- {} ---\n{}",
                    index + 1,
                    log.display(),
                    log_tail(log, LOG_TAIL_LINES)
                ));
            }
        }
        if message.is_empty() {
            return Ok(());
        }
        Err(BenchError::Died { system: "etcd".into(), message })
    }

    fn server_processes(&self) -> ServerProcesses {
        ServerProcesses::Started(self.pids.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_flags_follow_the_reference_command_line() {
        let args = member_args(2, Path::new("/d/infra2"), 40001, 40002, "infra1=http://127.0.0.1:1,infra2=x");
        let joined = args.join(" ");
        for part in [
            "--name=infra2",
            "--data-dir=/d/infra2",
            "--listen-client-urls=http://127.0.0.1:40001",
            "--advertise-client-urls=http://127.0.0.1:40001",
            "--listen-peer-urls=http://127.0.0.1:40002",
            "--initial-advertise-peer-urls=http://127.0.0.1:40002",
            "--initial-cluster-state=new",
            "--initial-cluster=infra1=http://127.0.0.1:1,infra2=x",
        ] {
            assert!(joined.contains(part), "{joined} lacks {part}");
        }
    }
}
