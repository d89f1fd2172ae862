//! Test support: build (or find up to date) the heap-server binary next to heap-bench, and run
//! the heap-bench binary, one run at a time.

use std::path::PathBuf;
use std::process::Command;
use std::process::Output;
use std::process::Stdio;
use std::sync::Mutex;

/// The runs take turns: each starts whole clusters.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The heap-server binary of this build profile, built first, where heap-bench looks for it
/// (next to its own executable): see `heap_testkit::built_binary`.
pub fn server_binary() -> PathBuf {
    heap_testkit::server_binary_built()
}

pub fn bench_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_heap-bench"))
}

/// Runs `heap-bench <args>` to completion (one run at a time) and echoes its output.
pub fn run_bench(args: &[&str]) -> Output {
    let _turn = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let output = Command::new(bench_binary()).args(args).stdin(Stdio::null()).output().expect("heap-bench runs");
    eprintln!(
        "heap-bench {} -> {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
