//! Where the heap-server binary is. A test runs this workspace's binaries (heap-server, heapctl)
//! as child processes, built first with the test's own profile and target directory
//! (`built_binary`); a tool run by hand (chaos-tests, heapctl, heap-bench) finds the heap-server
//! of its own build beside its executable (`locate_server_binary`).
//!
//! Cargo builds another package's binaries only for that package's own tests (`CARGO_BIN_EXE_*`
//! names only the package's own binaries) and artifact dependencies are unstable. So a test runs
//! `cargo build -p <package> --bin <bin>` with the same profile and target directory: a no-op under
//! `cargo test --workspace` (the package's own tests built it), a short build under `cargo test -p
//! <other>`, and never a stale binary after the package changed. Cargo does not hold its build
//! lock while tests run, so the nested build does not wait on the outer one.

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use crate::cluster_error::ClusterError;

/// Binaries already built by this process, by name.
static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());

/// `target/<profile>` of the running test binary (`target/<profile>/deps/<test>-<hash>`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent().and_then(|deps| deps.parent()).expect("the test binary lives in target/<profile>/deps").to_path_buf()
}

/// Binary `bin` of workspace package `package`, built (or found up to date) for this test's profile.
pub fn built_binary(package: &str, bin: &str) -> PathBuf {
    let mut built = BUILT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = built.get(bin) {
        return path.clone();
    }
    let profile_dir = profile_dir();
    let target_dir = profile_dir.parent().expect("target/<profile> has a parent").to_path_buf();
    let profile = profile_dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug").to_string();
    let mut command = Command::new(env!("CARGO"));
    command.args(["build", "-p", package, "--bin", bin, "--target-dir"]).arg(&target_dir);
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
    assert!(status.success(), "cargo build -p {package} --bin {bin} failed: {status}");
    let binary = profile_dir.join(bin);
    assert!(binary.is_file(), "{} was not built", binary.display());
    built.insert(bin.to_string(), binary.clone());
    binary
}

/// The heap-server binary of this test's profile, built first.
pub fn server_binary_built() -> PathBuf {
    built_binary("heap-server", "heap-server")
}

/// `explicit`, or the heap-server that a tool of the same build has beside it
/// (`target/<profile>/heap-server` next to `target/<profile>/<tool>`); it must exist. The one
/// lookup `heapctl dev up`, the probes, heap-bench and chaos-tests share.
pub fn locate_server_binary(explicit: Option<&Path>) -> Result<PathBuf, ClusterError> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("heap-server")))
            .unwrap_or_else(|| PathBuf::from("heap-server")),
    };
    if !path.is_file() {
        return Err(ClusterError::MissingServerBinary(path.display().to_string()));
    }
    Ok(path)
}
