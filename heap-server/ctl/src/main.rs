//! heapctl: the operator CLI for a Sovereign heap cluster (status, roots, objects, locks,
//! sessions), its credentials (`cert`, `token`) and `dev up`, which runs a local three-node
//! cluster for development, secured by default.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use clap::Subcommand;
use heap_client::ClientSecurity;
use heap_client::ClusterClient;
use heap_testkit::DEV_VALIDITY_DAYS;

mod dev;
mod failover_phases;
mod gc;
mod lock;
mod member;
mod probe;
mod root;
mod security;
mod snapshot;
mod status;

const ENDPOINTS_DEFAULT: &str = "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103";

#[derive(Debug, Parser)]
#[command(name = "heapctl", version, about = "Operate a Sovereign heap cluster")]
struct Cli {
    /// Cluster endpoints, HOST:PORT comma separated.
    #[arg(long, global = true, env = "SOVEREIGN_ENDPOINTS", default_value = ENDPOINTS_DEFAULT)]
    endpoints: String,
    /// How long a request may take, retries included.
    #[arg(long, global = true, default_value_t = 10_000)]
    timeout_ms: u64,
    /// The cluster CA's certificate (PEM): speak TLS and accept only nodes it certified.
    /// Default: ca.pem of SOVEREIGN_SECURITY_DIR or ./data/security (what `dev up` writes).
    #[arg(long, global = true, env = "SOVEREIGN_CA", value_name = "FILE")]
    ca: Option<PathBuf>,
    /// A file holding the token to send (wins over SOVEREIGN_TOKEN, which holds a token itself).
    /// Default: admin.token of SOVEREIGN_SECURITY_DIR or ./data/security.
    #[arg(long, global = true, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// No TLS and no token: only for clusters started with --insecure-plaintext (tests).
    #[arg(
        long,
        global = true,
        env = "SOVEREIGN_PLAINTEXT",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    plaintext: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Leader, term, members and per-node state.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Named roots.
    Root {
        #[command(subcommand)]
        command: RootCommand,
    },
    /// Heap objects as stored.
    Object {
        #[command(subcommand)]
        command: ObjectCommand,
    },
    /// Cluster locks.
    Lock {
        #[command(subcommand)]
        command: LockCommand,
    },
    /// Client sessions.
    Session {
        #[command(subcommand)]
        command: SessionCommand,
    },
    /// Cluster members: list, add, remove, replace (admin token).
    Member {
        #[command(subcommand)]
        command: MemberCommand,
    },
    /// The garbage collector: status, a collection cycle now, pause and resume (admin token).
    Gc {
        #[command(subcommand)]
        command: GcCommand,
    },
    /// Backups: save one from the leader (admin token), inspect a saved one.
    Snapshot {
        #[command(subcommand)]
        command: SnapshotCommand,
    },
    /// Local development cluster.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
    /// Certificates: a cluster CA and node certificates it issues.
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
    /// Client credentials (tokens with roles).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
    /// Every member with its role and replication progress, as the leader sees it.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add node ID at HOST:PORT: start it first with `heap-server --id ID --listen HOST:PORT
    /// --join ENDPOINTS ...`; it catches up as a learner, then becomes a voter.
    Add { id: u64, addr: String },
    /// Remove node ID (the leader too: it steps down).
    Remove { id: u64 },
    /// Replace voter OLD with node NEW at HOST:PORT (started with --join), in one change.
    Replace { old: u64, new: u64, addr: String },
    /// Hand leadership to voter ID (say, before maintenance on the leader's machine).
    TransferLeader { id: u64 },
}

#[derive(Debug, Subcommand)]
enum GcCommand {
    /// Objects, roots, holds and garbage on the leader, and its collector's last cycle and
    /// longest step.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Run a collection cycle (mark from roots and holds, then sweep) now; prints the status
    /// once it is done.
    Run {
        #[arg(long)]
        json: bool,
    },
    /// Pause the collector on every node (endpoints and members): nothing is freed, garbage
    /// waits until `gc resume`. Each node's own; a restarted node starts resumed.
    Pause,
    /// Resume the collector on every node; garbage that waited goes within seconds.
    Resume,
}

#[derive(Debug, Subcommand)]
enum SnapshotCommand {
    /// Save a consistent backup of the heap from the leader to FILE (atomically), verified by its
    /// SHA-256; a new cluster is seeded from it with `heap-server --restore FILE`.
    Save { file: PathBuf },
    /// Print FILE's header (index, term, time, size) after verifying its checksum.
    Inspect { file: PathBuf },
}

