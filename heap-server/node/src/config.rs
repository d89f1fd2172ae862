//! Node configuration: command-line flags, optionally layered over a TOML config file.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use serde::Deserialize;

use crate::limits::DISK_MIN_FREE_BYTES_DEFAULT;
use crate::limits::DISK_MIN_FREE_BYTES_FLOOR;
use crate::limits::DISK_WARN_FREE_BYTES_DEFAULT;
use crate::limits::GC_CYCLE_INTERVAL_MS_DEFAULT;
use crate::limits::GC_CYCLE_INTERVAL_MS_MIN;
use crate::limits::PEERS_MAX;
use crate::limits::SNAPSHOT_SIZE_BYTES_CEILING;
use crate::limits::SNAPSHOT_SIZE_BYTES_MAX_DEFAULT;
use crate::limits::SNAPSHOT_SIZE_BYTES_MIN;

pub const HEARTBEAT_INTERVAL_MS_DEFAULT: u64 = 50;
/// A follower starts an election after the leader's lease (openraft: the election timeout's
/// maximum) plus a timeout drawn from min..max has passed without hearing from it: 300-400 ms
/// here, at least six missed heartbeats. At 300/600 that was 900-1,200 ms, nearly all of a
/// failover's median 1.07 s (`heapctl dev probe-failover` prints the phases); issue 12 asks for a
/// p99 under 500 ms. A follower that alone missed heartbeats gets no votes (the other members are
/// still inside the leader's lease), though its higher term still ends the leader's.
pub const ELECTION_TIMEOUT_MIN_MS_DEFAULT: u64 = 100;
pub const ELECTION_TIMEOUT_MAX_MS_DEFAULT: u64 = 200;
/// A snapshot is built after this many entries since the last one.
pub const SNAPSHOT_LOGS_DEFAULT: u64 = 10_000;
/// Entries kept in the log behind a snapshot, so briefly lagging followers need no snapshot.
pub const LOGS_TO_KEEP_DEFAULT: u64 = 1_000;

