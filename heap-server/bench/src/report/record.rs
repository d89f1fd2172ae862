//! `Record`: one line of `results.json`, exactly `system`, `workload`, `clients`,
//! `throughput_ops_s`, `p50_ms`, `p99_ms`, `errors`, and the servers' CPU time: `server_cpu_s`,
//! `cpu_us_per_op` (both null when not measured) and `cpu_unavailable` (why, else null).

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
    /// User + system CPU seconds of the system's three server processes in the measured period.
    pub server_cpu_s: Option<f64>,
    /// `server_cpu_s` per successful request, in microseconds.
    pub cpu_us_per_op: Option<f64>,
    /// Why the CPU figures are null.
    pub cpu_unavailable: Option<String>,
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
            server_cpu_s: summary.server_cpu_s,
            cpu_us_per_op: summary.cpu_us_per_op,
            cpu_unavailable: summary.cpu_unavailable.clone(),
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
    use crate::server_cpu::ServerCpu;
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
            Summary::new(System::Sovereign, Workload::LockUpdate, 8, 8, mode, &recorder, Duration::from_secs(1))
                .with_server_cpu(ServerCpu::Measured { cpu_s: 0.002 });
        let json = results_json(&[Record::from(&summary)]).expect("serializes");
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let records = parsed.as_array().expect("an array");
        assert_eq!(records.len(), 1);
        let object = records[0].as_object().expect("an object");
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "clients",
                "cpu_unavailable",
                "cpu_us_per_op",
                "errors",
                "p50_ms",
                "p99_ms",
                "server_cpu_s",
                "system",
                "throughput_ops_s",
                "workload"
            ]
        );
        assert_eq!(object["system"], "sovereign");
        assert_eq!(object["workload"], "lock-update");
        assert_eq!(object["clients"], 8);
        assert_eq!(object["errors"], 1);
        assert!(object["throughput_ops_s"].as_f64().is_some_and(|t| (t - 1.0).abs() < 1e-9));
        // 2 ms of CPU over the one successful request.
        assert!(object["cpu_us_per_op"].as_f64().is_some_and(|us| (us - 2_000.0).abs() < 1e-6));
        assert!(object["cpu_unavailable"].is_null());
        let back: Vec<Record> = serde_json::from_str(&json).expect("round trips");
        assert_eq!(back[0], Record::from(&summary));
    }

    #[test]
    fn records_written_before_the_cpu_column_still_read() {
        let old = r#"[{"system":"etcd","workload":"put","clients":1,"throughput_ops_s":5.0,"p50_ms":1.0,"p99_ms":2.0,"errors":0}]"#;
        let records: Vec<Record> = serde_json::from_str(old).expect("the CPU fields are optional");
        assert_eq!((records[0].cpu_us_per_op, records[0].cpu_unavailable.as_deref()), (None, None));
    }
}
