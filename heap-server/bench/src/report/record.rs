//! `Record`: one line of `results.json`, exactly `system`, `workload`, `clients`,
//! `throughput_ops_s`, `p50_ms`, `p99_ms` and `errors`.

use serde::Deserialize;
use serde::Serialize;

use crate::error::BenchError;
use crate::summary::Summary;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub system: String,
    pub workload: String,
    pub clients: usize,
    pub throughput_ops_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

impl From<&Summary> for Record {
    fn from(summary: &Summary) -> Self {
        Self {
            system: summary.system.clone(),
            workload: summary.workload.clone(),
            clients: summary.clients,
            throughput_ops_s: summary.throughput_ops_s,
            p50_ms: summary.p50_ms,
            p99_ms: summary.p99_ms,
            errors: summary.errors,
        }
    }
}

/// The records as a pretty-printed JSON array.
pub fn results_json(records: &[Record]) -> Result<String, BenchError> {
    Ok(serde_json::to_string_pretty(records)? + "\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::recorder::Recorder;
    use crate::system::SecurityMode;
    use crate::system::System;
    use crate::workload::Workload;

    #[test]
    fn results_json_has_exactly_the_agreed_keys() {
        let mut recorder = Recorder::new().expect("valid bounds");
        recorder.record(Duration::from_millis(2));
        recorder.error();
        let mode = SecurityMode::TlsToken;
        let summary =
            Summary::new(System::Sovereign, Workload::LockUpdate, 8, 8, mode, &recorder, Duration::from_secs(1));
        let json = results_json(&[Record::from(&summary)]).expect("serializes");
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let records = parsed.as_array().expect("an array");
        assert_eq!(records.len(), 1);
        let object = records[0].as_object().expect("an object");
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["clients", "errors", "p50_ms", "p99_ms", "system", "throughput_ops_s", "workload"]);
        assert_eq!(object["system"], "sovereign");
        assert_eq!(object["workload"], "lock-update");
        assert_eq!(object["clients"], 8);
        assert_eq!(object["errors"], 1);
        assert!(object["throughput_ops_s"].as_f64().is_some_and(|t| (t - 1.0).abs() < 1e-9));
        let back: Vec<Record> = serde_json::from_str(&json).expect("round trips");
        assert_eq!(back[0], Record::from(&summary));
    }
}
