//! A disk filling up: the nodes warn first (node log, `heapctl status`), then the leader refuses
//! new writes clearly (`resource_exhausted` naming the node, its free space and the limit) while
//! reads and keep-alives still work, writes are accepted again once space is freed, and every
//! write acknowledged before, between and after reads back on every node. The three nodes share
//! one small tmpfs, which a ballast file fills.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use std::time::Instant;

use heap_client::Session;
use proto::heap as pb;

use super::support::*;

const MIB_BYTES: u64 = 1024 * 1024;
/// The tmpfs all three nodes' data dirs live on.
const TMPFS_SIZE_MIB: u64 = 192;
/// The nodes' thresholds, scaled to the tmpfs.
const WARN_FREE_BYTES: u64 = 96 * MIB_BYTES;
const MIN_FREE_BYTES: u64 = 48 * MIB_BYTES;
/// Free space left by the ballast in each phase: halfway between the thresholds, then half the
/// refusal threshold (the nodes' few writes meanwhile move it by well under a MiB).
const FREE_WHILE_LOW_BYTES: u64 = 72 * MIB_BYTES;
const FREE_WHILE_REFUSING_BYTES: u64 = 24 * MIB_BYTES;
/// Between two looks at a condition (the guard samples once a second).
const POLL_INTERVAL: Duration = Duration::from_millis(100);
const ACKNOWLEDGED_BEFORE: u64 = 20;

/// A tmpfs mounted on a fresh temp dir for the life of the value; unmounted on drop, also when
/// the test fails (the cluster, declared after it, is killed first).
struct TmpfsMount {
    dir: tempfile::TempDir,
}