/// `heap-server`: one node of a Sovereign heap cluster.
#[derive(Debug, Parser)]
#[command(name = "heap-server", version, about = "One node of a Sovereign heap cluster")]
pub struct Args {
    /// TOML file with any of the settings below (flags given on the command line win).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// This node's id; must appear in --peers.
    #[arg(long)]
    pub id: Option<u64>,
    /// Address to listen on for clients and peers (default: this node's address in --peers).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Directory for the log, the state machine and snapshots.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Every member as ID=HOST:PORT, comma separated, identical on every node: forms a new
    /// cluster on first start (read at first start only; later changes go through `heapctl member`).
    #[arg(long)]
    pub peers: Option<String>,
    /// Instead of --peers: join the running cluster at these endpoints (HOST:PORT, comma
    /// separated) as a new member. Start the node, then run `heapctl member add ID HOST:PORT`.
    #[arg(long)]
    pub join: Option<String>,
    #[arg(long)]
    pub heartbeat_interval_ms: Option<u64>,
    #[arg(long)]
    pub election_timeout_min_ms: Option<u64>,
    #[arg(long)]
    pub election_timeout_max_ms: Option<u64>,
    /// Build a snapshot after this many log entries; once the snapshot is 32 MiB or more, also
    /// not before the log has grown by the snapshot's size (`snapshot_policy.rs`).
    #[arg(long)]
    pub snapshot_logs: Option<u64>,
    /// Log entries kept behind the snapshot.
    #[arg(long)]
    pub logs_to_keep: Option<u64>,
    /// Largest snapshot this node accepts from a peer, in bytes (default 1 GiB, from 1 MiB to
    /// 64 GiB): a lagging follower holds the whole stream in memory before it installs it. Keep it
    /// above the heap's snapshot size (`size_bytes` in the "snapshot built" log line), on every node.
    #[arg(long)]
    pub snapshot_size_bytes_max: Option<u64>,
    /// Log output format: text or json.
    #[arg(long)]
    pub log_format: Option<String>,
    /// The cluster CA's certificate (PEM): peers and clients must present certificates it issued.
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
    /// This node's certificate (PEM), issued by the CA for `node-<ID>.sovereign` and
    /// `cluster.sovereign` (`heapctl cert node` makes one).
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// This node's private key (PEM).
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
    /// The client token file (names, roles, SHA-256 digests; `heapctl token new` adds to it).
    #[arg(long)]
    pub tokens: Option<PathBuf>,
    /// Serve `GET /metrics` (Prometheus text) on this address; plain HTTP, so loopback or an
    /// operations network. Off unless given.
    #[arg(long)]
    pub http_listen: Option<SocketAddr>,
    /// Warn (log, `heapctl status`, metrics) when the data dir's file system has less free space
    /// than this.
    #[arg(long)]
    pub disk_warn_free_bytes: Option<u64>,
    /// Refuse new client writes when the data dir's file system has less free space than this
    /// (below --disk-warn-free-bytes; at least 16 MiB).
    #[arg(long)]
    pub disk_min_free_bytes: Option<u64>,
    /// Time between the leader's collection cycles (a mark from the roots and holds, then a
    /// sweep), which free garbage cycles; unreferenced objects go within seconds without one.
    /// Default 300000 (5 min), at least 1000. `heapctl gc run` starts one at once.
    #[arg(long)]
    pub gc_cycle_interval_ms: Option<u64>,
    /// TEST ONLY: no TLS and no authentication; anyone who reaches the port may do anything.
    /// For test clusters on a closed machine. A flag only, so no config file can turn it on.
    #[arg(long)]
    pub insecure_plaintext: bool,
    /// TEST ONLY, DANGEROUS: answer reads from this node's own state without confirming
    /// leadership, so reads may be stale (not linearizable). It exists so the chaos tests can show
    /// their checker catches stale reads; never set it on a cluster that holds data you need.
    /// Deliberately a flag only, not a config file setting, so no deployed config can turn it on.
    #[arg(long)]
    pub unsafe_stale_reads: bool,
    /// Seed this node's EMPTY --data-dir from a backup (`heapctl snapshot save`) before it
    /// starts, as a member of the new cluster --peers; give every new node the same FILE. A flag
    /// only: a config file that restores on every start would be refused on the second.
    #[arg(long, value_name = "FILE")]
    pub restore: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    id: Option<u64>,
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    peers: Option<String>,
    join: Option<String>,
    heartbeat_interval_ms: Option<u64>,
    election_timeout_min_ms: Option<u64>,
    election_timeout_max_ms: Option<u64>,
    snapshot_logs: Option<u64>,
    logs_to_keep: Option<u64>,
    snapshot_size_bytes_max: Option<u64>,
    log_format: Option<String>,
    tls_ca: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tokens: Option<PathBuf>,
    http_listen: Option<SocketAddr>,
    disk_warn_free_bytes: Option<u64>,
    disk_min_free_bytes: Option<u64>,
    gc_cycle_interval_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The files a secured node reads at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub tokens: PathBuf,
}

/// How the node guards its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityMode {
    /// TLS with node certificates, and client tokens.
    Secured(SecurityFiles),
    /// `--insecure-plaintext`: test clusters only.
    Plaintext,
}

/// The validated configuration a node runs with.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub id: u64,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `--peers`: the cluster formed on first start (empty when joining).
    pub peers: BTreeMap<u64, String>,
    /// `--join`: endpoints of the running cluster this new node joins (empty with `--peers`).
    pub join: Vec<String>,
    /// The address the other members reach this node at: its `--peers` entry, or `--listen`.
    pub advertised_addr: String,
    pub heartbeat_interval_ms: u64,
    pub election_timeout_min_ms: u64,
    pub election_timeout_max_ms: u64,
    pub snapshot_logs: u64,
    pub logs_to_keep: u64,
    /// The largest snapshot accepted from a peer (`raft_service.rs` refuses a stream past it).
    pub snapshot_size_bytes_max: u64,
    pub log_format: LogFormat,
    pub security: SecurityMode,
    /// Where `/metrics` is served, if anywhere.
    pub http_listen: Option<SocketAddr>,
    /// Free bytes on the data dir's file system below which the node warns.
    pub disk_warn_free_bytes: u64,
    /// Free bytes below which the node refuses new client writes (`disk_guard.rs`).
    pub disk_min_free_bytes: u64,
    /// Time between the leader's collection cycles (`gc/mod.rs`).
    pub gc_cycle_interval_ms: u64,
    /// TEST ONLY (`--unsafe-stale-reads`): reads skip the read-index round and the forwarding to
    /// the leader and are served from local state. Breaks linearizability on purpose.
    pub unsafe_stale_reads: bool,
    /// `--restore FILE`: the backup an empty data dir is seeded from (`restore.rs`).
    pub restore: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("missing setting --{0} (give it as a flag or in the config file)")]
    Missing(&'static str),
    #[error("invalid --peers entry {entry:?}: {reason}; expected ID=HOST:PORT,ID=HOST:PORT,...")]
    Peer { entry: String, reason: String },
    #[error("invalid setting: {0}")]
    Invalid(String),
}

