//! `results.md`: the machine's figures, how the points were measured (security modes included),
//! and one table row per workload and client count with Sovereign and etcd side by side, their
//! throughput ratio and the ratio of their servers' CPU time per request, and why any CPU figure
//! is missing.

use std::fmt::Write;

use crate::machine::MachineFigures;
use crate::report::record::Record;
use crate::system::SecurityMode;
use crate::system::System;
use crate::workload::Workload;

/// How the points were measured, for the text above the table.
pub struct Method {
    pub duration_s: f64,
    pub warmup_s: f64,
    /// `None`: min(clients, 8) per point.
    pub connections: Option<usize>,
    /// How Sovereign's clients reached it (etcd: always plaintext).
    pub sovereign_security: SecurityMode,
}

/// The sentence on security: which mode Sovereign ran in, and that etcd runs without TLS.
pub fn security_text(sovereign: SecurityMode) -> String {
    let etcd = "etcd runs without TLS and without authentication (plain http, as it starts by \
                default): the fair floor";
    match sovereign {
        SecurityMode::TlsToken => format!(
            "Security: Sovereign ran secured ({sovereign}, the default): TLS with node certificates \
             from the cluster's CA, and every request carries a token the nodes check. {etcd}, so \
             Sovereign's figures include the cost of its security and etcd's do not \
             (`--plaintext` measures Sovereign without it)."
        ),
        SecurityMode::Plaintext => {
            format!("Security: Sovereign ran plaintext (`--plaintext`: no TLS, no tokens), as etcd does. {etcd}.")
        }
        other => format!("Security: Sovereign ran {other}. {etcd}."),
    }
}

const MISSING: &str = "—";
/// A CPU cell of a point measured without its servers' CPU time (the notes say why).
const NOT_AVAILABLE: &str = "n/a";

fn find(records: &[Record], system: System, workload: Workload, clients: usize) -> Option<&Record> {
    records.iter().find(|r| r.system == system.as_str() && r.workload == workload.as_str() && r.clients == clients)
}

/// Five cells: ops/s, p50, p99, CPU us/op, errors (dashes when there is no record).
fn cells(record: Option<&Record>) -> String {
    match record {
        Some(r) => {
            let cpu = r.cpu_us_per_op.map_or(NOT_AVAILABLE.to_string(), |us| format!("{us:.1}"));
            format!("{:.0} | {:.2} | {:.2} | {cpu} | {}", r.throughput_ops_s, r.p50_ms, r.p99_ms, r.errors)
        }
        None => [MISSING; 5].join(" | "),
    }
}

/// Sovereign's figure over etcd's as "2.50x": a dash without both records, `n/a` without both
/// figures, a dash over a zero.
fn ratio(sovereign: Option<&Record>, etcd: Option<&Record>, figure: impl Fn(&Record) -> Option<f64>) -> String {
    let (Some(s), Some(e)) = (sovereign, etcd) else { return MISSING.to_string() };
    match (figure(s), figure(e)) {
        (Some(s), Some(e)) if e > 0.0 => format!("{:.2}x", s / e),
        (Some(_), Some(_)) => MISSING.to_string(),
        _ => NOT_AVAILABLE.to_string(),
    }
}

/// One line per point without a CPU figure, saying why (empty when every point has one).
fn cpu_notes(records: &[Record]) -> String {
    let mut notes = String::new();
    for r in records.iter().filter(|r| r.cpu_us_per_op.is_none()) {
        let reason = r.cpu_unavailable.as_deref().unwrap_or("not recorded");
        let _ = writeln!(notes, "- CPU us/op n/a for {} {} at {} clients: {reason}.", r.system, r.workload, r.clients);
    }
    notes
}

/// Just the table: rows by workload (in `Workload` order) and clients (ascending), then why any
/// CPU figure is missing.
pub fn table(records: &[Record]) -> String {
    let mut table = String::from(
        "| workload | clients | Sovereign ops/s | p50 ms | p99 ms | CPU us/op | errors | etcd ops/s | p50 ms | p99 ms | CPU us/op | errors | Sovereign/etcd ops/s | Sovereign/etcd CPU/op |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for workload in Workload::ALL {
        let mut clients: Vec<usize> =
            records.iter().filter(|r| r.workload == workload.as_str()).map(|r| r.clients).collect();
        clients.sort_unstable();
        clients.dedup();
        for count in clients {
            let sovereign = find(records, System::Sovereign, workload, count);
            let etcd = find(records, System::Etcd, workload, count);
            // Writing to a String cannot fail.
            let _ = writeln!(
                table,
                "| {workload} | {count} | {} | {} | {} | {} |",
                cells(sovereign),
                cells(etcd),
                ratio(sovereign, etcd, |r| Some(r.throughput_ops_s)),
                ratio(sovereign, etcd, |r| r.cpu_us_per_op)
            );
        }
    }
    let notes = cpu_notes(records);
    if !notes.is_empty() {
        table.push('\n');
        table.push_str(&notes);
    }
    table
}

