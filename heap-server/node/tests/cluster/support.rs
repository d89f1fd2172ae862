//! Test support: start a cluster in a temp dir, log phases, write and check roots, and print the
//! node logs when a test fails.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use std::time::Instant;

use heap_client::ClusterClient;
use heap_testkit::free_ports;
use heap_testkit::LocalCluster;
use heapctl::json;
use proto::heap as pb;
use proto::security::SECURITY_DIR_ENV;

/// Generous bound for cluster conditions on a loaded 2-core machine; tests wait on conditions,
/// never on fixed sleeps, so this only limits how long a broken cluster takes to fail a test.
pub const CONDITION_TIMEOUT: Duration = Duration::from_secs(30);
pub const CLIENT_DEADLINE: Duration = Duration::from_secs(15);
/// Lines of each node's log printed when a test fails.
const LOG_TAIL_LINES: usize = 40;

pub struct TestCluster {
    pub cluster: LocalCluster,
    started: Instant,
    name: &'static str,
    _dir: tempfile::TempDir,
}

pub fn server_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_heap-server"))
}

/// heapctl lives in its own package, so its binary is built on demand (see `heap_testkit::built_binary`).
pub fn heapctl_binary() -> PathBuf {
    heap_testkit::built_binary("heapctl", "heapctl")
}

impl TestCluster {
    /// Starts `nodes` secured heap-server processes (TLS, a CA and tokens made for the test, as
    /// `heapctl dev up` does) on free loopback ports.
    pub fn start(name: &'static str, nodes: usize, extra_args: &[&str]) -> Self {
        Self::start_with(name, nodes, extra_args, true, |cluster| cluster)
    }

    /// As `start`, with `--insecure-plaintext`: for tests that speak raw bytes to the port.
    pub fn start_plaintext(name: &'static str, nodes: usize, extra_args: &[&str]) -> Self {
        Self::start_with(name, nodes, extra_args, false, |cluster| cluster)
    }

    /// As `start`, with `configure` applied to the cluster before its nodes start (a launcher
    /// such as `prlimit`, per-node flags such as `--http-listen`).
    pub fn start_with(
        name: &'static str,
        nodes: usize,
        extra_args: &[&str],
        secured: bool,
        configure: impl FnOnce(LocalCluster) -> LocalCluster,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir for the cluster");
        let addrs =
            free_ports(nodes).expect("free loopback ports").into_iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let extra_args = extra_args.iter().map(|s| s.to_string()).collect();
        let cluster = if secured {
            LocalCluster::new_secured(&server_binary(), dir.path(), addrs, extra_args).expect("a security folder")
        } else {
            LocalCluster::new(&server_binary(), dir.path(), addrs, extra_args)
        };
        let mut cluster = configure(cluster);
        cluster.start_all().expect("heap-server processes start");
        let test = Self { cluster, started: Instant::now(), name, _dir: dir };
        test.phase(&format!("started {nodes} {} nodes", if secured { "secured" } else { "plaintext" }));
        test
    }

    /// Logs one phase of a scenario with the time since the start.
    pub fn phase(&self, what: &str) {
        eprintln!("[{} +{:>6} ms] {what}", self.name, self.started.elapsed().as_millis());
    }

    pub fn client(&self) -> ClusterClient {
        self.cluster.client(CLIENT_DEADLINE).expect("a client")
    }

    /// A client that talks to node `id` only.
    pub fn node_client(&self, id: u64) -> ClusterClient {
        let addr = self.cluster.addr(id).expect("node exists").to_string();
        ClusterClient::connect(&[addr], &self.cluster.client_security(), CLIENT_DEADLINE).expect("a client")
    }

    /// heapctl aimed at this cluster, finding its CA and admin token as a user's shell would
    /// (`SOVEREIGN_SECURITY_DIR`), or told `--plaintext` for a plaintext cluster.
    pub fn heapctl(&self) -> Command {
        let mut command = Command::new(heapctl_binary());
        command.arg("--endpoints").arg(self.cluster.endpoints().join(","));
        match self.cluster.security() {
            Some(security) => command.env(SECURITY_DIR_ENV, security.dir()),
            None => command.arg("--plaintext"),
        };
        command
    }

    pub async fn leader(&self) -> u64 {
        self.cluster.wait_for_leader(CONDITION_TIMEOUT).await.expect("a leader is elected")
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.cluster.kill_all();
        if std::thread::panicking() {
            for id in self.cluster.ids() {
                let tail = self.cluster.log_tail(id, LOG_TAIL_LINES);
                eprintln!("---- node {id} log (last {LOG_TAIL_LINES} lines at most) ----\n{tail}");
            }
        }
    }
}

