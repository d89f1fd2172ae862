//! What a chaos run is asked to do (`RunConfig`, checked by `validate`), the planted bug it may
//! start the servers with, whether the cluster is secured, the workloads and collector pace, the
//! heap-server binary it runs, and what can stop a run (`RunError`).

use std::path::Path;
use std::path::PathBuf;

use heap_testkit::ClusterError;

use crate::nemesis::NemesisError;
use crate::netns::NetError;
use crate::schedule::Nemesis;
use crate::workload::Workload;
use crate::workload::WorkloadError;

/// Longest run accepted (a day).
pub const DURATION_S_MAX: u64 = 24 * 3600;
/// The report's names of the two ways a cluster runs (`RunConfig::security_mode`).
pub const SECURITY_TLS_TOKEN: &str = "tls+token";
pub const SECURITY_PLAINTEXT: &str = "plaintext";
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

impl RunError {
    /// Turns an I/O error on `path` into `RunError::Io` (for `map_err`).
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
        move |error| RunError::Io { path: path.display().to_string(), error }
    }
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
    /// Nodes with `--insecure-plaintext` and plaintext clients; false (the default): a secured
    /// cluster (a CA and node certificates in `<data dir>/security`, clients with TLS and the
    /// admin token), as users run it.
    pub plaintext: bool,
    /// The workloads whose workers run (every workload's objects exist regardless).
    pub workloads: Vec<Workload>,
    /// heap-server `--gc-cycle-interval-ms` (its default, 60 s, when None): 1000 lets the gc
    /// workload's detached cycles be collected within its runs.
    pub gc_cycle_interval_ms: Option<u64>,
}

impl RunConfig {
    /// Refuses node counts and durations outside the accepted bounds.
    pub fn validate(&self) -> Result<(), RunError> {
        if !(NODES_MIN..=NODES_MAX).contains(&self.nodes) {
            return Err(RunError::Nodes(self.nodes));
        }
        if !(1..=DURATION_S_MAX).contains(&self.duration_s) {
            return Err(RunError::Duration(self.duration_s));
        }
        Ok(())
    }

    /// The report's name for how the cluster ran: `tls+token` (secured) or `plaintext`.
    pub fn security_mode(&self) -> &'static str {
        if self.plaintext {
            SECURITY_PLAINTEXT
        } else {
            SECURITY_TLS_TOKEN
        }
    }

    /// heap-server flags of every node: the snapshot interval and log retention, the collector's
    /// cycle interval if given, and the planted bug if any (the security flags are `LocalCluster`'s).
    pub fn server_args(&self) -> Vec<String> {
        let mut args = vec![
            "--snapshot-logs".to_string(),
            self.snapshot_logs.to_string(),
            "--logs-to-keep".to_string(),
            (self.snapshot_logs / 10).to_string(),
        ];
        if let Some(interval_ms) = self.gc_cycle_interval_ms {
            args.push("--gc-cycle-interval-ms".into());
            args.push(interval_ms.to_string());
        }
        if self.plant == Some(Plant::StaleReads) {
            args.push("--unsafe-stale-reads".into());
        }
        args
    }
}

/// `explicit`, or the heap-server next to this executable (`target/<profile>/heap-server`); it
/// must exist.
pub fn locate_server_binary(explicit: Option<PathBuf>) -> Result<PathBuf, RunError> {
    heap_testkit::locate_server_binary(explicit.as_deref()).map_err(|e| match e {
        // Name the path that was looked at, with chaos-tests' own advice (--server-bin, profiles).
        heap_testkit::ClusterError::MissingServerBinary(path) => RunError::ServerBinary(path),
        other => RunError::ServerBinary(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(plaintext: bool) -> RunConfig {
        RunConfig {
            nodes: 3,
            duration_s: 1,
            nemeses: Vec::new(),
            seed: 1,
            plant: None,
            server_binary: PathBuf::from("heap-server"),
            data_dir: None,
            history_dir: PathBuf::from("chaos-history"),
            net_slot: 1,
            snapshot_logs: 1_000,
            plaintext,
            workloads: Workload::ALL.to_vec(),
            gc_cycle_interval_ms: None,
        }
    }

    #[test]
    fn the_cluster_is_secured_unless_plaintext_is_asked_for() {
        assert_eq!(config(false).security_mode(), SECURITY_TLS_TOKEN);
        assert_eq!(config(true).security_mode(), SECURITY_PLAINTEXT);
        let args = config(false).server_args();
        assert!(
            !args.iter().any(|a| a.contains("plaintext") || a.starts_with("--tls")),
            "security flags are LocalCluster's: {args:?}"
        );
    }

    #[test]
    fn the_collector_pace_is_passed_on_when_given() {
        assert!(!config(false).server_args().iter().any(|a| a.starts_with("--gc")));
        let paced = RunConfig { gc_cycle_interval_ms: Some(1_000), ..config(false) };
        let args = paced.server_args();
        let at = args.iter().position(|a| a == "--gc-cycle-interval-ms").expect("the flag is there");
        assert_eq!(args[at + 1], "1000");
    }
}
