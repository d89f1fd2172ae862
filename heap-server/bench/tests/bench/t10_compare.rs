//! `heap-bench compare` end to end: a real three-node Sovereign cluster and a real three-member
//! etcd cluster, put and get at 1 and 4 clients, Sovereign secured (TLS and tokens, the default)
//! and etcd plaintext, both modes stated: every point is measured without errors, every
//! output file is written, and no process or data of the clusters is left behind.

use std::collections::BTreeSet;
use std::time::Instant;

use super::support::run_bench;
use super::support::server_binary;

#[test]
fn compare_measures_both_systems_side_by_side() {
    let started = Instant::now();
    server_binary();
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("a UTF-8 temp path");
    let output =
        run_bench(&["compare", "--out", out_arg, "--clients", "1,4", "--duration", "1", "--workloads", "put,get"]);
    assert!(output.status.success(), "heap-bench compare failed: {:?}", output.status);

    let text = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    let records: Vec<serde_json::Value> = serde_json::from_str(&text).expect("results.json is a JSON array");
    assert_eq!(records.len(), 8, "2 systems x 2 workloads x 2 client counts: {text}");
    let mut points = BTreeSet::new();
    for record in &records {
        let object = record.as_object().expect("each record is an object");
        let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "system",
                "workload",
                "clients",
                "throughput_ops_s",
                "p50_ms",
                "p99_ms",
                "errors",
                "server_cpu_s",
                "cpu_us_per_op",
                "cpu_unavailable"
            ])
        );
        // compare started both clusters, so it read their processes' CPU time at every point.
        assert!(object["cpu_us_per_op"].as_f64().is_some_and(|us| us >= 0.0), "no CPU figure: {record}");
        assert!(object["cpu_unavailable"].is_null(), "{record}");
        assert!(object["throughput_ops_s"].as_f64().is_some_and(|t| t > 0.0), "no throughput: {record}");
        assert_eq!(object["errors"], 0, "errors: {record}");
        let p50 = object["p50_ms"].as_f64().expect("p50");
        let p99 = object["p99_ms"].as_f64().expect("p99");
        assert!(p50 > 0.0 && p50 <= p99, "percentiles: {record}");
        points.insert((
            object["system"].as_str().expect("system").to_string(),
            object["workload"].as_str().expect("workload").to_string(),
            object["clients"].as_u64().expect("clients"),
        ));
    }
    for system in ["sovereign", "etcd"] {
        for workload in ["put", "get"] {
            for clients in [1, 4] {
                assert!(
                    points.contains(&(system.to_string(), workload.to_string(), clients)),
                    "{system} {workload} {clients}"
                );
            }
        }
    }

    let markdown = std::fs::read_to_string(out.join("results.md")).expect("results.md");
    assert!(markdown.contains("Machine: "));
    assert!(markdown.contains("Sovereign ran secured (tls+token"), "results.md states Sovereign's mode");
    assert!(markdown.contains("etcd runs without TLS"), "results.md states etcd's mode");
    assert_eq!(markdown.lines().filter(|l| l.starts_with("| put |") || l.starts_with("| get |")).count(), 4);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("| workload | clients | Sovereign ops/s"), "the table is printed");
    assert!(stdout.contains("sovereign put clients=1 connections=1 security=tls+token"), "secured by default");
    assert!(stdout.contains("etcd put clients=1 connections=1 security=plaintext"), "etcd without TLS");
    let machine: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("machine.json")).expect("machine.json")).expect("JSON");
    assert!(machine["fsync_4k_p50_ms"].as_f64().is_some_and(|v| v > 0.0));
    assert!(machine["loopback_rtt_p50_us"].as_f64().is_some_and(|v| v > 0.0));
    for plot in ["throughput.svg", "latency.svg"] {
        let svg = std::fs::read_to_string(out.join(plot)).expect("a plot");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{plot}");
        assert_eq!(svg.matches("<polyline").count(), if plot == "throughput.svg" { 4 } else { 8 }, "{plot}");
    }
    assert!(!out.join("work").exists(), "the clusters' data is removed");
    let leftovers = std::process::Command::new("pgrep").args(["-f", out_arg]).output().expect("pgrep runs");
    assert!(leftovers.stdout.is_empty(), "processes left behind: {}", String::from_utf8_lossy(&leftovers.stdout));
    eprintln!("compare test took {:.1} s", started.elapsed().as_secs_f64());
}