#[derive(Debug, Subcommand)]
enum CertCommand {
    /// Make a new cluster CA in DIR (ca.pem, and ca.key with mode 0600); never over an existing one.
    Ca {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, default_value_t = DEV_VALIDITY_DAYS)]
        days: u64,
    },
    /// Issue node ID's certificate and key (node<ID>.pem, node<ID>.key) from DIR's CA, into DIR.
    Node {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long)]
        id: u64,
        /// The host the node listens on (an IP address or a DNS name), added to its names.
        #[arg(long)]
        host: String,
        #[arg(long, default_value_t = DEV_VALIDITY_DAYS)]
        days: u64,
        /// Replace an existing certificate and key of this node (rotation).
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Make a token for credential NAME with ROLE; add its SHA-256 to FILE (the nodes' --tokens)
    /// and print the token once: it is stored nowhere else.
    New {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["read", "write", "admin"])]
        role: String,
        #[arg(long, value_name = "FILE")]
        tokens: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum RootCommand {
    /// Store a JSON document as an object graph bound to root NAME.
    Set { name: String, json: String },
    /// Print the graph bound to root NAME as JSON.
    Get { name: String },
    /// List every root and the object it is bound to.
    List,
    /// Remove root NAME; the objects only it kept alive are collected within seconds.
    Delete { name: String },
}

#[derive(Debug, Subcommand)]
enum ObjectCommand {
    /// Print object ID (and what it references, to --depth) as stored.
    Get {
        id: u64,
        #[arg(long, default_value_t = 0)]
        depth: u32,
    },
}

#[derive(Debug, Subcommand)]
enum LockCommand {
    /// Acquire lock NAME, print its fencing token, hold it for --ms, release it.
    Hold {
        name: String,
        /// Shared (read) mode instead of exclusive (write).
        #[arg(long)]
        read: bool,
        /// How long to hold the lock.
        #[arg(long)]
        ms: u64,
        /// The session's lease; the lock is freed this long after heapctl dies.
        #[arg(long, default_value_t = 5_000)]
        ttl_ms: u64,
    },
    /// Every lock with holders or waiters.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SessionCommand {
    /// Every open session.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DevCommand {
    /// Start a local cluster (heap-server processes) and stop it on Ctrl-C.
    Up {
        #[arg(long, default_value_t = 3)]
        nodes: u64,
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 7101)]
        base_port: u16,
        /// No TLS and no tokens (anyone may do anything): for tests only. Default: a CA, node
        /// certificates and tokens in DATA_DIR/security.
        #[arg(long)]
        insecure_plaintext: bool,
    },
    /// Measure: SIGKILL the leader of a fresh local cluster repeatedly; time to the first write.
    ProbeFailover {
        #[arg(long, default_value_t = 10)]
        trials: u32,
        /// Clients writing continuously through every trial (0: an idle cluster).
        #[arg(long, default_value_t = 0)]
        load_clients: u32,
        /// Extra heap-server flags, space separated, e.g. "--election-timeout-min-ms 100".
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        node_args: String,
    },
    /// Measure: uncontended lock+unlock latency, and holder death to next grant.
    ProbeLocks {
        #[arg(long, default_value_t = 1_000)]
        rounds: u32,
        #[arg(long, default_value_t = 5)]
        trials: u32,
        #[arg(long, default_value_t = 1_000)]
        ttl_ms: u64,
    },
    /// Measure: single-client durable write latency on a fresh local cluster.
    ProbeLatency {
        #[arg(long, default_value_t = 2_000)]
        writes: u32,
        #[arg(long, default_value_t = 3)]
        nodes: usize,
    },
}

fn endpoints(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|e| !e.is_empty()).map(String::from).collect()
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let endpoints = endpoints(&cli.endpoints);
    let timeout = Duration::from_millis(cli.timeout_ms);
    let flags = security::SecurityFlags { plaintext: cli.plaintext, ca: cli.ca, token_file: cli.token_file };
    match cli.command {
        Command::Cert { command: CertCommand::Ca { dir, days } } => security::cert_ca(&dir, days),
        Command::Cert { command: CertCommand::Node { dir, id, host, days, replace } } => {
            security::cert_node(&dir, id, &host, days, replace)
        }
        Command::Token { command: TokenCommand::New { name, role, tokens } } => {
            security::token_new(&name, &role, &tokens)
        }
        Command::Dev { command: DevCommand::Up { nodes, data_dir, base_port, insecure_plaintext } } => {
            dev::up(nodes, &data_dir, base_port, insecure_plaintext).await
        }
        Command::Dev { command: DevCommand::ProbeFailover { trials, load_clients, node_args } } => {
            let node_args = node_args.split_whitespace().map(str::to_string).collect();
            probe::failover(probe::FailoverProbe { trials, load_clients, node_args }).await
        }
        Command::Dev { command: DevCommand::ProbeLocks { rounds, trials, ttl_ms } } => {
            probe::locks(rounds, trials, ttl_ms).await
        }
        Command::Dev { command: DevCommand::ProbeLatency { writes, nodes } } => probe::latency(writes, nodes).await,
        Command::Snapshot { command: SnapshotCommand::Inspect { file } } => snapshot::inspect(&file),
        command => {
            let security = security::client_security(&flags)?;
            let result = run_client(command, &endpoints, &security, timeout).await;
            result.map_err(|error| security::explain_plaintext(error, &flags, &security))
        }
    }
}