impl TmpfsMount {
    fn mount(size_mib: u64) -> Self {
        let dir = tempfile::tempdir().expect("a mount point");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("the mount command runs");
        assert!(
            output.status.success(),
            "this test needs to mount a {size_mib} MiB tmpfs (run it as root, as CI does): mount said {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        // Lazy, so a straggling child process cannot make the unmount fail and leak the mount.
        let unmounted = Command::new("umount").arg("-l").arg(self.dir.path()).status();
        if !unmounted.is_ok_and(|status| status.success()) {
            eprintln!("could not unmount the tmpfs at {} (umount -l it by hand)", self.dir.path().display());
        }
    }
}

fn free_bytes(path: &Path) -> u64 {
    heap_server::disk_space::disk_space(path).expect("statvfs of the tmpfs").free_bytes
}

/// Grows (never shrinks) the ballast file until the tmpfs has at most `free_target` bytes free.
fn fill_until_free(mount: &Path, ballast: &Path, free_target: u64) {
    let chunk = vec![0xA5u8; MIB_BYTES as usize];
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(ballast).expect("the ballast file");
    let mut free = free_bytes(mount);
    while free > free_target {
        let size = (free - free_target).min(MIB_BYTES) as usize;
        file.write_all(&chunk[..size]).expect("writing ballast");
        free = free_bytes(mount);
    }
}

/// Waits until `condition` holds, up to `CONDITION_TIMEOUT`; panics naming `what` otherwise.
async fn wait_until<F: std::future::Future<Output = bool>>(what: &str, mut condition: impl FnMut() -> F) {
    let deadline = Instant::now() + CONDITION_TIMEOUT;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Every node's `disk_warning` (empty when fine), by id.
async fn warnings(test: &TestCluster) -> Vec<String> {
    let mut warnings = Vec::new();
    for id in test.cluster.ids() {
        warnings.push(test.cluster.status(id).await.map(|s| s.disk_warning).unwrap_or_default());
    }
    warnings
}

fn heapctl_status(test: &TestCluster) -> String {
    let output = test.heapctl().args(["--timeout-ms", "5000", "status"]).output().expect("heapctl runs");
    assert!(output.status.success(), "heapctl status failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The transaction that binds root `name` to `document(name, sequence)`.
fn root_transaction(name: &str, sequence: u64) -> pb::Transaction {
    heapctl::json::root_set_transaction(name, &document(name, sequence).to_string()).expect("a valid document")
}

/// Writes root `name` and records it as acknowledged.
async fn write(client: &heap_client::ClusterClient, acknowledged: &mut Vec<(String, u64)>, name: &str, sequence: u64) {
    set_root(client, name, sequence).await.unwrap_or_else(|e| panic!("write {name}: {e}"));
    acknowledged.push((name.to_string(), sequence));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filling_disk_warns_then_refuses_writes_clearly_and_loses_nothing() {
    let mount = TmpfsMount::mount(TMPFS_SIZE_MIB);
    let thresholds = [
        "--disk-warn-free-bytes".to_string(),
        WARN_FREE_BYTES.to_string(),
        "--disk-min-free-bytes".to_string(),
        MIN_FREE_BYTES.to_string(),
    ];
    let extra_args: Vec<&str> = thresholds.iter().map(String::as_str).collect();
    let mut test = TestCluster::start_in("disk-full", mount.path(), 3, &extra_args);
    let leader = test.leader().await;
    let client = std::sync::Arc::new(test.client());
    let mut acknowledged = Vec::new();
    for sequence in 1..=ACKNOWLEDGED_BEFORE {
        write(&client, &mut acknowledged, &format!("before-{sequence}"), sequence).await;
    }
    let session = Session::open(std::sync::Arc::clone(&client), "disk-full-test", 30_000).await.expect("a session");
    assert_eq!(warnings(&test).await, vec![String::new(); 3], "no warning with the tmpfs nearly empty");
    test.phase(&format!("{ACKNOWLEDGED_BEFORE} writes acknowledged and a session open; leader {leader}"));

    let ballast = mount.path().join("ballast");
    fill_until_free(mount.path(), &ballast, FREE_WHILE_LOW_BYTES);
    wait_until("heapctl status to warn about every node's disk", || async {
        let out = heapctl_status(&test);
        test.cluster.ids().iter().all(|id| out.contains(&format!("WARNING: disk space low on node {id}")))
    })
    .await;
    for id in test.cluster.ids() {
        let log = std::fs::read_to_string(test.cluster.log_path(id)).expect("the node log");
        assert!(log.contains("disk space low on node"), "node {id} logs no warning:\n{log}");
    }
    write(&client, &mut acknowledged, "while-low", 1).await;
    test.phase("below the warning threshold: warned in heapctl status and the logs, writes still accepted");

    fill_until_free(mount.path(), &ballast, FREE_WHILE_REFUSING_BYTES);
    wait_until("every node to report refusing writes", || async {
        warnings(&test).await.iter().all(|w| w.contains("refuses new writes"))
    })
    .await;
    let refused = set_root(&client, "refused", 1).await.expect_err("a write below the refusal threshold");
    for part in ["refuses new writes", "MiB free", "48 MiB", "--disk-min-free-bytes", "Free disk space"] {
        assert!(refused.contains(part), "{part:?} missing from the refusal: {refused}");
    }
    let session_write = session.commit(root_transaction("refused-in-session", 1)).await.expect_err("refused too");
    assert!(session_write.to_string().contains("refuses new writes"), "{session_write}");
    session.call(pb::session_request::Command::KeepAlive(pb::KeepAlive {})).await.expect("keep-alives still work");
    let first = &acknowledged[0];
    let read = get_root(&client, &first.0, None).await.expect("reads still work");
    assert_eq!(read, Some(document(&first.0, first.1)));
    assert!(heapctl_status(&test).contains("refuses new writes"), "heapctl status shows the refusal");
    test.phase(&format!("below the refusal threshold: reads and keep-alives answer; writes refused: {refused}"));

    std::fs::remove_file(&ballast).expect("delete the ballast");
    wait_until("every node's warning to clear", || async { warnings(&test).await.iter().all(String::is_empty) }).await;
    write(&client, &mut acknowledged, "after", 1).await;
    let committed = session.commit(root_transaction("after-in-session", 1)).await.expect("session writes again");
    assert!(matches!(committed.result, Some(pb::session_response::Result::Committed(_))), "{committed:?}");
    acknowledged.push(("after-in-session".to_string(), 1));
    session.close().await.expect("close");
    test.phase("ballast deleted: warnings cleared, writes accepted again");

    assert_eq!(test.cluster.exited(), Vec::new(), "no node exited");
    let leader_now = test.leader().await;
    let applied = test.cluster.status(leader_now).await.expect("leader status").last_applied;
    for (name, sequence) in &acknowledged {
        let got = get_root(&client, name, None).await.expect("read");
        assert_eq!(got, Some(document(name, *sequence)), "acknowledged root {name}");
    }
    for id in test.cluster.ids() {
        check_roots_on_node(&test, id, &acknowledged, applied).await;
    }
    for refused in ["refused", "refused-in-session"] {
        assert_eq!(get_root(&client, refused, None).await.expect("read"), None, "refused {refused} left no trace");
    }
    test.phase(&format!("all {} acknowledged writes read back on every node", acknowledged.len()));
}