/// Parses `1=127.0.0.1:7101,2=127.0.0.1:7102` into an ordered map.
pub fn parse_peers(text: &str) -> Result<BTreeMap<u64, String>, ConfigError> {
    let mut peers = BTreeMap::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let peer_error = |reason: &str| ConfigError::Peer { entry: entry.to_string(), reason: reason.to_string() };
        let (id, addr) = entry.split_once('=').ok_or_else(|| peer_error("no '='"))?;
        let id: u64 = id.trim().parse().map_err(|_| peer_error("the id is not a number"))?;
        if id == 0 {
            return Err(peer_error("node ids start at 1"));
        }
        let addr = addr.trim();
        if addr.rsplit_once(':').and_then(|(_, port)| port.parse::<u16>().ok()).is_none() {
            return Err(peer_error("the address has no valid port"));
        }
        if peers.insert(id, addr.to_string()).is_some() {
            return Err(peer_error("the id appears twice"));
        }
    }
    if peers.is_empty() {
        return Err(ConfigError::Invalid("--peers names no node".into()));
    }
    if peers.len() > PEERS_MAX {
        return Err(ConfigError::Invalid(format!("at most {PEERS_MAX} peers are supported")));
    }
    Ok(peers)
}

/// The settings of `--config FILE`, or none.
fn read_file_config(path: Option<&std::path::Path>) -> Result<FileConfig, ConfigError> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let file_error = |reason: String| ConfigError::File { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    toml::from_str::<FileConfig>(&text).map_err(|e| file_error(e.to_string()))
}

/// The peers of a new cluster, or the endpoints of a running one to join: exactly one of the two.
fn start_mode(
    peers: Option<String>,
    join: Option<String>,
) -> Result<(BTreeMap<u64, String>, Vec<String>), ConfigError> {
    match (peers, join) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid(
            "--peers and --join exclude each other: --peers forms a new cluster, --join joins a running one".into(),
        )),
        (Some(peers), None) => Ok((parse_peers(&peers)?, Vec::new())),
        (None, Some(join)) => Ok((BTreeMap::new(), parse_endpoints(&join)?)),
        (None, None) => Err(ConfigError::Invalid(
            "give --peers (every member of a new cluster) or --join (endpoints of a running cluster to join)".into(),
        )),
    }
}

/// Parses `--join`'s `HOST:PORT,HOST:PORT`.
pub fn parse_endpoints(text: &str) -> Result<Vec<String>, ConfigError> {
    let endpoints: Vec<String> = text.split(',').map(str::trim).filter(|e| !e.is_empty()).map(String::from).collect();
    if endpoints.is_empty() || endpoints.len() > PEERS_MAX {
        return Err(ConfigError::Invalid(format!(
            "--join needs 1 to {PEERS_MAX} endpoints HOST:PORT, comma separated"
        )));
    }
    if let Some(bad) = endpoints.iter().find(|e| e.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).is_none())
    {
        return Err(ConfigError::Invalid(format!("--join endpoint {bad:?} has no valid port; expected HOST:PORT")));
    }
    Ok(endpoints)
}

/// Where the node listens and the address the members reach it at: with --peers its entry there
/// (and --listen defaults to it); when joining, --listen, which is then required.
fn own_address(
    id: u64,
    peers: &BTreeMap<u64, String>,
    listen: Option<SocketAddr>,
) -> Result<(SocketAddr, String), ConfigError> {
    if peers.is_empty() {
        let listen = listen.ok_or_else(|| {
            ConfigError::Invalid(
                "a joining node needs --listen HOST:PORT (the address you give heapctl member add)".into(),
            )
        })?;
        return Ok((listen, listen.to_string()));
    }
    let own_addr = peers.get(&id).ok_or_else(|| ConfigError::Invalid(format!("--id {id} is not one of --peers")))?;
    let listen = match listen {
        Some(listen) => listen,
        None => own_addr
            .parse()
            .map_err(|_| ConfigError::Invalid(format!("give --listen: cannot listen on {own_addr:?}")))?,
    };
    Ok((listen, own_addr.clone()))
}

