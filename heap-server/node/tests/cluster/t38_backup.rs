//! Backup and restore with real processes: `heapctl snapshot save` takes a backup of a cluster
//! holding roots, an object graph, two sessions, a held lock and a queued waiter; a damaged copy
//! and a non-empty data dir are refused by `heap-server --restore`, leaving the data dir as it
//! was; a new cluster started from the backup on new ports and empty dirs serves the same roots,
//! objects, locks (holders, tokens, waiters) and sessions, takes new writes at later log indexes
//! (fencing tokens keep increasing), and keeps doing so after its leader is SIGKILLed.

use std::path::Path;
use std::process::Command;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use heap_client::ClusterClient;
use heap_client::LockOutcome;
use heap_client::Session;
use heapctl::json;
use proto::heap as pb;

use super::support::*;

/// Long enough that no session expires during the test, in either cluster (a restored session's
/// lease restarts from the new cluster's first leader).
const SESSION_TTL_MS: u64 = 120_000;
const ROOT_COUNT: u64 = 6;
/// How long a `heap-server --restore` that must be refused may take to exit.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(20);
const POLL_INTERVAL: Duration = Duration::from_millis(20);

fn root_names() -> Vec<String> {
    (0..ROOT_COUNT).map(|i| format!("root-{i}")).collect()
}

fn granted(outcome: Result<LockOutcome, heap_client::ClientError>) -> u64 {
    match outcome.expect("lock answered") {
        LockOutcome::Granted { token } => token,
        LockOutcome::TimedOut => panic!("lock timed out"),
    }
}

