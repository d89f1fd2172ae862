//! heapctl: the operator CLI for a Sovereign heap cluster (status, roots, objects) and `dev up`,
//! which runs a local three-node cluster for development.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use clap::Subcommand;
use heap_client::ClusterClient;

mod dev;
mod lock;
mod probe;
mod root;
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
    /// Local development cluster.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
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
    },
    /// Measure: SIGKILL the leader of a fresh local cluster repeatedly; time to the first write.
    ProbeFailover {
        #[arg(long, default_value_t = 10)]
        trials: u32,
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
    match cli.command {
        Command::Status { json } => status::run(&endpoints, timeout, json).await,
        Command::Dev { command: DevCommand::Up { nodes, data_dir, base_port } } => {
            dev::up(nodes, &data_dir, base_port).await
        }
        Command::Dev { command: DevCommand::ProbeFailover { trials } } => probe::failover(trials).await,
        Command::Dev { command: DevCommand::ProbeLocks { rounds, trials, ttl_ms } } => {
            probe::locks(rounds, trials, ttl_ms).await
        }
        Command::Dev { command: DevCommand::ProbeLatency { writes, nodes } } => probe::latency(writes, nodes).await,
        Command::Root { command } => {
            let client = ClusterClient::with_deadline(&endpoints, timeout)?;
            match command {
                RootCommand::Set { name, json } => root::set(&client, &name, &json).await,
                RootCommand::Get { name } => root::get(&client, &name).await,
                RootCommand::List => root::list(&client).await,
            }
        }
        Command::Lock { command } => {
            let client = ClusterClient::with_deadline(&endpoints, timeout)?;
            match command {
                LockCommand::Hold { name, read, ms, ttl_ms } => lock::hold(client, &name, read, ms, ttl_ms).await,
                LockCommand::List { json } => lock::list(&client, json).await,
            }
        }
        Command::Session { command: SessionCommand::List { json } } => {
            lock::sessions(&ClusterClient::with_deadline(&endpoints, timeout)?, json).await
        }
        Command::Object { command: ObjectCommand::Get { id, depth } } => {
            root::object_get(&ClusterClient::with_deadline(&endpoints, timeout)?, id, depth).await
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