/// TLS and tokens from the four files, or plaintext if (and only if) asked for explicitly.
fn security_mode(args: &Args, file: &FileConfig) -> Result<SecurityMode, ConfigError> {
    let ca = args.tls_ca.clone().or_else(|| file.tls_ca.clone());
    let cert = args.tls_cert.clone().or_else(|| file.tls_cert.clone());
    let key = args.tls_key.clone().or_else(|| file.tls_key.clone());
    let tokens = args.tokens.clone().or_else(|| file.tokens.clone());
    let any_given = ca.is_some() || cert.is_some() || key.is_some() || tokens.is_some();
    match (args.insecure_plaintext, ca, cert, key, tokens) {
        (true, ..) if any_given => {
            Err(ConfigError::Invalid("--insecure-plaintext and the TLS settings exclude each other: drop one".into()))
        }
        (true, ..) => Ok(SecurityMode::Plaintext),
        (false, Some(ca), Some(cert), Some(key), Some(tokens)) => {
            Ok(SecurityMode::Secured(SecurityFiles { ca, cert, key, tokens }))
        }
        (false, ..) if any_given => Err(ConfigError::Invalid(
            "give all four of --tls-ca, --tls-cert, --tls-key and --tokens (heapctl dev up writes them \
             under data/security)"
                .into(),
        )),
        (false, ..) => Err(ConfigError::Invalid(
            "no security settings: give --tls-ca, --tls-cert, --tls-key and --tokens (see the README's \
             Security section), or --insecure-plaintext for a test cluster"
                .into(),
        )),
    }
}

/// The refusal threshold keeps a real margin and lies below the warning one, so the warning comes
/// first.
fn validate_disk_thresholds(warn_free_bytes: u64, min_free_bytes: u64) -> Result<(), ConfigError> {
    if min_free_bytes < DISK_MIN_FREE_BYTES_FLOOR {
        return Err(ConfigError::Invalid(format!(
            "--disk-min-free-bytes {min_free_bytes} is below the floor of {DISK_MIN_FREE_BYTES_FLOOR}: raise it"
        )));
    }
    if min_free_bytes >= warn_free_bytes {
        return Err(ConfigError::Invalid(format!(
            "--disk-min-free-bytes {min_free_bytes} must be below --disk-warn-free-bytes {warn_free_bytes}, so \
             the warning comes before writes are refused: lower the first or raise the second"
        )));
    }
    Ok(())
}

/// The snapshot bound must let a follower catch up (at least one chunk) and stay within what the
/// snapshot format allows.
fn validate_snapshot_size_bytes_max(size_bytes_max: u64) -> Result<(), ConfigError> {
    if (SNAPSHOT_SIZE_BYTES_MIN..=SNAPSHOT_SIZE_BYTES_CEILING).contains(&size_bytes_max) {
        return Ok(());
    }
    Err(ConfigError::Invalid(format!(
        "--snapshot-size-bytes-max {size_bytes_max}: give a value from {SNAPSHOT_SIZE_BYTES_MIN} (1 MiB) to \
         {SNAPSHOT_SIZE_BYTES_CEILING} (64 GiB), above the heap's snapshot size (default \
         {SNAPSHOT_SIZE_BYTES_MAX_DEFAULT})"
    )))
}

