//! heap-bench: `run` measures one workload against one running cluster (Sovereign or etcd);
//! `compare` starts a fresh cluster of each, measures them in turn point by point and writes the
//! results. Sovereign is reached securely: `run` finds the CA and token as `heapctl dev up` left
//! them (`ClientSecurity::discover`), `compare` starts secured clusters unless `--plaintext`.
//! `memory` and `gc` start a secured cluster of their own and measure object lifecycle: RSS and
//! disk per live object, and how fast and at what cost the collector frees what was abandoned.
//! `locks` starts one too and measures greedy cluster locks through the client library.
//! Ctrl-C or SIGTERM stops it and every process it started.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use clap::Parser;
use clap::Subcommand;
use heap_bench::collect_steps;
use heap_bench::compare;
use heap_bench::gc;
use heap_bench::locks;
use heap_bench::memory;
use heap_bench::run;
use heap_bench::CollectStepsSpec;
use heap_bench::CompareSpec;
use heap_bench::GcSpec;
use heap_bench::LifecycleSpec;
use heap_bench::LocksSpec;
use heap_bench::RunSpec;
use heap_bench::System;
use heap_bench::Workload;
use heap_bench::COMPARE_DURATION_S_DEFAULT;
use heap_bench::GARBAGE_CYCLES_DEFAULT;
use heap_bench::GC_THROUGHPUT_DURATION_S_DEFAULT;
use heap_bench::GC_THROUGHPUT_ROUNDS_DEFAULT;
use heap_bench::ITEMS_PER_TRANSACTION_DEFAULT;
use heap_bench::LOCKS_CLUSTER_OPS_DEFAULT;
use heap_bench::LOCKS_LOCAL_OPS_DEFAULT;
use heap_bench::WARMUP_S_DEFAULT;
use heap_client::ClientSecurity;

/// Exit code after Ctrl-C or SIGTERM (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

#[derive(Debug, Parser)]
#[command(name = "heap-bench", version, about = "Benchmark Sovereign side by side with etcd 3.4")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One closed-loop measurement against a running cluster (Sovereign: TLS and token found as
    /// `heapctl dev up` left them in data/security, or from SOVEREIGN_SECURITY_DIR, SOVEREIGN_CA,
    /// SOVEREIGN_TOKEN; SOVEREIGN_PLAINTEXT=1 for a plaintext cluster; etcd: plaintext).
    Run(RunArgs),
    /// Fresh Sovereign and etcd clusters, every workload at every client count, results in --out.
    Compare(CompareArgs),
    /// A fresh secured cluster: every node's RSS and data dir before, during and after creating
    /// --objects small live objects, and a follower's RSS after a restart; results-memory.json.
    Memory(LifecycleArgs),
    /// A fresh secured cluster: --objects small objects created and abandoned (time to collect,
    /// RSS and disk after), a full collection cycle over as many live ones, and put/get at 64
    /// clients with the collector idle, paused and busy; results-gc.json.
    Gc(GcArgs),
    /// No cluster: a heap of --objects live small objects built in this process, then four kinds
    /// of garbage freed as the collector frees them, every Collect apply timed (wall and thread
    /// CPU); results-collect-steps.json.
    CollectSteps(CollectStepsArgs),
    /// A fresh secured cluster: greedy cluster locks through the client library: a lock the
    /// session holds taken again (no round trip), a critical section with one change against the
    /// change alone, two clients handing a lock back and forth (the counter they increment
    /// checked), and sections at the asynchronous commit level (until another session has read
    /// them); p50/p99/mean and round trips per op in results-locks.json and results-locks.md.
    Locks(LocksArgs),
}