/// The whole `results.md`.
pub fn markdown(machine: &MachineFigures, method: &Method, records: &[Record]) -> String {
    let connections = match method.connections {
        Some(c) => format!("{c} gRPC connections"),
        None => "min(clients, 8) gRPC connections".to_string(),
    };
    let mut text = String::from("# heap-bench compare: Sovereign vs etcd\n\n");
    let _ = writeln!(text, "Machine: {}.\n", machine.line());
    let _ = writeln!(
        text,
        "Each system as a fresh three-node cluster on loopback, both running, measured one at a time \
         (alternating point by point); closed loop, \
         {:.1} s per point after {:.1} s of warm-up (not counted), {connections}, requests to the \
         leader. put: a durable write of a 256-byte value to one of 1000 keys/objects; get: a \
         linearizable read of one; lock-update (Sovereign only): lock, read, write at release, \
         one lock per client; graph-read (Sovereign only): a linearizable read of a 100-object \
         subgraph. Latencies of successful requests; errors are failed or rejected requests. \
         CPU us/op: the user + system CPU time of the measured system's three server processes \
         together (every thread; from /proc/PID/stat, in clock ticks, usually 10 ms) over the \
         measured period, divided by the successful requests in it; the load generator's own CPU \
         is not in it.\n",
        method.duration_s, method.warmup_s
    );
    let _ = writeln!(text, "{}\n", security_text(method.sovereign_security));
    text.push_str(&table(records));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(system: &str, workload: &str, clients: usize, throughput: f64) -> Record {
        Record {
            system: system.into(),
            workload: workload.into(),
            clients,
            throughput_ops_s: throughput,
            p50_ms: 1.25,
            p99_ms: 4.5,
            errors: 0,
            server_cpu_s: Some(1.0),
            cpu_us_per_op: Some(throughput / 10.0),
            cpu_unavailable: None,
        }
    }

    fn machine() -> MachineFigures {
        MachineFigures {
            cores: 2,
            fsync_dir: "/tmp/x".into(),
            fsync_samples: 500,
            fsync_4k_p50_ms: 0.25,
            fsync_4k_p99_ms: 0.45,
            loopback_samples: 5000,
            loopback_rtt_p50_us: 17.0,
            loopback_rtt_p99_us: 30.0,
        }
    }

    #[test]
    fn rows_pair_the_systems_and_give_the_ratio() {
        let records = vec![
            record("etcd", "put", 8, 1000.0),
            record("sovereign", "put", 8, 2500.0),
            record("sovereign", "put", 1, 700.0),
            record("sovereign", "lock-update", 1, 300.0),
            record("etcd", "get", 1, 0.0),
        ];
        let table = table(&records);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2 + 4, "header, separator and one row per workload and client count");
        assert!(lines[0].starts_with("| workload | clients | Sovereign ops/s | p50 ms | p99 ms | CPU us/op |"));
        assert!(lines[0].ends_with("| Sovereign/etcd ops/s | Sovereign/etcd CPU/op |"));
        assert_eq!(lines[2], "| put | 1 | 700 | 1.25 | 4.50 | 70.0 | 0 | — | — | — | — | — | — | — |");
        assert_eq!(
            lines[3],
            "| put | 8 | 2500 | 1.25 | 4.50 | 250.0 | 0 | 1000 | 1.25 | 4.50 | 100.0 | 0 | 2.50x | 2.50x |"
        );
        assert_eq!(
            lines[4], "| get | 1 | — | — | — | — | — | 0 | 1.25 | 4.50 | 0.0 | 0 | — | — |",
            "no ratio over zero"
        );
        assert!(lines[5].starts_with("| lock-update | 1 | 300 |"));
        let columns = lines[0].matches('|').count();
        assert!(lines.iter().all(|l| l.matches('|').count() == columns), "every row has every column");
    }

    #[test]
    fn a_missing_cpu_figure_is_n_a_with_its_reason_never_a_number() {
        let mut attached = record("etcd", "put", 8, 1000.0);
        attached.server_cpu_s = None;
        attached.cpu_us_per_op = None;
        attached.cpu_unavailable = Some("attached to running nodes".into());
        let text = table(&[record("sovereign", "put", 8, 2500.0), attached]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2],
            "| put | 8 | 2500 | 1.25 | 4.50 | 250.0 | 0 | 1000 | 1.25 | 4.50 | n/a | 0 | 2.50x | n/a |"
        );
        assert_eq!(lines.last(), Some(&"- CPU us/op n/a for etcd put at 8 clients: attached to running nodes."));
        let measured = table(&[record("sovereign", "put", 8, 2500.0)]);
        assert!(!measured.contains("n/a"), "no notes when every figure is there: {measured}");
    }

    #[test]
    fn the_document_starts_with_the_machine() {
        let method =
            Method { duration_s: 10.0, warmup_s: 1.0, connections: None, sovereign_security: SecurityMode::TlsToken };
        let text = markdown(&machine(), &method, &[]);
        assert!(text.starts_with("# heap-bench compare"));
        assert!(text.contains("Machine: 2 cores; 4 KiB write + fdatasync: p50 0.250 ms, p99 0.450 ms"));
        assert!(text.contains("10.0 s per point after 1.0 s of warm-up"));
        assert!(text.contains("| workload | clients |"));
        assert!(text.contains("CPU us/op: the user + system CPU time of the measured system's three server processes"));
    }

    #[test]
    fn the_document_says_which_mode_sovereign_ran_in_and_that_etcd_has_no_tls() {
        let method =
            |sovereign_security| Method { duration_s: 1.0, warmup_s: 0.0, connections: None, sovereign_security };
        let secured = markdown(&machine(), &method(SecurityMode::TlsToken), &[]);
        assert!(secured.contains("Sovereign ran secured (tls+token, the default)"), "{secured}");
        assert!(secured.contains("etcd runs without TLS"), "{secured}");
        let plaintext = markdown(&machine(), &method(SecurityMode::Plaintext), &[]);
        assert!(plaintext.contains("Sovereign ran plaintext (`--plaintext`"), "{plaintext}");
        assert!(plaintext.contains("etcd runs without TLS"), "{plaintext}");
        assert!(!plaintext.contains("secured"), "{plaintext}");
    }
}
