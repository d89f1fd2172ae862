//! `Summary`: the outcome of one measurement (throughput, latency percentiles, errors) and how its
//! clients reached the system (`security`), its one-line rendering and its JSON form for
//! `run --json`.

use std::time::Duration;

use serde::Serialize;

use crate::recorder::Recorder;
use crate::system::SecurityMode;
use crate::system::System;
use crate::workload::Workload;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub system: String,
    pub workload: String,
    pub clients: usize,
    pub connections: usize,
    /// How the clients reached the system: `tls+token`, `plaintext`, ... (`SecurityMode`).
    pub security: String,
    /// Successful requests in the measured period.
    pub ops: u64,
    /// Failed or rejected requests in the measured period.
    pub errors: u64,
    pub elapsed_s: f64,
    /// Successful requests per second of the measured period.
    pub throughput_ops_s: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    pub fn new(
        system: System,
        workload: Workload,
        clients: usize,
        connections: usize,
        security: SecurityMode,
        recorder: &Recorder,
        elapsed: Duration,
    ) -> Self {
        let elapsed_s = elapsed.as_secs_f64();
        let ops = recorder.ok_count();
        let throughput_ops_s = if elapsed_s > 0.0 { ops as f64 / elapsed_s } else { 0.0 };
        Self {
            system: system.as_str().to_string(),
            workload: workload.as_str().to_string(),
            clients,
            connections,
            security: security.as_str().to_string(),
            ops,
            errors: recorder.errors(),
            elapsed_s,
            throughput_ops_s,
            mean_ms: recorder.mean_ms(),
            p50_ms: recorder.quantile_ms(0.50),
            p90_ms: recorder.quantile_ms(0.90),
            p99_ms: recorder.quantile_ms(0.99),
            p999_ms: recorder.quantile_ms(0.999),
            max_ms: recorder.max_ms(),
        }
    }

    /// One line for people: system, workload, clients, security mode, throughput, latencies,
    /// errors.
    pub fn line(&self) -> String {
        format!(
            "{} {} clients={} connections={} security={}: {:.0} ops/s, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms, errors {} ({} ops in {:.2} s)",
            self.system,
            self.workload,
            self.clients,
            self.connections,
            self.security,
            self.throughput_ops_s,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.errors,
            self.ops,
            self.elapsed_s
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary_of(latencies_ms: &[u64], errors: u64, elapsed: Duration) -> Summary {
        let mut recorder = Recorder::new().expect("valid bounds");
        for ms in latencies_ms {
            recorder.record(Duration::from_millis(*ms));
        }
        for _ in 0..errors {
            recorder.error();
        }
        Summary::new(System::Etcd, Workload::Put, 4, 2, SecurityMode::Plaintext, &recorder, elapsed)
    }

    #[test]
    fn throughput_counts_successes_over_the_measured_period() {
        let latencies: Vec<u64> = (1..=200).map(|i| i % 10 + 1).collect();
        let summary = summary_of(&latencies, 3, Duration::from_secs(2));
        assert_eq!(summary.ops, 200);
        assert_eq!(summary.errors, 3);
        assert!((summary.throughput_ops_s - 100.0).abs() < 1e-9);
        assert!(summary.p50_ms <= summary.p90_ms);
        assert!(summary.p90_ms <= summary.p99_ms);
        assert!(summary.p99_ms <= summary.max_ms);
        assert!((9.9..=10.1).contains(&summary.p99_ms));
    }

    #[test]
    fn line_names_everything() {
        let line = summary_of(&[1, 2, 3], 0, Duration::from_secs(1)).line();
        for part in
            ["etcd put", "clients=4", "connections=2", "security=plaintext", "3 ops/s", "p50 2.", "p99 3.", "errors 0"]
        {
            assert!(line.contains(part), "{line:?} lacks {part:?}");
        }
    }

    #[test]
    fn nothing_recorded_is_zero_not_nan() {
        let summary = summary_of(&[], 5, Duration::ZERO);
        assert_eq!(summary.throughput_ops_s, 0.0);
        assert_eq!(summary.p99_ms, 0.0);
        let json = serde_json::to_value(&summary).expect("serializes");
        assert_eq!(json["errors"], 5);
        assert_eq!(json["system"], "etcd");
        assert_eq!(json["security"], "plaintext");
    }
}