#[derive(Debug, Args)]
struct LocksArgs {
    /// Directory for the results (and the cluster's data while it runs, in work/).
    #[arg(long, default_value = "heap-bench-results")]
    out: PathBuf,
    /// Measured lock + unlock pairs of a lock the session holds (local, about a microsecond each).
    #[arg(long, default_value_t = LOCKS_LOCAL_OPS_DEFAULT)]
    ops: u64,
    /// Measured ops of each cluster case: sections, puts, and hand-overs.
    #[arg(long, default_value_t = LOCKS_CLUSTER_OPS_DEFAULT)]
    cluster_ops: u64,
    /// The heap-server binary (default: the one next to heap-bench).
    #[arg(long)]
    server_bin: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CollectStepsArgs {
    /// Live small objects (up to 20 million; about 1.3 GB of memory at 10 million).
    #[arg(long)]
    objects: u64,
    /// Directory for the results.
    #[arg(long, default_value = "heap-bench-results")]
    out: PathBuf,
    /// Threads spinning beside the applying one, as other processes compete on a cluster node.
    #[arg(long, default_value_t = 0)]
    competing_threads: usize,
}

#[derive(Debug, Args)]
struct LifecycleArgs {
    /// Small objects to create (up to 20 million).
    #[arg(long)]
    objects: u64,
    /// Small objects per transaction (each transaction also creates the list they go in).
    #[arg(long, default_value_t = ITEMS_PER_TRANSACTION_DEFAULT)]
    batch: usize,
    /// Directory for the results (and the cluster's data while it runs, in work/).
    #[arg(long, default_value = "heap-bench-results")]
    out: PathBuf,
    /// The heap-server binary (default: the one next to heap-bench).
    #[arg(long)]
    server_bin: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct GcArgs {
    #[command(flatten)]
    common: LifecycleArgs,
    /// Garbage cycles (two objects referencing each other) created beside the live objects
    /// before the measured collection cycle.
    #[arg(long, default_value_t = GARBAGE_CYCLES_DEFAULT)]
    garbage_cycles: u64,
    /// Seconds measured per put/get measurement (after 1 s of warm-up).
    #[arg(long, default_value_t = GC_THROUGHPUT_DURATION_S_DEFAULT)]
    duration: f64,
    /// Interleaved rounds of idle, churning paused, churning and busy measurements per
    /// workload; the summary gives their medians.
    #[arg(long, default_value_t = GC_THROUGHPUT_ROUNDS_DEFAULT)]
    rounds: usize,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// sovereign or etcd.
    #[arg(long)]
    system: System,
    /// The cluster's endpoints, HOST:PORT comma separated; requests go to the leader.
    #[arg(long, value_delimiter = ',', required = true)]
    endpoints: Vec<String>,
    /// put, get, lock-update or graph-read (etcd: put and get).
    #[arg(long)]
    workload: Workload,
    /// Closed-loop clients.
    #[arg(long)]
    clients: usize,
    /// gRPC connections the clients are spread over (default: min(clients, 8)).
    #[arg(long)]
    connections: Option<usize>,
    /// Measure for this many seconds.
    #[arg(long, required_unless_present = "ops", conflicts_with = "ops")]
    duration: Option<f64>,
    /// Measure this many requests.
    #[arg(long)]
    ops: Option<u64>,
    /// Seconds of load before measuring (not counted).
    #[arg(long, default_value_t = WARMUP_S_DEFAULT)]
    warmup: f64,
    /// Print the summary as JSON on stdout (the one-line summary then goes to stderr).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// Directory for results.json, results.md, machine.json, throughput.svg, latency.svg (and
    /// the clusters' data while they run, in work/).
    #[arg(long)]
    out: PathBuf,
    /// Client counts, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64,256,1000")]
    clients: Vec<usize>,
    /// Seconds measured per point.
    #[arg(long, default_value_t = COMPARE_DURATION_S_DEFAULT)]
    duration: f64,
    /// Seconds of warm-up per point (not counted).
    #[arg(long, default_value_t = WARMUP_S_DEFAULT)]
    warmup: f64,
    /// Workloads, comma separated (etcd runs put and get).
    #[arg(long, value_delimiter = ',', default_value = "put,get,lock-update,graph-read")]
    workloads: Vec<Workload>,
    /// gRPC connections per point (default: min(clients, 8)).
    #[arg(long)]
    connections: Option<usize>,
    /// The heap-server binary (default: the one next to heap-bench).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// The etcd binary (default: etcd on PATH, installed with apt-get if missing).
    #[arg(long)]
    etcd_bin: Option<PathBuf>,
    /// Run Sovereign without TLS and tokens (`--insecure-plaintext`), to compare with the secured
    /// default; etcd runs without TLS either way.
    #[arg(long)]
    plaintext: bool,
}

/// Runs the command given on the command line.
async fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run(args) => run_command(args).await,
        Command::Compare(args) => compare_command(args).await,
        Command::Memory(args) => {
            memory(&lifecycle_spec(args)?).await?;
            Ok(())
        }
        Command::Gc(args) => {
            let spec = GcSpec::new(lifecycle_spec(args.common)?, args.garbage_cycles, args.duration, args.rounds)?;
            gc(&spec).await?;
            Ok(())
        }
        Command::CollectSteps(args) => {
            // Synchronous and CPU-bound: run it off the runtime's workers.
            let spec =
                CollectStepsSpec { objects: args.objects, out: args.out, competing_threads: args.competing_threads };
            tokio::task::spawn_blocking(move || collect_steps(&spec)).await??;
            Ok(())
        }
        Command::Locks(args) => {
            locks(&LocksSpec::new(args.out, args.ops, args.cluster_ops, args.server_bin)?).await?;
            Ok(())
        }
    }
}

