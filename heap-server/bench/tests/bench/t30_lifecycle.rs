//! `heap-bench memory` and `heap-bench gc` end to end on real secured clusters, at a few
//! thousand objects: each writes its JSON with a figure for every node and phase, the abandoned
//! objects are all collected, the throughput points ran without errors, and no process or data
//! of the clusters is left behind. The figures themselves are not judged here (they are
//! benchmarks, read in docs/benchmarks.md).

use super::support::run_bench;
use super::support::server_binary;

const OBJECTS: &str = "3000";
const OBJECTS_COUNT: u64 = 3_000;
/// Small batches, so the lists are several and the last transaction is short.
const BATCH: &str = "700";

fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the results are JSON")
}

#[test]
fn memory_measures_every_node_and_a_reloaded_follower() {
    server_binary();
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().to_str().expect("a UTF-8 temp path");
    let output = run_bench(&["memory", "--objects", OBJECTS, "--batch", BATCH, "--out", out]);
    assert!(output.status.success(), "heap-bench memory failed: {:?}", output.status);
    let report = read_json(&dir.path().join("results-memory.json"));
    assert_eq!(report["objects"], OBJECTS_COUNT);
    assert_eq!(report["heap_objects"], OBJECTS_COUNT + 5, "3000 items in 5 lists of up to 700");
    assert_eq!(report["create"]["transactions"], 5);
    let nodes = report["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes.iter().filter(|n| n["leader"] == true).count(), 1, "one leader: {nodes:?}");
    for node in nodes {
        for figure in ["rss_before_bytes", "rss_peak_burst_bytes", "rss_after_bytes", "hwm_after_bytes"] {
            assert!(node[figure].as_u64().is_some_and(|b| b > 0), "{figure} of {node}");
        }
        assert!(node["disk_after"]["total_bytes"].as_u64().is_some_and(|b| b > 0), "{node}");
        assert!(node["peak_bytes_per_object"].as_f64().is_some(), "{node}");
    }
    assert!(report["reload"]["rss_after_reload_bytes"].as_u64().is_some_and(|b| b > 0), "{report}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("follower") && stdout.contains("restarted"), "{stdout}");
    assert!(!dir.path().join("work").exists(), "the cluster's data is removed");
}

#[test]
fn gc_collects_what_was_abandoned_and_compares_throughput() {
    server_binary();
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().to_str().expect("a UTF-8 temp path");
    let args = [
        "gc",
        "--objects",
        OBJECTS,
        "--batch",
        BATCH,
        "--garbage-cycles",
        "500",
        "--duration",
        "1",
        "--rounds",
        "1",
        "--out",
        out,
    ];
    let output = run_bench(&args);
    assert!(output.status.success(), "heap-bench gc failed: {:?}", output.status);
    let report = read_json(&dir.path().join("results-gc.json"));
    let abandonment = &report["abandonment"];
    assert_eq!(abandonment["collected"], true, "{abandonment}");
    assert_eq!(abandonment["objects_left"], 0);
    assert_eq!(abandonment["unbind"]["objects"], 5, "five roots unbound");
    assert!(abandonment["freed"].as_u64().is_some_and(|f| f >= OBJECTS_COUNT + 5), "{abandonment}");
    assert!(abandonment["longest_step_us"].as_u64().is_some_and(|us| us > 0), "{abandonment}");
    let cycle = &report["cycle"]["after"];
    assert!(cycle["last_cycle_freed"].as_u64().is_some_and(|f| f > 0), "the garbage cycles were freed: {cycle}");
    assert!(cycle["live_objects"].as_u64().is_some_and(|n| n >= OBJECTS_COUNT), "{cycle}");
    let points = report["throughput"].as_array().expect("throughput points");
    let workloads: Vec<&str> = points.iter().filter_map(|p| p["workload"].as_str()).collect();
    assert_eq!(workloads, ["put", "get"]);
    for point in points {
        for mode in ["idle", "paused", "churn", "busy"] {
            assert_eq!(point[mode]["errors"], 0, "{mode}: {point}");
            assert!(point[mode]["median_ops_s"].as_f64().is_some_and(|t| t > 0.0), "{mode}: {point}");
        }
        let gc_runs = |mode: &str| point[mode]["rounds"][0]["collector"]["gc_runs"].as_u64();
        assert!(gc_runs("busy").is_some_and(|n| n > 0), "GcRun looped: {point}");
        assert_eq!(gc_runs("churn"), Some(0), "churning alone runs no cycles: {point}");
        assert_eq!(point["paused"]["collect_steps"], 0, "a paused collector applies no Collect: {point}");
        assert!(point["churn_over_paused"].as_f64().is_some_and(|r| r > 0.0), "the collector's cost: {point}");
    }
    assert!(!dir.path().join("work").exists(), "the cluster's data is removed");
}
