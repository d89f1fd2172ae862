//! What a run leaves behind: the report as JSON, and for a run with anomalies its history,
//! report, fault schedule and node logs in a directory of their own.

use std::path::Path;
use std::path::PathBuf;
use std::time::SystemTime;

use heap_testkit::LocalCluster;

use crate::config::RunConfig;
use crate::config::RunError;
use crate::history::Event;
use crate::history::History;
use crate::report::Report;
use crate::schedule::Schedule;

/// Writes the history, report, schedule and node logs of a run with anomalies; returns the
/// directory (`<history dir>/seed-<seed>-<unix seconds>`).
pub fn write_evidence(
    config: &RunConfig,
    report: &Report,
    events: &[Event],
    schedule: &Schedule,
    cluster: &LocalCluster,
) -> Result<PathBuf, RunError> {
    let seconds = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let dir = config.history_dir.join(format!("seed-{}-{seconds}", config.seed));
    std::fs::create_dir_all(&dir).map_err(RunError::io(&dir))?;
    let history_path = dir.join("history.jsonl");
    History::write_jsonl(events, &history_path)
        .map_err(|e| RunError::Io { path: history_path.display().to_string(), error: std::io::Error::other(e) })?;
    write_json(report, &dir.join("report.json"))?;
    let schedule_path = dir.join("schedule.txt");
    std::fs::write(&schedule_path, schedule.to_string()).map_err(RunError::io(&schedule_path))?;
    for id in cluster.ids() {
        let target = dir.join(format!("node{id}.log"));
        let _ = std::fs::copy(cluster.log_path(id), &target);
    }
    Ok(dir)
}

/// Writes the report as pretty JSON.
pub fn write_json(report: &Report, path: &Path) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| RunError::Io { path: path.display().to_string(), error: std::io::Error::other(e) })?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(RunError::io(parent))?;
    }
    std::fs::write(path, text + "\n").map_err(RunError::io(path))
}
