//! `ChildGuard`: a child process that is killed (SIGKILL) and reaped when the guard is dropped, on
//! every exit path: success, error, panic or Ctrl-C (the future holding it is dropped).

use std::path::Path;
use std::process::Child;

pub struct ChildGuard {
    child: Option<Child>,
}

impl ChildGuard {
    pub fn new(child: Child) -> Self {
        Self { child: Some(child) }
    }

    /// The exit status if the process has already ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last `lines` lines of the log at `path` (empty if it cannot be read), for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_kills_the_process() {
        let child = std::process::Command::new("sleep").arg("600").spawn().expect("sleep starts");
        let pid = child.id();
        let mut guard = ChildGuard::new(child);
        assert!(guard.exited().is_none(), "still running");
        drop(guard);
        // The guard reaped it: no process with that pid is ours any more.
        let alive = std::path::Path::new(&format!("/proc/{pid}/status")).exists()
            && std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with("sleep"));
        assert!(!alive, "sleep {pid} still runs");
    }

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("node.log");
        std::fs::write(&path, "a\nb\nc\nd\n").expect("writes");
        assert_eq!(log_tail(&path, 2), "c\nd");
        assert_eq!(log_tail(&dir.path().join("absent.log"), 2), "");
    }
}