/// The JSON document stored under root `name` in the tests: unique per name and sequence.
pub fn document(name: &str, sequence: u64) -> serde_json::Value {
    serde_json::json!({ "name": name, "sequence": sequence, "items": [sequence, "x", { "nested": true }] })
}

/// Binds root `name` to `document(name, sequence)`; returns the commit's log index.
pub async fn set_root(client: &ClusterClient, name: &str, sequence: u64) -> Result<u64, String> {
    let transaction =
        json::root_set_transaction(name, &document(name, sequence).to_string()).map_err(|e| e.to_string())?;
    match client.commit(transaction).await.map_err(|e| e.to_string())?.result {
        Some(pb::commit_response::Result::Committed(c)) => Ok(c.log_index),
        other => Err(format!("not committed: {other:?}")),
    }
}

/// Reads root `name` as JSON: linearizable, or from the answering node's own state once it has
/// applied `local_min_index` (when given).
pub async fn get_root(
    client: &ClusterClient,
    name: &str,
    local_min_index: Option<u64>,
) -> Result<Option<serde_json::Value>, String> {
    let graph = client
        .read(pb::ReadRequest {
            roots: vec![name.to_string()],
            depth: json::JSON_DEPTH_MAX,
            local: local_min_index.is_some(),
            min_applied_index: local_min_index.unwrap_or(0),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let Some(root) = graph.roots.iter().find(|r| r.name == name) else {
        return Ok(None);
    };
    json::graph_to_json(root.id, &graph.objects).map(Some).map_err(|e| e.to_string())
}

/// Checks that every root in `acknowledged` (name, sequence) reads back with its document from
/// node `id`'s own state, once it has applied `min_index`.
pub async fn check_roots_on_node(test: &TestCluster, id: u64, acknowledged: &[(String, u64)], min_index: u64) {
    let client = test.node_client(id);
    for (name, sequence) in acknowledged {
        let got = get_root(&client, name, Some(min_index)).await.expect("local read answers");
        assert_eq!(got, Some(document(name, *sequence)), "root {name} on node {id}");
    }
}

impl TestCluster {
    /// As `start`, with the extra credentials `credentials` (name and role) in the cluster's
    /// `tokens.toml` before the nodes start (nodes read it only when they start); their tokens
    /// are in the security folder (`security().token(name)`, `client_security_as(name)`).
    pub fn start_with_credentials(
        name: &'static str,
        nodes: usize,
        extra_args: &[&str],
        credentials: &[(&str, heap_testkit::Role)],
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir for the cluster");
        let addrs: Vec<String> =
            free_ports(nodes).expect("free loopback ports").into_iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let node_addrs: Vec<(u64, String)> = (1..).zip(addrs.iter().cloned()).collect();
        let security_dir = dir.path().join(heap_testkit::SECURITY_DIR_NAME);
        let security = heap_testkit::ClusterSecurity::create(&security_dir, &node_addrs).expect("a security folder");
        for (credential, role) in credentials {
            security.add_token(credential, *role).expect("a new credential");
        }
        let extra_args = extra_args.iter().map(|s| s.to_string()).collect();
        let mut cluster = LocalCluster::new_secured(&server_binary(), dir.path(), addrs, extra_args)
            .expect("the security folder made above");
        cluster.start_all().expect("heap-server processes start");
        let test = Self { cluster, started: Instant::now(), name, _dir: dir };
        test.phase(&format!("started {nodes} secured nodes with {} extra credentials", credentials.len()));
        test
    }

    /// The cluster's security folder (every `start*` cluster but `start_plaintext` has one).
    pub fn security(&self) -> &heap_testkit::ClusterSecurity {
        self.cluster.security().expect("a secured test cluster")
    }

    /// A new `HeapClient` (its own session) connected to every node.
    pub async fn heap_client(&self) -> heap_client::HeapClient {
        heap_client::HeapClient::connect(&self.cluster.endpoints().join(","), &self.cluster.client_security())
            .await
            .expect("client connects")
    }
}

impl TestCluster {
    /// As `start`, with the cluster's folder made inside `parent` (a small file system the test
    /// mounted, to run the nodes short of disk space); `parent` must outlive the cluster.
    pub fn start_in(name: &'static str, parent: &std::path::Path, nodes: usize, extra_args: &[&str]) -> Self {
        let dir = tempfile::tempdir_in(parent).expect("a folder for the cluster inside the given parent");
        let addrs =
            free_ports(nodes).expect("free loopback ports").into_iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let extra_args = extra_args.iter().map(|s| s.to_string()).collect();
        let mut cluster =
            LocalCluster::new_secured(&server_binary(), dir.path(), addrs, extra_args).expect("a security folder");
        cluster.start_all().expect("heap-server processes start");
        let test = Self { cluster, started: Instant::now(), name, _dir: dir };
        test.phase(&format!("started {nodes} secured nodes in {}", parent.display()));
        test
    }
}
