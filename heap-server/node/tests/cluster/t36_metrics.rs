//! Each node serves its metrics at `/metrics` on `--http-listen`, in Prometheus text format, with
//! the families an operator watches: role, term, commit and apply index and each follower's lag,
//! proposal latency, sessions, locks and waiters, objects, disk space.

use std::io::Read;
use std::io::Write;
use std::sync::Arc;

use heap_client::Session;

use super::support::*;

/// Families every node reports (the follower lag ones have samples on the leader only).
const FAMILIES: [&str; 35] = [
    "sovereign_node_id",
    "sovereign_raft_role",
    "sovereign_raft_stopped",
    "sovereign_raft_term",
    "sovereign_raft_leader_id",
    "sovereign_raft_last_log_index",
    "sovereign_raft_committed_index",
    "sovereign_raft_applied_index",
    "sovereign_raft_snapshot_index",
    "sovereign_raft_follower_matched_index",
    "sovereign_raft_follower_lag_entries",
    "sovereign_proposal_seconds",
    "sovereign_heap_objects",
    "sovereign_heap_sessions",
    "sovereign_heap_locks",
    "sovereign_heap_lock_waiters",
    "sovereign_snapshots_built_total",
    "sovereign_gc_unreferenced_objects",
    "sovereign_gc_holds",
    "sovereign_gc_ended_holds",
    "sovereign_gc_decrements_pending",
    "sovereign_gc_freed_objects_total",
    "sovereign_gc_collect_steps_total",
    "sovereign_gc_longest_step_seconds",
    "sovereign_gc_cycles_total",
    "sovereign_gc_last_cycle_seconds",
    "sovereign_gc_live_bytes",
    "sovereign_snapshots_installed_total",
    "sovereign_snapshot_size_bytes",
    "sovereign_data_dir_bytes",
    "sovereign_disk_free_bytes",
    "sovereign_disk_total_bytes",
    "sovereign_disk_warning",
    "sovereign_disk_writes_refused",
    "sovereign_log_fsync_seconds",
];

/// `GET /metrics` over plain HTTP/1.1; the status line and the body.
fn get_metrics(addr: &str) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the metrics port");
    stream.set_read_timeout(Some(CLIENT_DEADLINE)).expect("timeout");
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let (head, body) = response.split_once("\r\n\r\n").expect("headers end");
    (head.lines().next().unwrap_or_default().to_string(), body.to_string())
}

/// Parses Prometheus text: every sample line is `name[{labels}] value` with a float value, and
/// belongs to a family announced by `# HELP` and `# TYPE` before it. Returns (name, labels, value).
fn parse(body: &str) -> Vec<(String, String, f64)> {
    let mut typed = std::collections::BTreeSet::new();
    let mut samples = Vec::new();
    for line in body.lines().filter(|line| !line.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(["gauge", "counter", "histogram"].contains(&kind), "unknown type in {line:?}");
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment {line:?}");
        let (series, value) = line.rsplit_once(' ').expect("a sample is `series value`");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number in {line:?}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.strip_suffix('}').expect("labels close")),
            None => (series, ""),
        };
        let family =
            ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).filter(|f| typed.contains(*f));
        assert!(typed.contains(name) || family.is_some(), "sample {name} before its # TYPE");
        samples.push((name.to_string(), labels.to_string(), value));
    }
    samples
}

fn value(samples: &[(String, String, f64)], name: &str, labels: &str) -> Option<f64> {
    samples.iter().find(|(n, l, _)| n == name && l == labels).map(|(_, _, v)| *v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_serves_prometheus_metrics() {
    let ports = heap_testkit::free_ports(3).expect("ports");
    let metrics_addr = move |id: u64| format!("127.0.0.1:{}", ports[id as usize - 1]);
    let test = TestCluster::start_with("metrics", 3, &[], true, |cluster| {
        cluster.with_node_args(|id| vec!["--http-listen".to_string(), metrics_addr(id)])
    });
    let leader = test.leader().await;
    let client = Arc::new(test.client());
    for sequence in 1..=20 {
        set_root(&client, "counted", sequence).await.expect("write");
    }
    let session = Session::open(Arc::clone(&client), "metrics-test", 30_000).await.expect("a session");
    session.lock("gauge-lock", 1, proto::heap::LockMode::Write, None).await.expect("lock");
    test.phase("20 writes and a held lock");
    // Followers learn of commits with the leader's next message: scrape each once it has applied
    // the lock, so its heap counts are the leader's.
    let applied = test.cluster.status(leader).await.expect("leader status").last_applied;

    for id in test.cluster.ids() {
        test.cluster.wait_for_applied(id, applied, CONDITION_TIMEOUT).await.expect("the node applies the lock");
        let (status, body) = get_metrics(&metrics_addr(id));
        assert!(status.contains("200"), "node {id}: {status}");
        let samples = parse(&body);
        for family in FAMILIES {
            assert!(body.contains(&format!("# TYPE {family} ")), "node {id} lacks {family}:\n{body}");
        }
        assert_eq!(value(&samples, "sovereign_node_id", ""), Some(id as f64));
        let role = if id == leader { "leader" } else { "follower" };
        assert_eq!(value(&samples, "sovereign_raft_role", &format!("role=\"{role}\"")), Some(1.0), "node {id}");
        assert_eq!(value(&samples, "sovereign_raft_leader_id", ""), Some(leader as f64));
        assert!(value(&samples, "sovereign_raft_applied_index", "").unwrap_or(0.0) >= 20.0);
        assert_eq!(value(&samples, "sovereign_heap_sessions", ""), Some(1.0));
        assert_eq!(value(&samples, "sovereign_heap_locks", ""), Some(1.0));
        assert!(value(&samples, "sovereign_disk_free_bytes", "").unwrap_or(0.0) > 0.0);
        // The log and the state image are on disk by now.
        assert!(value(&samples, "sovereign_data_dir_bytes", "").unwrap_or(0.0) > 0.0, "node {id}");
        if id == leader {
            assert!(value(&samples, "sovereign_proposal_seconds_count", "").unwrap_or(0.0) >= 20.0, "{body}");
            let followers: Vec<_> =
                samples.iter().filter(|(n, _, _)| n == "sovereign_raft_follower_lag_entries").collect();
            assert_eq!(followers.len(), 2, "the leader reports each follower's lag: {followers:?}");
        }
    }
    test.phase("every node's /metrics parses as Prometheus text with every family");
}
