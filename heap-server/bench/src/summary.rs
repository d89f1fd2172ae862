//! `Summary`: the outcome of one measurement (throughput, latency percentiles, errors, the
//! servers' CPU time per operation) and how its clients reached the system (`security`), its
//! one-line rendering and its JSON form for `run --json`.

use std::time::Duration;

use serde::Serialize;

use crate::recorder::Recorder;
use crate::server_cpu::cpu_us_per_op;
use crate::server_cpu::ServerCpu;
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
    /// User + system CPU seconds of every server process together in the measured period;
    /// `None` when not measured (`cpu_unavailable` says why).
    pub server_cpu_s: Option<f64>,
    /// `server_cpu_s` over `ops`, in microseconds: "CPU us/op".
    pub cpu_us_per_op: Option<f64>,
    /// Why `cpu_us_per_op` is `None`; `None` when it was measured.
    pub cpu_unavailable: Option<String>,
}

/// The reason a summary gives before `with_server_cpu` says otherwise.
const CPU_NOT_MEASURED: &str = "the servers' CPU time was not measured";

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
            server_cpu_s: None,
            cpu_us_per_op: None,
            cpu_unavailable: Some(CPU_NOT_MEASURED.to_string()),
        }
    }

    /// The servers' CPU time over the measured period, and per successful request in it.
    pub fn with_server_cpu(mut self, cpu: ServerCpu) -> Self {
        match cpu {
            ServerCpu::Measured { cpu_s } => {
                self.server_cpu_s = Some(cpu_s);
                self.cpu_us_per_op = cpu_us_per_op(cpu_s, self.ops);
                self.cpu_unavailable =
                    self.cpu_us_per_op.is_none().then(|| "no request succeeded in the measured period".to_string());
            }
            ServerCpu::Unavailable(reason) => {
                self.server_cpu_s = None;
                self.cpu_us_per_op = None;
                self.cpu_unavailable = Some(reason);
            }
        }
        self
    }

    /// "CPU 512.3 us/op", or "CPU n/a (why)".
    fn cpu_text(&self) -> String {
        match (self.cpu_us_per_op, &self.cpu_unavailable) {
            (Some(us), _) => format!("CPU {us:.1} us/op"),
            (None, Some(reason)) => format!("CPU n/a ({reason})"),
            (None, None) => "CPU n/a".to_string(),
        }
    }

    /// One line for people: system, workload, clients, security mode, throughput, latencies,
    /// the servers' CPU per request, errors.
    pub fn line(&self) -> String {
        format!(
            "{} {} clients={} connections={} security={}: {:.0} ops/s, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms, {}, errors {} ({} ops in {:.2} s)",
            self.system,
            self.workload,
            self.clients,
            self.connections,
            self.security,
            self.throughput_ops_s,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.cpu_text(),
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
    fn cpu_per_op_is_the_servers_cpu_over_the_successful_requests() {
        // 200 successes and 3 errors; 0.05 s of CPU: 250 us per successful request.
        let latencies: Vec<u64> = (1..=200).collect();
        let measured =
            summary_of(&latencies, 3, Duration::from_secs(2)).with_server_cpu(ServerCpu::Measured { cpu_s: 0.05 });
        let per_op = measured.cpu_us_per_op.expect("measured");
        assert!((per_op - 250.0).abs() < 1e-9, "{per_op}");
        assert_eq!(measured.cpu_unavailable, None);
        assert!(measured.line().contains("CPU 250.0 us/op"), "{}", measured.line());
        let idle = summary_of(&[], 3, Duration::from_secs(2)).with_server_cpu(ServerCpu::Measured { cpu_s: 0.05 });
        assert_eq!((idle.server_cpu_s, idle.cpu_us_per_op), (Some(0.05), None));
        assert!(idle.line().contains("CPU n/a (no request succeeded"), "{}", idle.line());
    }

    #[test]
    fn unavailable_cpu_says_why_and_never_a_number() {
        let fresh = summary_of(&[1], 0, Duration::from_secs(1));
        assert_eq!(fresh.cpu_unavailable.as_deref(), Some(CPU_NOT_MEASURED), "not measured until said otherwise");
        let attached = fresh.with_server_cpu(ServerCpu::Unavailable("attached to running nodes".into()));
        assert_eq!((attached.server_cpu_s, attached.cpu_us_per_op), (None, None));
        assert!(attached.line().contains("CPU n/a (attached to running nodes)"), "{}", attached.line());
        let json = serde_json::to_value(&attached).expect("serializes");
        assert!(json["cpu_us_per_op"].is_null());
        assert_eq!(json["cpu_unavailable"], "attached to running nodes");
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