impl NodeConfig {
    pub fn from_args(args: Args) -> Result<Self, ConfigError> {
        let file = read_file_config(args.config.as_deref())?;
        let security = security_mode(&args, &file)?;
        let id = args.id.or(file.id).ok_or(ConfigError::Missing("id"))?;
        let (peers, join) = start_mode(args.peers.or(file.peers), args.join.or(file.join))?;
        let listen = args.listen.or(file.listen);
        let (listen, advertised_addr) = own_address(id, &peers, listen)?;
        let data_dir = args.data_dir.or(file.data_dir).ok_or(ConfigError::Missing("data-dir"))?;
        let log_format = match args.log_format.or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(ConfigError::Invalid(format!("--log-format {other:?}: use text or json"))),
        };
        let config = Self {
            id,
            listen,
            data_dir,
            peers,
            join,
            advertised_addr,
            heartbeat_interval_ms: args
                .heartbeat_interval_ms
                .or(file.heartbeat_interval_ms)
                .unwrap_or(HEARTBEAT_INTERVAL_MS_DEFAULT),
            election_timeout_min_ms: args
                .election_timeout_min_ms
                .or(file.election_timeout_min_ms)
                .unwrap_or(ELECTION_TIMEOUT_MIN_MS_DEFAULT),
            election_timeout_max_ms: args
                .election_timeout_max_ms
                .or(file.election_timeout_max_ms)
                .unwrap_or(ELECTION_TIMEOUT_MAX_MS_DEFAULT),
            snapshot_logs: args.snapshot_logs.or(file.snapshot_logs).unwrap_or(SNAPSHOT_LOGS_DEFAULT),
            logs_to_keep: args.logs_to_keep.or(file.logs_to_keep).unwrap_or(LOGS_TO_KEEP_DEFAULT),
            snapshot_size_bytes_max: args
                .snapshot_size_bytes_max
                .or(file.snapshot_size_bytes_max)
                .unwrap_or(SNAPSHOT_SIZE_BYTES_MAX_DEFAULT),
            log_format,
            security,
            http_listen: args.http_listen.or(file.http_listen),
            disk_warn_free_bytes: args
                .disk_warn_free_bytes
                .or(file.disk_warn_free_bytes)
                .unwrap_or(DISK_WARN_FREE_BYTES_DEFAULT),
            disk_min_free_bytes: args
                .disk_min_free_bytes
                .or(file.disk_min_free_bytes)
                .unwrap_or(DISK_MIN_FREE_BYTES_DEFAULT),
            gc_cycle_interval_ms: args
                .gc_cycle_interval_ms
                .or(file.gc_cycle_interval_ms)
                .unwrap_or(GC_CYCLE_INTERVAL_MS_DEFAULT),
            unsafe_stale_reads: args.unsafe_stale_reads,
            restore: args.restore,
        };
        config.validate()?;
        Ok(config)
    }

    /// The checks that span settings: Raft timing, snapshot bounds, disk thresholds.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.heartbeat_interval_ms == 0 || self.heartbeat_interval_ms >= self.election_timeout_min_ms {
            return Err(ConfigError::Invalid(
                "heartbeat interval must be above 0 and below the election timeout".into(),
            ));
        }
        if self.election_timeout_min_ms >= self.election_timeout_max_ms {
            return Err(ConfigError::Invalid("election timeout min must be below max".into()));
        }
        if self.snapshot_logs == 0 {
            return Err(ConfigError::Invalid("--snapshot-logs must be at least 1".into()));
        }
        validate_snapshot_size_bytes_max(self.snapshot_size_bytes_max)?;
        if self.gc_cycle_interval_ms < GC_CYCLE_INTERVAL_MS_MIN {
            return Err(ConfigError::Invalid(format!(
                "--gc-cycle-interval-ms {}: give at least {GC_CYCLE_INTERVAL_MS_MIN} (the default is \
                 {GC_CYCLE_INTERVAL_MS_DEFAULT})",
                self.gc_cycle_interval_ms
            )));
        }
        validate_disk_thresholds(self.disk_warn_free_bytes, self.disk_min_free_bytes)
    }

    pub fn own_addr(&self) -> &str {
        &self.advertised_addr
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_and_reject_bad_entries() {
        let peers = parse_peers("1=127.0.0.1:7101, 2=127.0.0.1:7102").unwrap();
        assert_eq!(peers.len(), 2);
        assert_eq!(peers[&2], "127.0.0.1:7102");
        for bad in ["", "1", "x=1.2.3.4:5", "0=a:1", "1=a:1,1=b:2", "1=nohost"] {
            assert!(parse_peers(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn config_file_is_layered_under_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, "id = 2\npeers = \"1=127.0.0.1:7101,2=127.0.0.1:7102\"\ndata_dir = \"/tmp/x\"\n")
            .unwrap();
        let args =
            Args::parse_from(["heap-server", "--config", path.to_str().unwrap(), "--id", "1", "--insecure-plaintext"]);
        let config = NodeConfig::from_args(args).unwrap();
        assert_eq!(config.id, 1);
        assert_eq!(config.listen.to_string(), "127.0.0.1:7101");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn a_node_joins_or_forms_a_cluster_never_both() {
        let parse = |extra: &[&str]| {
            let mut args = vec!["heap-server", "--id", "4", "--data-dir", "/tmp/x", "--insecure-plaintext"];
            args.extend_from_slice(extra);
            NodeConfig::from_args(Args::parse_from(args))
        };
        let joining = parse(&["--join", "127.0.0.1:7101, 127.0.0.1:7102", "--listen", "127.0.0.1:7104"]).unwrap();
        assert_eq!(joining.join, ["127.0.0.1:7101", "127.0.0.1:7102"]);
        assert!(joining.peers.is_empty());
        assert_eq!(joining.own_addr(), "127.0.0.1:7104");
        let no_listen = parse(&["--join", "127.0.0.1:7101"]).unwrap_err().to_string();
        assert!(no_listen.contains("--listen"), "{no_listen}");
        let both = parse(&["--join", "127.0.0.1:7101", "--peers", "4=127.0.0.1:7104"]).unwrap_err().to_string();
        assert!(both.contains("exclude"), "{both}");
        let neither = parse(&[]).unwrap_err().to_string();
        assert!(neither.contains("--join"), "{neither}");
        assert!(parse(&["--join", "nohost", "--listen", "127.0.0.1:7104"]).is_err());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod security_tests {
    use std::path::Path;

    use super::*;

    fn config(extra: &[&str]) -> Result<NodeConfig, ConfigError> {
        let mut args = vec!["heap-server", "--id", "1", "--peers", "1=127.0.0.1:7101", "--data-dir", "/tmp/x"];
        args.extend_from_slice(extra);
        NodeConfig::from_args(Args::parse_from(args))
    }

    #[test]
    fn a_node_without_security_settings_refuses_to_start() {
        let error = config(&[]).unwrap_err().to_string();
        assert!(error.contains("--insecure-plaintext"), "{error}");
    }

    #[test]
    fn plaintext_is_explicit_and_excludes_tls() {
        assert_eq!(config(&["--insecure-plaintext"]).unwrap().security, SecurityMode::Plaintext);
        assert!(config(&["--insecure-plaintext", "--tls-ca", "ca.pem"]).is_err());
    }

    #[test]
    fn tls_needs_all_four_files() {
        assert!(config(&["--tls-ca", "a", "--tls-cert", "b", "--tls-key", "c"]).is_err());
        let secured = config(&["--tls-ca", "a", "--tls-cert", "b", "--tls-key", "c", "--tokens", "d"]).unwrap();
        assert!(matches!(secured.security, SecurityMode::Secured(files) if files.tokens == Path::new("d")));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod snapshot_bound_tests {
    use super::*;

    fn config(extra: &[&str]) -> Result<NodeConfig, ConfigError> {
        let mut args = vec!["heap-server", "--id", "1", "--peers", "1=127.0.0.1:7101", "--data-dir", "/tmp/x"];
        args.push("--insecure-plaintext");
        args.extend_from_slice(extra);
        NodeConfig::from_args(Args::parse_from(args))
    }

    /// `--snapshot-size-bytes-max` defaults to 1 GiB, takes values from the floor to the ceiling
    /// (flag or file), and refuses one below the floor or above the ceiling, naming the setting.
    #[test]
    fn the_snapshot_bound_is_refused_below_the_floor_and_above_the_ceiling() {
        assert_eq!(config(&[]).unwrap().snapshot_size_bytes_max, SNAPSHOT_SIZE_BYTES_MAX_DEFAULT);
        for good in [SNAPSHOT_SIZE_BYTES_MIN, 8 << 20, SNAPSHOT_SIZE_BYTES_CEILING] {
            let config = config(&["--snapshot-size-bytes-max", &good.to_string()]).unwrap();
            assert_eq!(config.snapshot_size_bytes_max, good);
        }
        for bad in [0, SNAPSHOT_SIZE_BYTES_MIN - 1, SNAPSHOT_SIZE_BYTES_CEILING + 1, u64::MAX] {
            let error = config(&["--snapshot-size-bytes-max", &bad.to_string()]).unwrap_err().to_string();
            assert!(error.contains("--snapshot-size-bytes-max"), "{error}");
            assert!(error.contains(&SNAPSHOT_SIZE_BYTES_MIN.to_string()), "{error}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, "snapshot_size_bytes_max = 1024\n").unwrap();
        let error = config(&["--config", path.to_str().unwrap()]).unwrap_err().to_string();
        assert!(error.contains("--snapshot-size-bytes-max 1024"), "a file value is checked too: {error}");
    }
}