fn lifecycle_spec(args: LifecycleArgs) -> anyhow::Result<LifecycleSpec> {
    LifecycleSpec::new(args.objects, args.batch, args.out, args.server_bin)
}

/// `run`: one measurement; its summary on stdout, as a line or as JSON.
async fn run_command(args: RunArgs) -> anyhow::Result<()> {
    let security = match args.system {
        System::Sovereign => ClientSecurity::discover().context("cannot find how to reach the Sovereign cluster")?,
        System::Etcd => ClientSecurity::plaintext(),
    };
    let spec = RunSpec::new(
        args.system,
        args.endpoints,
        args.workload,
        args.clients,
        args.connections,
        args.duration,
        args.ops,
        args.warmup,
        security,
    )?;
    let summary = run(&spec).await.with_context(|| format!("{} failed", spec.label()))?;
    if args.json {
        eprintln!("{}", summary.line());
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!("{}", summary.line());
    }
    Ok(())
}

/// `compare`: both systems side by side; the table on stdout, every file in `--out`.
async fn compare_command(args: CompareArgs) -> anyhow::Result<()> {
    let spec = CompareSpec::new(
        args.out,
        args.clients,
        args.duration,
        args.warmup,
        args.workloads,
        args.connections,
        args.server_bin,
        args.etcd_bin,
        args.plaintext,
    )?;
    let outcome = compare(&spec).await?;
    println!("\n{}", outcome.markdown);
    println!("Sovereign security: {}; etcd: plaintext", spec.sovereign_security());
    println!(
        "{} points; results.json, results.md, machine.json, throughput.svg and latency.svg in {}",
        outcome.records.len(),
        spec.out.display()
    );
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, naming the signal.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::signal;
    use tokio::signal::unix::SignalKind;
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

/// The load generator shares the cores with the servers it measures: the cheaper its own
/// allocations, the more CPU is left to the systems (equally to both).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("heap-bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // On a signal the command's future is dropped, and with it every guard of a started process.
    let outcome = runtime.block_on(async {
        tokio::select! {
            result = execute(cli.command) => Some(result),
            signal = shutdown_signal() => {
                eprintln!("heap-bench: stopped by {signal}; every process it started is killed");
                None
            }
        }
    });
    match outcome {
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(e)) => {
            eprintln!("heap-bench: {e:#}");
            ExitCode::FAILURE
        }
        None => ExitCode::from(EXIT_INTERRUPTED),
    }
}
