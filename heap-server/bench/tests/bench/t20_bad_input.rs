//! `heap-bench` refuses what it cannot do with one clear line and a non-zero exit, before it
//! starts anything: a missing heap-server, an unsupported workload, out-of-range numbers.

use super::support::run_bench;

fn assert_refused(args: &[&str], message: &str) {
    let output = run_bench(args);
    assert!(!output.status.success(), "heap-bench {} succeeded", args.join(" "));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(message), "stderr {stderr:?} lacks {message:?}");
}

#[test]
fn refuses_bad_input() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().to_str().expect("a UTF-8 temp path");
    assert_refused(
        &["compare", "--out", out, "--server-bin", "/nonexistent/heap-server", "--duration", "1"],
        "cannot start Sovereign: /nonexistent/heap-server not found",
    );
    assert!(!dir.path().join("results.json").exists(), "nothing measured");
    assert_refused(&["compare", "--out", out, "--clients", "0"], "clients must be between 1 and 10000");
    assert_refused(&["compare", "--out", out, "--duration", "0"], "--duration must be above 0");
    assert_refused(&["compare", "--out", out, "--workloads", "scan"], "unknown workload \"scan\"");
    assert_refused(
        &[
            "run",
            "--system",
            "etcd",
            "--endpoints",
            "127.0.0.1:1",
            "--workload",
            "graph-read",
            "--clients",
            "1",
            "--ops",
            "1",
        ],
        "graph-read is not supported by etcd",
    );
    assert_refused(
        &["run", "--system", "sovereign", "--endpoints", "127.0.0.1:1", "--workload", "put", "--clients", "1"],
        "--duration",
    );
    assert_refused(&["memory", "--out", out, "--objects", "0"], "--objects must be between 1 and 20000000");
    assert_refused(&["gc", "--out", out, "--objects", "10", "--batch", "2000"], "--batch must be between 1 and 1999");
    assert_refused(&["gc", "--out", out, "--objects", "10", "--duration", "0"], "--duration must be above 0");
    assert_refused(&["gc", "--out", out, "--objects", "10", "--rounds", "0"], "--rounds must be between 1 and 20");
    assert_refused(
        &["memory", "--out", out, "--objects", "10", "--server-bin", "/nonexistent/heap-server"],
        "/nonexistent/heap-server not found",
    );
    assert!(!dir.path().join("results-memory.json").exists(), "nothing measured");
}
