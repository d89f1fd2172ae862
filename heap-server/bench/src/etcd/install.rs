//! Finding the etcd binary: `--etcd-bin`, else `etcd` on PATH, else Debian's packages installed
//! with apt-get (the machine's own package manager; this needs root, as CI has).

use std::os::fd::AsFd;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::Stdio;

use crate::error::BenchError;

/// The Debian packages of etcd 3.4 (`etcd` and `etcdctl`).
const ETCD_PACKAGES: [&str; 2] = ["etcd-server", "etcd-client"];

fn start_error(message: String) -> BenchError {
    BenchError::Start { system: "etcd".into(), message }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}

/// Runs apt-get with `args`, its output on our stderr (stdout carries the results).
fn apt_get(args: &[&str]) -> bool {
    let stdout = match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => Stdio::from(fd),
        Err(_) => Stdio::null(),
    };
    Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .stdout(stdout)
        .status()
        .is_ok_and(|status| status.success())
}

/// `explicit`, or `etcd` on PATH, installing it first if it is not there.
pub fn etcd_binary(explicit: Option<&Path>) -> Result<PathBuf, BenchError> {
    if let Some(path) = explicit {
        if !path.is_file() {
            return Err(start_error(format!("{} not found (--etcd-bin)", path.display())));
        }
        return Ok(path.to_path_buf());
    }
    if let Some(path) = find_on_path("etcd") {
        return Ok(path);
    }
    let install: Vec<&str> = ["install", "-y"].into_iter().chain(ETCD_PACKAGES).collect();
    eprintln!("etcd is not on PATH: running apt-get {}", install.join(" "));
    // A machine that never ran `apt-get update` has no package lists yet: update once and retry.
    let installed = apt_get(&install) || (apt_get(&["update"]) && apt_get(&install));
    if !installed {
        return Err(start_error(format!(
            "etcd is not on PATH and `apt-get {}` failed; install etcd 3.4 (Debian: {}) or pass --etcd-bin",
            install.join(" "),
            ETCD_PACKAGES.join(" ")
        )));
    }
    find_on_path("etcd").ok_or_else(|| start_error("apt-get installed etcd, but it is not on PATH".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_program_on_path_and_not_a_missing_one() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("no-such-program-heap-bench").is_none());
    }

    #[test]
    fn an_explicit_binary_must_exist() {
        let error = etcd_binary(Some(Path::new("/nonexistent/etcd"))).expect_err("missing binary");
        assert!(error.to_string().contains("/nonexistent/etcd"), "{error}");
    }
}
