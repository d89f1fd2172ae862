//! The `chaos-tests` binary: `run` a chaos run against real heap-server processes and report,
//! or `check` a saved history again. Exit 0: clean; 1: anomalies found; 2: the run could not run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use chaos_tests::checker::check;
use chaos_tests::config::locate_server_binary;
use chaos_tests::config::Plant;
use chaos_tests::config::RunConfig;
use chaos_tests::evidence::write_json;
use chaos_tests::history::History;
use chaos_tests::report::OpCounts;
use chaos_tests::report::Report;
use chaos_tests::run::run;
use chaos_tests::schedule::Nemesis;
use chaos_tests::workload::Workload;
use clap::Parser;
use clap::Subcommand;

/// The snapshot interval given to heap-server unless told otherwise (entries).
const SNAPSHOT_LOGS_DEFAULT: u64 = 1_000;
/// The network slot (10.213.<slot>.0/24, namespaces `sovc<slot>-*`) unless told otherwise.
const NET_SLOT_DEFAULT: u8 = 1;

#[derive(Debug, Parser)]
#[command(name = "chaos-tests", about = "Chaos tests for a Sovereign cluster: faults, histories, checkers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a cluster, run the workloads under faults for DURATION seconds, check, report.
    Run {
        /// Cluster size: 3 or 5.
        #[arg(long, default_value_t = 3)]
        nodes: u64,
        /// Seconds of faults under load (the run takes a little longer: start, heal, check).
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// Comma-separated: kill-leader, kill-random, pause, partition, restart-all, or all.
        #[arg(long, default_value = "all")]
        nemesis: String,
        /// The seed of the fault schedule and the workers' choices (default: from the clock).
        #[arg(long)]
        seed: Option<u64>,
        /// Write the report as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Start the servers with a planted bug the checker must catch: stale-reads.
        #[arg(long)]
        plant: Option<String>,
        /// Where a run with anomalies writes its history, report and node logs.
        #[arg(long, default_value = "chaos-history")]
        history_dir: PathBuf,
        /// The heap-server binary (default: next to this executable).
        #[arg(long)]
        server_bin: Option<PathBuf>,
        /// Node data and logs (default: a temporary directory, deleted after a clean run).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Network slot for the partition nemesis: namespaces sovc<SLOT>-*, addresses 10.213.<SLOT>.0/24.
        #[arg(long, default_value_t = NET_SLOT_DEFAULT)]
        net_slot: u8,
        /// heap-server --snapshot-logs (small, so restarted nodes also catch up by snapshot).
        #[arg(long, default_value_t = SNAPSHOT_LOGS_DEFAULT)]
        snapshot_logs: u64,
        /// Run the cluster without TLS and tokens (`--insecure-plaintext`) instead of secured.
        #[arg(long)]
        plaintext: bool,
        /// Comma-separated: registers, counters, locks, users, gc, greedy-locks, or all (all but
        /// greedy-locks).
        #[arg(long, default_value = "all")]
        workload: String,
        /// heap-server --gc-cycle-interval-ms (at least 1000; the server's default when absent).
        #[arg(long)]
        gc_cycle_interval_ms: Option<u64>,
    },
    /// Check a saved history (history.jsonl of an earlier run) again.
    Check {
        history: PathBuf,
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

fn clock_seed() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
}

async fn run_command(command: Command) -> anyhow::Result<Report> {
    match command {
        Command::Run {
            nodes,
            duration,
            nemesis,
            seed,
            json,
            plant,
            history_dir,
            server_bin,
            data_dir,
            net_slot,
            snapshot_logs,
            plaintext,
            workload,
            gc_cycle_interval_ms,
        } => {
            let plant = match plant.as_deref() {
                None => None,
                Some("stale-reads") => Some(Plant::StaleReads),
                Some(other) => anyhow::bail!("unknown --plant {other:?}: the only planted bug is stale-reads"),
            };
            let config = RunConfig {
                nodes,
                duration_s: duration,
                nemeses: Nemesis::parse_list(&nemesis)?,
                seed: seed.unwrap_or_else(clock_seed),
                plant,
                server_binary: locate_server_binary(server_bin)?,
                data_dir,
                history_dir,
                net_slot,
                snapshot_logs: snapshot_logs.max(1),
                plaintext,
                workloads: Workload::parse_list(&workload)?,
                gc_cycle_interval_ms,
            };
            // On Ctrl-C or SIGTERM the run is dropped: its guards kill the nodes and delete the
            // network namespaces.
            let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("cannot listen for SIGTERM")?;
            let report = tokio::select! {
                report = run(&config) => report?,
                _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted; nodes stopped and networks removed"),
                _ = terminate.recv() => anyhow::bail!("terminated; nodes stopped and networks removed"),
            };
            if let Some(path) = json {
                write_json(&report, &path)?;
            }
            Ok(report)
        }
        Command::Check { history, json } => {
            let events = History::read_jsonl(&history)?;
            let findings = check(&events);
            let mut report = Report { ops: OpCounts::of(&events), ..Default::default() };
            report.set_findings(&findings);
            if let Some(path) = json {
                write_json(&report, &path)?;
            }
            Ok(report)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build().context("no tokio runtime") {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("chaos-tests: {e:#}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run_command(cli.command)) {
        Ok(report) => {
            print!("{report}");
            if report.clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("chaos-tests: {e:#}");
            ExitCode::from(2)
        }
    }
}