async fn wait_for_waiters(client: &ClusterClient, lock: &str, count: usize) {
    let started = Instant::now();
    loop {
        let locks = client.list_locks().await.expect("list locks");
        if locks.locks.iter().find(|l| l.name == lock).is_some_and(|l| l.waiters.len() == count) {
            return;
        }
        assert!(started.elapsed() < CONDITION_TIMEOUT, "lock {lock} never had {count} waiters: {locks:?}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// What a cluster serves, in the parts a restore must keep: root bindings, every object reachable
/// from them, locks, and sessions (without their remaining lease, which is the clock's).
#[derive(Debug, PartialEq)]
struct Served {
    roots: Vec<pb::RootBinding>,
    objects: Vec<pb::Object>,
    locks: Vec<pb::LockInfo>,
    sessions: Vec<(u64, String, u64, String)>,
}

async fn served(client: &ClusterClient) -> Served {
    let roots = client.list_roots().await.expect("list roots").roots;
    let request = pb::ReadRequest { roots: root_names(), depth: json::JSON_DEPTH_MAX, ..Default::default() };
    let mut objects = client.read(request).await.expect("read the graph").objects;
    objects.sort_by_key(|o| o.id);
    let locks = client.list_locks().await.expect("list locks").locks;
    let sessions = client.list_sessions().await.expect("list sessions").sessions;
    let sessions = sessions.into_iter().map(|s| (s.id, s.client, s.ttl_ms, s.owner)).collect();
    Served { roots, objects, locks, sessions }
}

/// Runs `command` to its exit (it must exit by itself within `REFUSAL_TIMEOUT`).
fn run_to_exit(mut command: Command) -> Output {
    let child = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn();
    let mut child = child.expect("the process starts");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > REFUSAL_TIMEOUT {
            let _ = child.kill();
            panic!("the process did not exit within {REFUSAL_TIMEOUT:?}: it should have refused");
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    child.wait_with_output().expect("output")
}

/// `heap-server --restore FILE` on `data_dir` (a one-node cluster; it must refuse before it listens).
fn restore_command(data_dir: &Path, file: &Path) -> Command {
    let mut command = Command::new(server_binary());
    command
        .args(["--id", "1", "--peers", "1=127.0.0.1:1", "--insecure-plaintext", "--data-dir"])
        .arg(data_dir)
        .arg("--restore")
        .arg(file);
    command
}

fn entries_of(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// Checks that a damaged copy of the backup and a non-empty data dir are refused, with clear
/// messages, and leave the data dirs as they were.
fn check_refusals(backup: &Path, work: &Path, occupied_data_dir: &Path) {
    let mut bytes = std::fs::read(backup).expect("read the backup");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    let damaged = work.join("damaged.backup");
    std::fs::write(&damaged, bytes).expect("write the damaged copy");
    let empty = work.join("empty-data-dir");
    let output = run_to_exit(restore_command(&empty, &damaged));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a damaged backup was accepted: {stderr}");
    assert!(stderr.contains("checksum"), "{stderr}");
    assert!(entries_of(&empty).is_empty(), "the refused restore wrote {:?}", entries_of(&empty));

    let before = entries_of(occupied_data_dir);
    assert!(!before.is_empty(), "the occupied data dir is not");
    let output = run_to_exit(restore_command(occupied_data_dir, backup));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "--restore into a data dir with state was accepted: {stderr}");
    assert!(stderr.contains("already holds a cluster's state"), "{stderr}");
    assert_eq!(entries_of(occupied_data_dir), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_a_new_cluster_with_the_same_heap_locks_and_sessions() {
    let work = tempfile::tempdir().expect("a temp dir");
    let backup = work.path().join("heap.backup");
    let mut a = TestCluster::start("backup-a", 3, &[]);
    a.leader().await;
    let client = Arc::new(a.client());
    for (sequence, name) in root_names().iter().enumerate() {
        set_root(&client, name, sequence as u64).await.expect("write a root");
    }
    let holder = Session::open(Arc::clone(&client), "holder", SESSION_TTL_MS).await.expect("session");
    let holder_token = granted(holder.lock("inventory", 1, pb::LockMode::Write, None).await);
    let waiter = Session::open(Arc::clone(&client), "waiter", SESSION_TTL_MS).await.expect("session");
    let waiting = tokio::spawn(async move { waiter.lock("inventory", 7, pb::LockMode::Write, None).await });
    wait_for_waiters(&client, "inventory", 1).await;
    let in_a = served(&client).await;
    assert_eq!(in_a.sessions.len(), 2);
    a.phase(&format!("cluster A holds {} objects, a lock (token {holder_token}) and a waiter", in_a.objects.len()));

    let output = a.heapctl().arg("snapshot").arg("save").arg(&backup).output().expect("heapctl runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "snapshot save failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("index ") && stdout.contains("sha256 "), "{stdout}");
    let output = a.heapctl().arg("snapshot").arg("inspect").arg(&backup).output().expect("heapctl runs");
    let inspected = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success() && inspected.contains("(verified)"), "{inspected}");
    a.phase(&format!("saved the backup: {}", stdout.trim()));
    waiting.abort();
    a.cluster.kill_all();
    check_refusals(&backup, work.path(), &a.cluster.node_data_dir(1));
    a.phase("a damaged backup and a non-empty data dir were refused");

    let restore_args = ["--restore", backup.to_str().expect("a UTF-8 path")];
    let mut b = TestCluster::start("backup-b", 3, &restore_args);
    b.leader().await;
    let client_b = Arc::new(b.client());
    let in_b = served(&client_b).await;
    assert_eq!(in_b, in_a, "cluster B serves what cluster A held");
    b.phase("cluster B serves the same roots, objects, locks and sessions");

    let written_at = set_root(&client_b, "after-restore", 1).await.expect("a write on B");
    let newcomer = Session::open(Arc::clone(&client_b), "newcomer", SESSION_TTL_MS).await.expect("session on B");
    let fresh_token = granted(newcomer.lock("fresh", 1, pb::LockMode::Write, None).await);
    assert!(fresh_token > holder_token, "token {fresh_token} on B is not above {holder_token} from A");
    b.phase(&format!("B writes at index {written_at}; a new lock's token {fresh_token} > {holder_token}"));

    let leader = b.leader().await;
    b.cluster.kill(leader);
    b.phase(&format!("SIGKILLed B's leader, node {leader}"));
    b.cluster.wait_for_majority_leader(CONDITION_TIMEOUT).await.expect("a new leader");
    set_root(&client_b, "after-failover", 2).await.expect("a write after failover");
    let after = served(&client_b).await;
    assert_eq!((after.roots.len(), &after.objects), (in_a.roots.len() + 2, &in_b.objects), "{after:?}");
    assert_eq!(after.locks.iter().find(|l| l.name == "inventory"), in_a.locks.iter().find(|l| l.name == "inventory"));
    assert_eq!(get_root(&client_b, "after-failover", None).await.expect("read"), Some(document("after-failover", 2)));
}
