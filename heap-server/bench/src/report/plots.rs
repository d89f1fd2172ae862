//! The two plots of `compare`: throughput vs clients (one line per system and workload) and
//! latency vs clients (p50 solid, p99 dashed), both with a log x axis.

use crate::report::chart::Chart;
use crate::report::chart::Series;
use crate::report::record::Record;
use crate::system::System;
use crate::workload::Workload;

/// One color per system and workload: blues and greens for Sovereign, warm colors for etcd.
pub fn color(system: &str, workload: &str) -> &'static str {
    match (system, workload) {
        ("sovereign", "put") => "#1f77b4",
        ("sovereign", "get") => "#2ca02c",
        ("sovereign", "lock-update") => "#9467bd",
        ("sovereign", "graph-read") => "#17becf",
        ("etcd", "put") => "#ff7f0e",
        ("etcd", "get") => "#d62728",
        ("etcd", _) => "#8c564b",
        _ => "#7f7f7f",
    }
}

/// (system, workload) pairs present in `records`, systems and workloads in their usual order.
fn lines(records: &[Record]) -> Vec<(&'static str, &'static str)> {
    let mut lines = Vec::new();
    for system in System::ALL {
        for workload in Workload::ALL {
            if records.iter().any(|r| r.system == system.as_str() && r.workload == workload.as_str()) {
                lines.push((system.as_str(), workload.as_str()));
            }
        }
    }
    lines
}

fn points(records: &[Record], system: &str, workload: &str, y: impl Fn(&Record) -> f64) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = records
        .iter()
        .filter(|r| r.system == system && r.workload == workload)
        .map(|r| (r.clients as f64, y(r)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

pub fn throughput_chart(records: &[Record]) -> Chart {
    let series = lines(records)
        .into_iter()
        .map(|(system, workload)| Series {
            name: format!("{system} {workload}"),
            color: color(system, workload),
            dashed: false,
            points: points(records, system, workload, |r| r.throughput_ops_s),
        })
        .collect();
    Chart {
        title: "Throughput vs clients (closed loop, 3 nodes on loopback)".into(),
        x_label: "clients (log scale)".into(),
        y_label: "successful requests per second".into(),
        y_log: false,
        series,
    }
}

pub fn latency_chart(records: &[Record]) -> Chart {
    let mut series = Vec::new();
    for (system, workload) in lines(records) {
        series.push(Series {
            name: format!("{system} {workload} p50"),
            color: color(system, workload),
            dashed: false,
            points: points(records, system, workload, |r| r.p50_ms),
        });
        series.push(Series {
            name: format!("{system} {workload} p99"),
            color: color(system, workload),
            dashed: true,
            points: points(records, system, workload, |r| r.p99_ms),
        });
    }
    Chart {
        title: "Latency vs clients (p50 solid, p99 dashed)".into(),
        x_label: "clients (log scale)".into(),
        y_label: "latency in ms (log scale)".into(),
        y_log: true,
        series,
    }
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
            p50_ms: 1000.0 / throughput,
            p99_ms: 4000.0 / throughput,
            errors: 0,
            server_cpu_s: None,
            cpu_us_per_op: None,
            cpu_unavailable: Some("not measured in these tests".into()),
        }
    }

    fn records() -> Vec<Record> {
        vec![
            record("etcd", "put", 64, 4200.0),
            record("sovereign", "put", 64, 5000.0),
            record("sovereign", "put", 1, 900.0),
            record("etcd", "put", 1, 650.0),
            record("sovereign", "graph-read", 1, 300.0),
        ]
    }

    #[test]
    fn one_throughput_line_per_system_and_workload_in_client_order() {
        let chart = throughput_chart(&records());
        let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["sovereign put", "sovereign graph-read", "etcd put"]);
        assert_eq!(chart.series[0].points, vec![(1.0, 900.0), (64.0, 5000.0)]);
        assert_ne!(chart.series[0].color, chart.series[2].color);
        let svg = chart.render();
        assert_eq!(svg.matches("<polyline").count(), 3);
    }

    #[test]
    fn latency_has_p50_and_p99_lines_on_log_axes() {
        let chart = latency_chart(&records());
        assert!(chart.y_log);
        assert_eq!(chart.series.len(), 6);
        assert_eq!(chart.series.iter().filter(|s| s.dashed).count(), 3, "p99 lines are dashed");
        assert!(chart.series.iter().all(|s| !s.points.is_empty()));
        let svg = chart.render();
        assert_eq!(svg.matches("<polyline").count(), 6);
        assert!(svg.contains("etcd put p99"));
    }
}
