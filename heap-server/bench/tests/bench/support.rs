//! Test support: build (or find up to date) the heap-server binary next to heap-bench, and run
//! the heap-bench binary, one run at a time.

use std::path::PathBuf;
use std::process::Command;
use std::process::Output;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::OnceLock;

/// The runs take turns: each starts whole clusters.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `target/<profile>` of this test binary (`target/<profile>/deps/bench-<hash>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent().and_then(|deps| deps.parent()).expect("the test binary lives in target/<profile>/deps").to_path_buf()
}

/// The heap-server binary of this build profile, built first, where heap-bench looks for it
/// (next to its own executable).
///
/// Cargo builds another package's binaries only for that package's own tests, so the test runs
/// `cargo build -p heap-server` with the same profile and target directory (as chaos-tests does):
/// a no-op under `cargo test --workspace`, a short build under `cargo test -p heap-bench`.
pub fn server_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let profile_dir = profile_dir();
            let target_dir = profile_dir.parent().expect("target/<profile> has a parent").to_path_buf();
            let profile = profile_dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug").to_string();
            let mut command = Command::new(env!("CARGO"));
            command.args(["build", "-p", "heap-server", "--bin", "heap-server", "--target-dir"]).arg(&target_dir);
            match profile.as_str() {
                "debug" => {}
                "release" => {
                    command.arg("--release");
                }
                other => {
                    command.args(["--profile", other]);
                }
            }
            let status = command.status().expect("cargo runs");
            assert!(status.success(), "cargo build -p heap-server failed: {status}");
            let binary = profile_dir.join("heap-server");
            assert!(binary.is_file(), "{} was not built", binary.display());
            binary
        })
        .clone()
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