/// The commands that talk to the cluster, reached as `security` says.
async fn run_client(
    command: Command,
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
) -> anyhow::Result<()> {
    let connect = || ClusterClient::connect(endpoints, security, timeout);
    match command {
        Command::Status { json } => status::run(endpoints, security, timeout, json).await,
        Command::Root { command } => {
            let client = connect()?;
            match command {
                RootCommand::Set { name, json } => root::set(&client, &name, &json).await,
                RootCommand::Get { name } => root::get(&client, &name).await,
                RootCommand::List => root::list(&client).await,
                RootCommand::Delete { name } => root::delete(&client, &name).await,
            }
        }
        Command::Lock { command } => {
            let client = connect()?;
            match command {
                LockCommand::Hold { name, read, ms, ttl_ms } => lock::hold(client, &name, read, ms, ttl_ms).await,
                LockCommand::List { json } => lock::list(&client, json).await,
            }
        }
        Command::Member { command } => match command {
            MemberCommand::List { json } => member::list(endpoints, security, timeout, json).await,
            MemberCommand::Add { id, addr } => member::add(endpoints, security, timeout, id, &addr).await,
            MemberCommand::Remove { id } => member::remove(endpoints, security, timeout, id).await,
            MemberCommand::Replace { old, new, addr } => {
                member::replace(endpoints, security, timeout, old, new, &addr).await
            }
            MemberCommand::TransferLeader { id } => member::transfer_leader(endpoints, security, timeout, id).await,
        },
        Command::Gc { command: GcCommand::Status { json } } => gc::status(endpoints, security, timeout, json).await,
        Command::Gc { command: GcCommand::Run { json } } => gc::run(endpoints, security, timeout, json).await,
        Command::Gc { command: GcCommand::Pause } => gc::pause(endpoints, security, timeout, true).await,
        Command::Gc { command: GcCommand::Resume } => gc::pause(endpoints, security, timeout, false).await,
        Command::Snapshot { command: SnapshotCommand::Save { file } } => {
            snapshot::save(endpoints, security, timeout, &file).await
        }
        Command::Session { command: SessionCommand::List { json } } => lock::sessions(&connect()?, json).await,
        Command::Object { command: ObjectCommand::Get { id, depth } } => root::object_get(&connect()?, id, depth).await,
        Command::Cert { .. }
        | Command::Token { .. }
        | Command::Dev { .. }
        | Command::Snapshot { command: SnapshotCommand::Inspect { .. } } => {
            unreachable!("run handles the commands that need no cluster")
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("heapctl: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)).context("heapctl") {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn security_flags_are_global_and_dev_up_is_secure_unless_told() {
        let cli = Cli::try_parse_from(["heapctl", "root", "list", "--ca", "c.pem", "--token-file", "t"]).unwrap();
        assert_eq!(cli.ca.as_deref(), Some(std::path::Path::new("c.pem")));
        assert_eq!(cli.token_file.as_deref(), Some(std::path::Path::new("t")));
        let cli = Cli::try_parse_from(["heapctl", "dev", "up"]).unwrap();
        assert!(matches!(cli.command, Command::Dev { command: DevCommand::Up { insecure_plaintext: false, .. } }));
        let cli = Cli::try_parse_from(["heapctl", "dev", "up", "--insecure-plaintext"]).unwrap();
        assert!(matches!(cli.command, Command::Dev { command: DevCommand::Up { insecure_plaintext: true, .. } }));
        assert!(
            Cli::try_parse_from(["heapctl", "token", "new", "--name", "a", "--role", "root", "--tokens", "f"]).is_err()
        );
        assert!(Cli::try_parse_from(["heapctl", "cert", "node", "--dir", "d", "--id", "1", "--host", "h"]).is_ok());
        assert!(Cli::try_parse_from(["heapctl", "--plaintext", "status"]).unwrap().plaintext);
    }
}
