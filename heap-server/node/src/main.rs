//! The heap-server binary: parses the configuration, sets up logging, runs the node until SIGTERM
//! or Ctrl-C.

use clap::Parser;
use heap_server::config::Args;
use heap_server::config::LogFormat;
use heap_server::config::NodeConfig;
use heap_server::member_check::Mismatch;
use heap_server::member_check::EXIT_NOT_A_MEMBER;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc malloc: a loaded leader spent about a sixth of its CPU in malloc/free
/// (many small per-request buffers freed on other threads).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

fn main() -> anyhow::Result<()> {
    let config = NodeConfig::from_args(Args::parse())?;
    let filter = EnvFilter::try_from_env("SOVEREIGN_LOG").unwrap_or_else(|_| EnvFilter::new("info,openraft=warn"));
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init(),
        LogFormat::Json => tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("heap-server")
        // After a large collection, each worker returns its freed pages when it next goes idle.
        .on_thread_park(heap_server::memory_release::on_worker_park)
        .build()?;
    let result = runtime.block_on(heap_server::node::run(config, shutdown_signal()));
    if let Err(error) = &result {
        // A restart cannot fix a node the membership does not name: a distinct status, so
        // supervisors can be told not to restart (systemd: RestartPreventExitStatus).
        if error.downcast_ref::<Mismatch>().is_some() {
            eprintln!("Error: {error:#}");
            std::process::exit(EXIT_NOT_A_MEMBER);
        }
    }
    result
}
