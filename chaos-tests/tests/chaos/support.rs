//! Test support: build (or find up to date) the heap-server binary, run the chaos-tests binary
//! with a given profile, print its report, and hand back the JSON report.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Instant;

/// The runs take turns: each starts a whole cluster, and they share one network slot.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());
/// Lines of a failed run's stderr shown.
const STDERR_TAIL_LINES: usize = 60;
/// The network slot of the test runs (namespaces `sovc201-*`, 10.213.201.0/24): apart from the
/// default slot 1 of runs by hand, so a manual run does not make the tests fail as "slot busy".
const NET_SLOT: &str = "201";
/// The seed unless `SOVEREIGN_CHAOS_SEED` says otherwise: CI replays the same schedule every
/// time; set the variable to explore others.
const SEED_DEFAULT: u64 = 20_251_127;

/// A count in the JSON report (`report[section][name]`), 0 when absent.
pub fn figure(report: &serde_json::Value, section: &str, name: &str) -> u64 {
    report[section][name].as_u64().unwrap_or(0)
}

pub fn seed() -> u64 {
    std::env::var("SOVEREIGN_CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(SEED_DEFAULT)
}

/// The heap-server binary of this build profile, built first (see `heap_testkit::built_binary`).
pub fn server_binary() -> PathBuf {
    heap_testkit::server_binary_built()
}

/// Where runs keep their evidence (history, report, node logs) when they find anomalies.
pub fn history_dir() -> PathBuf {
    heap_testkit::profile_dir().parent().expect("target dir").join("chaos-history")
}

pub struct Outcome {
    pub exit_code: Option<i32>,
    pub report: serde_json::Value,
    pub seconds: f64,
}

/// Runs `chaos-tests run <args>` (one run at a time), prints its summary table to the real stdout
/// (visible in CI logs even when the test passes), and returns the exit code and JSON report.
pub fn run_chaos(name: &str, args: &[&str]) -> Outcome {
    let _turn = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let server = server_binary();
    let dir = tempfile::tempdir().expect("a temp dir");
    let json = dir.path().join("report.json");
    let stderr_path = history_dir().join(format!("{name}.stderr.log"));
    std::fs::create_dir_all(history_dir()).expect("history dir");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr log");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_chaos-tests"))
        .arg("run")
        .args(args)
        .arg("--server-bin")
        .arg(&server)
        .arg("--json")
        .arg(&json)
        .arg("--history-dir")
        .arg(history_dir())
        .args(["--net-slot", NET_SLOT])
        .stdin(Stdio::null())
        .stderr(stderr)
        .output()
        .expect("chaos-tests runs");
    let seconds = started.elapsed().as_secs_f64();
    let summary = String::from_utf8_lossy(&output.stdout);
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "\n[{name}] chaos-tests run {} ({seconds:.0} s, exit {:?}, stderr in {})\n{summary}",
        args.join(" "),
        output.status.code(),
        stderr_path.display()
    );
    let _ = stdout.flush();
    let report = match std::fs::read_to_string(&json) {
        Ok(text) => serde_json::from_str(&text).expect("the report is JSON"),
        Err(e) => {
            let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join("\n");
            panic!("no report from chaos-tests ({e}); exit {:?}; stderr ends:\n{tail}", output.status.code());
        }
    };
    Outcome { exit_code: output.status.code(), report, seconds }
}
