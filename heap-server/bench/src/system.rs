//! What a system under test is to the commands: which one (`System`), one measurement of it
//! (`RunSpec`, checked against the limits), how its clients reach it (`SecurityMode`, named in
//! every result), a cluster of it that `compare` started (`StartedCluster`), and the nonce and seed that tell one measurement from another. `run` and
//! `compare` hold these and the per-system sides (`sovereign`, `etcd`) read or implement them, so
//! a system's side never imports the commands.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use heap_client::ClientSecurity;

use crate::driver::LoadPlan;
use crate::driver::Stop;
use crate::error::BenchError;
use crate::limits::CLIENTS_MAX;
use crate::limits::CONNECTIONS_DEFAULT;
use crate::limits::CONNECTIONS_MAX;
use crate::limits::DURATION_S_MAX;
use crate::limits::ENDPOINTS_MAX;
use crate::limits::OPS_MAX;
use crate::limits::STOP_GRACE_MS;
use crate::limits::WARMUP_S_MAX;
use crate::server_cpu::ServerProcesses;
use crate::workload::Workload;

/// The system a measurement runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum System {
    Sovereign,
    Etcd,
}

impl System {
    pub const ALL: [System; 2] = [System::Sovereign, System::Etcd];

    pub fn as_str(self) -> &'static str {
        match self {
            System::Sovereign => "sovereign",
            System::Etcd => "etcd",
        }
    }

    /// etcd has no locks with commit at release and no object graphs.
    pub fn supports(self, workload: Workload) -> bool {
        match self {
            System::Sovereign => true,
            System::Etcd => matches!(workload, Workload::Put | Workload::Get),
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for System {
    type Err = BenchError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        System::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| BenchError::InvalidArgument(format!("unknown system {text:?}: use sovereign or etcd")))
    }
}

/// How a measurement's clients reached the system: TLS (checked against the cluster's CA) or
/// plaintext, with or without a token on every request. Every summary and report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityMode {
    /// TLS and a token: a secured Sovereign cluster (the default).
    TlsToken,
    Tls,
    PlaintextToken,
    /// No TLS, no token: etcd always, Sovereign with `--plaintext`.
    Plaintext,
}

impl SecurityMode {
    pub fn of(security: &ClientSecurity) -> Self {
        match (security.is_tls(), security.token.is_some()) {
            (true, true) => SecurityMode::TlsToken,
            (true, false) => SecurityMode::Tls,
            (false, true) => SecurityMode::PlaintextToken,
            (false, false) => SecurityMode::Plaintext,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SecurityMode::TlsToken => "tls+token",
            SecurityMode::Tls => "tls",
            SecurityMode::PlaintextToken => "plaintext+token",
            SecurityMode::Plaintext => "plaintext",
        }
    }
}

impl fmt::Display for SecurityMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One measurement: which system, workload and load, when it stops, and how its clients reach
/// the nodes.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub system: System,
    pub endpoints: Vec<String>,
    pub workload: Workload,
    pub clients: usize,
    /// gRPC channels the clients are spread over, at most `clients`.
    pub connections: usize,
    pub stop: Stop,
    pub warmup: Duration,
    /// TLS and token for a secured Sovereign cluster; plaintext for etcd (`etcd_security`).
    pub security: ClientSecurity,
}

/// `seconds` as a duration, checked to lie in `min_exclusive..=max` (or `0..=max` when zero is
/// allowed).
pub fn seconds(name: &str, seconds: f64, max: f64, zero_allowed: bool) -> Result<Duration, BenchError> {
    let low_ok = if zero_allowed { seconds >= 0.0 } else { seconds > 0.0 };
    if !seconds.is_finite() || !low_ok || seconds > max {
        let low = if zero_allowed { "0" } else { "above 0" };
        return Err(BenchError::InvalidArgument(format!("--{name} must be {low} and at most {max} seconds")));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `clients`, checked to lie in `1..=CLIENTS_MAX`.
pub fn check_clients(clients: usize) -> Result<usize, BenchError> {
    if clients == 0 || clients > CLIENTS_MAX {
        return Err(BenchError::InvalidArgument(format!("clients must be between 1 and {CLIENTS_MAX}")));
    }
    Ok(clients)
}

/// `connections`, or `min(clients, CONNECTIONS_DEFAULT)`; never more than `clients`.
pub fn connections_for(clients: usize, connections: Option<usize>) -> Result<usize, BenchError> {
    match connections {
        Some(0) => Err(BenchError::InvalidArgument("--connections must be at least 1".into())),
        Some(c) if c > CONNECTIONS_MAX => {
            Err(BenchError::InvalidArgument(format!("--connections must be at most {CONNECTIONS_MAX}")))
        }
        Some(c) => Ok(c.min(clients)),
        None => Ok(clients.min(CONNECTIONS_DEFAULT)),
    }
}

impl RunSpec {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        system: System,
        endpoints: Vec<String>,
        workload: Workload,
        clients: usize,
        connections: Option<usize>,
        duration_s: Option<f64>,
        ops: Option<u64>,
        warmup_s: f64,
        security: ClientSecurity,
    ) -> Result<Self, BenchError> {
        if endpoints.is_empty() || endpoints.len() > ENDPOINTS_MAX {
            return Err(BenchError::InvalidArgument(format!("give 1 to {ENDPOINTS_MAX} endpoints (HOST:PORT,...)")));
        }
        if !system.supports(workload) {
            return Err(BenchError::Unsupported(workload.to_string(), system.to_string()));
        }
        let clients = check_clients(clients)?;
        let stop = match (duration_s, ops) {
            (Some(d), None) => Stop::After(seconds("duration", d, DURATION_S_MAX, false)?),
            (None, Some(n)) if (1..=OPS_MAX).contains(&n) => Stop::Ops(n),
            (None, Some(_)) => {
                return Err(BenchError::InvalidArgument(format!("--ops must be between 1 and {OPS_MAX}")))
            }
            _ => return Err(BenchError::InvalidArgument("give exactly one of --duration and --ops".into())),
        };
        Ok(Self {
            system,
            endpoints,
            workload,
            clients,
            connections: connections_for(clients, connections)?,
            stop,
            warmup: seconds("warmup", warmup_s, WARMUP_S_MAX, true)?,
            security,
        })
    }

    pub fn security_mode(&self) -> SecurityMode {
        SecurityMode::of(&self.security)
    }

    pub fn label(&self) -> String {
        format!("{} {} {} clients", self.system, self.workload, self.clients)
    }

    pub fn plan(&self) -> LoadPlan {
        LoadPlan {
            warmup: self.warmup,
            stop: self.stop,
            grace: Duration::from_millis(STOP_GRACE_MS),
            label: self.label(),
        }
    }
}

/// A cluster `compare` started.
pub trait StartedCluster {
    fn endpoints(&self) -> Vec<String>;
    /// How a client reaches the cluster (its CA and admin token, or plaintext).
    fn client_security(&self) -> ClientSecurity;
    /// Fails, naming the process and how it ended, if any of the cluster's processes exited.
    fn check_running(&mut self) -> Result<(), BenchError>;
    /// Every node's process, whose CPU time a measurement reads.
    fn server_processes(&self) -> ServerProcesses;
}

/// Distinguishes the root and lock names of one measurement from every other's.
pub fn nonce() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

/// A seed for the clients' key choices (each client adds its index).
pub fn seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    (u64::from(std::process::id()) << 32) ^ u64::from(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_names_round_trip() {
        for system in System::ALL {
            assert_eq!(system.as_str().parse::<System>().ok(), Some(system));
        }
        assert!("redis".parse::<System>().is_err());
    }

    #[test]
    fn etcd_runs_only_put_and_get() {
        assert!(System::Etcd.supports(Workload::Put));
        assert!(System::Etcd.supports(Workload::Get));
        assert!(!System::Etcd.supports(Workload::LockUpdate));
        assert!(!System::Etcd.supports(Workload::GraphRead));
        assert!(Workload::ALL.iter().all(|w| System::Sovereign.supports(*w)));
    }

    fn plain() -> ClientSecurity {
        ClientSecurity::plaintext()
    }

    #[test]
    fn the_security_mode_names_tls_and_token() {
        let ca = Some(b"a CA".to_vec());
        let token = Some("t".to_string());
        let mode = |ca_pem: &Option<Vec<u8>>, token: &Option<String>| {
            SecurityMode::of(&ClientSecurity { ca_pem: ca_pem.clone(), token: token.clone() }).to_string()
        };
        assert_eq!(mode(&ca, &token), "tls+token");
        assert_eq!(mode(&ca, &None), "tls");
        assert_eq!(mode(&None, &token), "plaintext+token");
        assert_eq!(mode(&None, &None), "plaintext");
    }

    fn spec(
        clients: usize,
        connections: Option<usize>,
        duration: Option<f64>,
        ops: Option<u64>,
    ) -> Result<RunSpec, BenchError> {
        RunSpec::new(
            System::Sovereign,
            vec!["127.0.0.1:1".into()],
            Workload::Put,
            clients,
            connections,
            duration,
            ops,
            1.0,
            ClientSecurity::plaintext(),
        )
    }

    #[test]
    fn connections_default_to_min_of_clients_and_eight() {
        assert_eq!(spec(1, None, Some(1.0), None).map(|s| s.connections).ok(), Some(1));
        assert_eq!(spec(64, None, Some(1.0), None).map(|s| s.connections).ok(), Some(8));
        assert_eq!(spec(4, Some(16), Some(1.0), None).map(|s| s.connections).ok(), Some(4));
        assert!(spec(4, Some(0), Some(1.0), None).is_err());
        assert!(spec(4, Some(CONNECTIONS_MAX + 1), Some(1.0), None).is_err());
    }

    #[test]
    fn every_bound_is_checked() {
        assert!(spec(0, None, Some(1.0), None).is_err());
        assert!(spec(CLIENTS_MAX + 1, None, Some(1.0), None).is_err());
        assert!(spec(1, None, None, None).is_err(), "neither duration nor ops");
        assert!(spec(1, None, Some(1.0), Some(5)).is_err(), "both");
        assert!(spec(1, None, Some(0.0), None).is_err());
        assert!(spec(1, None, Some(DURATION_S_MAX + 1.0), None).is_err());
        assert!(spec(1, None, Some(f64::NAN), None).is_err());
        assert!(spec(1, None, None, Some(0)).is_err());
        assert_eq!(spec(1, None, None, Some(5)).map(|s| s.stop).ok(), Some(Stop::Ops(5)));
        assert!(RunSpec::new(
            System::Etcd,
            vec!["a:1".into()],
            Workload::GraphRead,
            1,
            None,
            Some(1.0),
            None,
            0.0,
            plain()
        )
        .is_err());
        assert!(RunSpec::new(System::Etcd, Vec::new(), Workload::Put, 1, None, Some(1.0), None, 0.0, plain()).is_err());
        assert!(seconds("warmup", 0.0, WARMUP_S_MAX, true).is_ok());
        assert!(seconds("warmup", -1.0, WARMUP_S_MAX, true).is_err());
    }
}
