//! The files in deploy/ work as shipped: the three systemd node configs start a real secured
//! cluster (only the data dir and the security file paths overridden by flags), the Kubernetes
//! and compose YAML agree with themselves and with the node's flags, and the systemd unit is
//! valid (`systemd-analyze verify` where systemd exists, a check of its keys always).

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::io::Read;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use heap_client::ClusterClient;
use heap_testkit::ClusterSecurity;
use serde::Deserialize;
use serde_yaml::Value;

use super::support::*;

/// The node ids of the three configs `deploy/systemd/node<ID>.toml`.
const NODE_IDS: [u64; 3] = [1, 2, 3];
/// Poll interval while waiting for a leader or a metrics port (each wait has its deadline).
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Lines of each node's log printed when the cluster test fails.
const LOG_TAIL_LINES: usize = 40;
/// Where the security files live in every deploy/ variant (systemd configs, the pods' Secret,
/// the compose bind mount).
const SECURITY_DIR_DEPLOYED: &str = "/etc/sovereign";
/// The parent of the nodes' data dirs in the systemd configs (the unit's StateDirectory).
const STATE_DIR_DEPLOYED: &str = "/var/lib/sovereign";

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// The settings of a `deploy/systemd/node<ID>.toml` this test relies on (the node rejects keys it
/// does not know; this test ignores the ones it does not check).
#[derive(Debug, Deserialize)]
struct NodeToml {
    id: u64,
    listen: String,
    peers: String,
    data_dir: PathBuf,
    http_listen: String,
    tls_ca: PathBuf,
    tls_cert: PathBuf,
    tls_key: PathBuf,
    tokens: PathBuf,
}

fn node_config_path(id: u64) -> PathBuf {
    deploy_dir().join(format!("systemd/node{id}.toml"))
}

fn read_node_config(id: u64) -> NodeToml {
    let path = node_config_path(id);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

/// `1=HOST:PORT,2=...` as a map (the node's own parser is in the binary crate).
fn peer_map(peers: &str) -> BTreeMap<u64, String> {
    peers
        .split(',')
        .map(|entry| {
            let (id, addr) = entry.trim().split_once('=').unwrap_or_else(|| panic!("peer entry {entry:?}"));
            (id.parse().unwrap_or_else(|_| panic!("peer id in {entry:?}")), addr.to_string())
        })
        .collect()
}

fn port_of(addr: &str) -> u16 {
    let port = addr.rsplit_once(':').map(|(_, port)| port).unwrap_or_default();
    port.parse().unwrap_or_else(|_| panic!("no port in {addr:?}"))
}

/// The configs agree with each other and with the deployed layout: ids 1..3, one `peers` line
/// naming each node at its `listen`, distinct metrics ports, paths under the unit's directories.
fn check_node_configs(configs: &[NodeToml]) {
    let peers = peer_map(&configs[0].peers);
    assert_eq!(peers.keys().copied().collect::<Vec<_>>(), NODE_IDS, "peers name nodes 1..3");
    let http: BTreeSet<&str> = configs.iter().map(|c| c.http_listen.as_str()).collect();
    assert_eq!(http.len(), configs.len(), "each node has its own http_listen");
    for (config, id) in configs.iter().zip(NODE_IDS) {
        assert_eq!(config.id, id, "node{id}.toml has id {id}");
        assert_eq!(config.peers, configs[0].peers, "node{id}.toml has the same peers line as node1.toml");
        assert_eq!(peers[&id], config.listen, "node{id}.toml listens where peers says");
        assert_eq!(config.data_dir, Path::new(STATE_DIR_DEPLOYED).join(format!("node{id}")));
        for (file, name) in [
            (&config.tls_ca, proto::security::CA_FILE.to_string()),
            (&config.tls_cert, proto::security::node_cert_file(id)),
            (&config.tls_key, proto::security::node_key_file(id)),
            (&config.tokens, proto::security::TOKENS_FILE.to_string()),
        ] {
            assert_eq!(*file, Path::new(SECURITY_DIR_DEPLOYED).join(name), "node{id}.toml");
        }
    }
}

/// The three nodes started from the deploy configs; killed when dropped, with their logs printed
/// if the test failed.
struct DeployedNodes {
    children: Vec<(u64, Child)>,
    log_dir: PathBuf,
}

impl DeployedNodes {
    /// Runs `heap-server --config deploy/systemd/node<ID>.toml` with only the data dir and the
    /// security files given as flags (flags win over the file).
    fn start(security: &ClusterSecurity, work_dir: &Path) -> Self {
        let mut nodes = Self { children: Vec::new(), log_dir: work_dir.to_path_buf() };
        for id in NODE_IDS {
            let log = std::fs::File::create(nodes.log_path(id)).expect("a log file");
            let child = Command::new(server_binary())
                .arg("--config")
                .arg(node_config_path(id))
                .arg("--data-dir")
                .arg(work_dir.join(format!("node{id}")))
                .args(security.node_flags(id))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("a log handle"))
                .stderr(log)
                .spawn()
                .expect("heap-server starts");
            nodes.children.push((id, child));
        }
        nodes
    }

    fn log_path(&self, id: u64) -> PathBuf {
        self.log_dir.join(format!("node{id}.log"))
    }

    /// Nodes that exited, with their status (a config the node refuses ends it at once).
    fn exited(&mut self) -> Vec<(u64, std::process::ExitStatus)> {
        self.children.iter_mut().filter_map(|(id, child)| Some((*id, child.try_wait().ok()??))).collect()
    }
}

impl Drop for DeployedNodes {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            for (id, _) in &self.children {
                let log = std::fs::read_to_string(self.log_path(*id)).unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
                eprintln!("---- node {id} log (last {LOG_TAIL_LINES} lines at most) ----\n{tail}");
            }
        }
    }
}

/// Fails clearly when an address the configs name is taken: the test cannot move the cluster.
fn assert_free(addr: &str, id: u64) {
    if let Err(error) = std::net::TcpListener::bind(addr) {
        panic!(
            "{addr} (from deploy/systemd/node{id}.toml) is taken: {error}. Stop what listens there (`heapctl dev \
             up` uses 127.0.0.1:7101-7103) and run t95_deploy again"
        );
    }
}

/// Waits until every node answers and names the same leader; returns it.
async fn wait_for_leader(client: &ClusterClient, nodes: &mut DeployedNodes) -> u64 {
    let started = Instant::now();
    loop {
        assert_eq!(nodes.exited(), Vec::new(), "a node exited (its log is below)");
        let mut leaders = BTreeSet::new();
        for index in 0..NODE_IDS.len() {
            leaders.insert(client.status_of(index).await.map(|s| s.leader_id).unwrap_or(0));
        }
        if let [leader] = leaders.into_iter().collect::<Vec<_>>()[..] {
            if leader != 0 {
                return leader;
            }
        }
        assert!(
            started.elapsed() < CONDITION_TIMEOUT,
            "no leader all three nodes agree on within {CONDITION_TIMEOUT:?}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// `GET /metrics` at `addr` once it answers (bounded by `CONDITION_TIMEOUT`): status line, body.
fn scrape_metrics(addr: &str) -> (String, String) {
    let started = Instant::now();
    let mut stream = loop {
        match std::net::TcpStream::connect(addr) {
            Ok(stream) => break stream,
            Err(error) if started.elapsed() > CONDITION_TIMEOUT => panic!("metrics at {addr}: {error}"),
            Err(_) => std::thread::sleep(POLL_INTERVAL),
        }
    };
    stream.set_read_timeout(Some(CLIENT_DEADLINE)).expect("a read timeout");
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    let (head, body) = response.split_once("\r\n\r\n").expect("headers end");
    (head.lines().next().unwrap_or_default().to_string(), body.to_string())
}

/// The three shipped configs form a secured cluster on loopback: a root written through it reads
/// back from every node, each node serves /metrics on its configured `http_listen`, and the data
/// goes where the `--data-dir` flag (not the file) says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_systemd_node_configs_start_a_real_cluster() {
    let started = Instant::now();
    let configs: Vec<NodeToml> = NODE_IDS.iter().map(|id| read_node_config(*id)).collect();
    check_node_configs(&configs);
    for config in &configs {
        assert_free(&config.listen, config.id);
        assert_free(&config.http_listen, config.id);
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let addrs: Vec<(u64, String)> = configs.iter().map(|c| (c.id, c.listen.clone())).collect();
    let security =
        ClusterSecurity::create(&dir.path().join(heap_testkit::SECURITY_DIR_NAME), &addrs).expect("a security folder");
    let mut nodes = DeployedNodes::start(&security, dir.path());
    let endpoints: Vec<String> = configs.iter().map(|c| c.listen.clone()).collect();
    let client =
        ClusterClient::connect(&endpoints, security.admin_client_security(), CLIENT_DEADLINE).expect("a client");
    let leader = wait_for_leader(&client, &mut nodes).await;
    eprintln!("[deploy +{} ms] node {leader} leads the cluster from deploy/systemd", started.elapsed().as_millis());

    set_root(&client, "deployed", 1).await.expect("a write commits");
    for config in &configs {
        let node_client = ClusterClient::connect(
            std::slice::from_ref(&config.listen),
            security.admin_client_security(),
            CLIENT_DEADLINE,
        )
        .expect("a node client");
        let got = get_root(&node_client, "deployed", None).await.expect("a read answers");
        assert_eq!(got, Some(document("deployed", 1)), "root read through node {}", config.id);
        let (status, body) = scrape_metrics(&config.http_listen);
        assert!(status.contains("200"), "node {} /metrics: {status}", config.id);
        let own_id = format!("\nsovereign_node_id {}\n", config.id);
        assert!(body.contains(&own_id), "node {} /metrics lacks {own_id:?}:\n{body}", config.id);
        let data_dir = dir.path().join(format!("node{}", config.id));
        let entries = std::fs::read_dir(&data_dir).map(Iterator::count).unwrap_or(0);
        assert!(entries > 0, "node {} keeps its data in the --data-dir flag's {}", config.id, data_dir.display());
    }
    assert_eq!(nodes.exited(), Vec::new(), "every node still runs");
    eprintln!("[deploy +{} ms] root read back via every node; /metrics on 7191-7193", started.elapsed().as_millis());
}

/// Every YAML document in `path`, with `<<:` merge keys applied.
fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| {
            let mut value =
                Value::deserialize(document).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            value.apply_merge().unwrap_or_else(|e| panic!("{}: merge keys: {e}", path.display()));
            value
        })
        .filter(|value| !value.is_null())
        .collect()
}

/// The string at `value`, or a failure naming `what`.
fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    value.as_str().unwrap_or_else(|| panic!("{what} is not a string: {value:?}"))
}

fn number(value: &Value, what: &str) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("{what} is not a number: {value:?}"))
}

/// The word after `flag` in a shell script or an argument list, without quotes.
fn flag_value(words: &[String], flag: &str) -> String {
    let index = words.iter().position(|w| w == flag).unwrap_or_else(|| panic!("no {flag} in {words:?}"));
    words.get(index + 1).map(|w| w.trim_matches('"').to_string()).unwrap_or_else(|| panic!("{flag} has no value"))
}

/// The Kubernetes objects in deploy/kubernetes, by kind.
fn kubernetes_objects() -> BTreeMap<String, Vec<Value>> {
    let mut objects: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let dir = deploy_dir().join("kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for document in files.iter().flat_map(|path| yaml_documents(path)) {
        objects.entry(text(&document["kind"], "kind").to_string()).or_default().push(document);
    }
    objects
}

/// Resolves a port reference (`targetPort`, a probe's `port`) to a number via the named ports.
fn resolve_port(reference: &Value, named: &BTreeMap<String, u64>) -> u64 {
    match reference.as_str() {
        Some(name) => *named.get(name).unwrap_or_else(|| panic!("no container port named {name}")),
        None => number(reference, "port"),
    }
}

/// What the StatefulSet's command says: listen and metrics ports, data dir, CA file.
struct PodCommand {
    listen_port: u64,
    http_port: u64,
    data_dir: String,
    tls_ca: String,
}

/// Checks the entrypoint script (id from the ordinal, peers as the pods' stable names under the
/// headless Service) and returns its settings.
fn check_pod_command(container: &Value, name: &str, service: &str, replicas: u64) -> PodCommand {
    let script = text(&container["args"][0], "the container's sh -c script");
    assert!(script.contains("ID=$((ordinal + 1))"), "the node id is the ordinal plus one:\n{script}");
    let words: Vec<String> =
        script.split_whitespace().filter(|w| *w != "\\").map(|w| w.trim_end_matches('\\').to_string()).collect();
    let listen_port = u64::from(port_of(&flag_value(&words, "--listen")));
    let domain = format!("domain=\"{service}.${{POD_NAMESPACE}}.svc.cluster.local\"");
    assert!(script.contains(&domain), "peers live under the headless Service ({domain}):\n{script}");
    for ordinal in 0..replicas {
        let peer = format!("{}={name}-{ordinal}.${{domain}}:{listen_port}", ordinal + 1);
        assert!(script.contains(&peer), "--peers names pod {ordinal} as {peer}:\n{script}");
    }
    assert_eq!(flag_value(&words, "--peers"), "$peers");
    assert_eq!(flag_value(&words, "--id"), "$ID");
    PodCommand {
        listen_port,
        http_port: u64::from(port_of(&flag_value(&words, "--http-listen"))),
        data_dir: flag_value(&words, "--data-dir"),
        tls_ca: flag_value(&words, "--tls-ca"),
    }
}

/// The container: ports match the command, probes hit /metrics on the http port, the data dir is
/// on the claim template's volume and the CA comes from a Secret.
fn check_container(statefulset: &Value, command: &PodCommand) -> BTreeMap<String, u64> {
    let pod = &statefulset["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let named: BTreeMap<String, u64> = container["ports"]
        .as_sequence()
        .expect("container ports")
        .iter()
        .map(|p| (text(&p["name"], "port name").to_string(), number(&p["containerPort"], "containerPort")))
        .collect();
    assert_eq!(named.get("grpc"), Some(&command.listen_port), "containerPort grpc is --listen's port");
    assert_eq!(named.get("http"), Some(&command.http_port), "containerPort http is --http-listen's port");
    for probe in ["readinessProbe", "livenessProbe"] {
        let get = &container[probe]["httpGet"];
        assert_eq!(text(&get["path"], probe), "/metrics");
        assert_eq!(resolve_port(&get["port"], &named), command.http_port, "{probe} hits the http port");
    }
    let claim = text(&statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"], "claim template");
    let mounts = container["volumeMounts"].as_sequence().expect("volume mounts");
    let mount_of = |volume: &str| mounts.iter().find(|m| m["name"].as_str() == Some(volume)).map(|m| &m["mountPath"]);
    let data_mount = text(mount_of(claim).expect("the claim is mounted"), "data mountPath");
    assert!(command.data_dir.starts_with(data_mount), "--data-dir {} is on the claim's volume", command.data_dir);
    let secret_volume = pod["volumes"]
        .as_sequence()
        .expect("pod volumes")
        .iter()
        .find(|v| v["secret"].is_mapping())
        .expect("TLS material from a Secret");
    let tls_mount = text(mount_of(text(&secret_volume["name"], "volume name")).expect("mounted"), "mountPath");
    assert_eq!(Path::new(&command.tls_ca).parent(), Some(Path::new(tls_mount)), "--tls-ca is in the Secret");
    assert!(number(&pod["terminationGracePeriodSeconds"], "grace period") >= 15, "time for a clean SIGTERM stop");
    assert!(container["resources"]["requests"].is_mapping(), "resources are requested");
    named
}

/// The StatefulSet, its Services and its PodDisruptionBudget agree: the headless Service is the
/// StatefulSet's, publishes not-ready pods, all select the pods' labels, ports line up with the
/// node's flags and the budget lets at most one of the three pods go.
#[test]
fn the_kubernetes_manifests_agree_with_each_other() {
    let objects = kubernetes_objects();
    let [statefulset] = &objects["StatefulSet"][..] else { panic!("one StatefulSet") };
    let [budget] = &objects["PodDisruptionBudget"][..] else { panic!("one PodDisruptionBudget") };
    let spec = &statefulset["spec"];
    let name = text(&statefulset["metadata"]["name"], "StatefulSet name");
    let service_name = text(&spec["serviceName"], "serviceName");
    let replicas = number(&spec["replicas"], "replicas");
    assert_eq!(replicas, 3);
    assert_eq!(text(&spec["podManagementPolicy"], "podManagementPolicy"), "Parallel");
    let labels = &spec["template"]["metadata"]["labels"];
    assert_eq!(&spec["selector"]["matchLabels"], labels, "the StatefulSet selects its pods");

    let command = check_pod_command(&spec["template"]["spec"]["containers"][0], name, service_name, replicas);
    let named_ports = check_container(statefulset, &command);
    let services = &objects["Service"];
    assert_eq!(services.len(), 2, "a headless and a client Service");
    for service in services {
        let service_spec = &service["spec"];
        assert_eq!(&service_spec["selector"], labels, "Service {:?} selects the pods", service["metadata"]["name"]);
        let grpc = service_spec["ports"].as_sequence().expect("ports").iter().find(|p| p["name"] == "grpc");
        let target = &grpc.expect("a grpc port")["targetPort"];
        assert_eq!(resolve_port(target, &named_ports), command.listen_port, "the Service reaches --listen");
    }
    let headless = services
        .iter()
        .find(|s| s["metadata"]["name"].as_str() == Some(service_name))
        .expect("the StatefulSet's serviceName is one of the Services");
    assert_eq!(text(&headless["spec"]["clusterIP"], "clusterIP"), "None", "the peers' Service is headless");
    assert_eq!(headless["spec"]["publishNotReadyAddresses"].as_bool(), Some(true), "peers resolve before ready");

    assert_eq!(&budget["spec"]["selector"]["matchLabels"], labels, "the budget covers the pods");
    let allowed_down = match (budget["spec"]["maxUnavailable"].as_u64(), budget["spec"]["minAvailable"].as_u64()) {
        (Some(max_unavailable), None) => max_unavailable,
        (None, Some(min_available)) => replicas - min_available,
        other => panic!("the budget sets one of maxUnavailable and minAvailable as a number: {other:?}"),
    };
    assert_eq!(allowed_down, 1, "at most one of three pods down by choice: a majority stays");
}

/// compose.yaml runs three nodes that agree: ids 1..3, one `--peers` line naming each service at
/// its `--listen` port, the published ports and volumes line up, and the security files are those
/// of the systemd config with the same id.
#[test]
fn the_compose_file_agrees_with_itself_and_the_node_configs() {
    let [compose] = &yaml_documents(&deploy_dir().join("compose/compose.yaml"))[..] else { panic!("one document") };
    let services = compose["services"].as_mapping().expect("services");
    assert_eq!(services.len(), 3, "three nodes");
    let mut ids = Vec::new();
    let mut peers_lines = BTreeSet::new();
    let mut data_volumes = BTreeSet::new();
    for (service_name, service) in services {
        let service_name = text(service_name, "service name");
        let words: Vec<String> = service["command"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{service_name}: command is a list of flags"))
            .iter()
            .map(|w| text(w, "a command word").to_string())
            .collect();
        let id: u64 = flag_value(&words, "--id").parse().expect("--id is a number");
        let peers = flag_value(&words, "--peers");
        let listen_port = port_of(&flag_value(&words, "--listen"));
        assert_eq!(peer_map(&peers).get(&id), Some(&format!("{service_name}:{listen_port}")), "{service_name}");
        let published = service["ports"].as_sequence().expect("ports").iter().map(|p| text(p, "port").to_string());
        let container_ports: BTreeSet<u16> = published.map(|p| port_of(&p)).collect();
        let http_port = port_of(&flag_value(&words, "--http-listen"));
        assert_eq!(container_ports, BTreeSet::from([listen_port, http_port]), "{service_name} publishes its ports");
        let config = read_node_config(id);
        let files = [
            ("--tls-ca", &config.tls_ca),
            ("--tls-cert", &config.tls_cert),
            ("--tls-key", &config.tls_key),
            ("--tokens", &config.tokens),
        ];
        for (flag, file) in files {
            assert_eq!(Path::new(&flag_value(&words, flag)), file, "{service_name} {flag} as in node{id}.toml");
        }
        let data_dir = flag_value(&words, "--data-dir");
        let volumes = service["volumes"].as_sequence().expect("volumes");
        let data_volume = volumes
            .iter()
            .map(|v| text(v, "volume").split(':').collect::<Vec<_>>())
            .find(|parts| parts.len() >= 2 && data_dir.starts_with(parts[1]))
            .unwrap_or_else(|| panic!("{service_name}: no volume holds --data-dir {data_dir}"))[0]
            .to_string();
        assert!(compose["volumes"][data_volume.as_str()].is_null(), "{data_volume} is a named volume");
        assert!(compose["volumes"].as_mapping().expect("volumes").contains_key(data_volume.as_str()));
        data_volumes.insert(data_volume);
        ids.push(id);
        peers_lines.insert(peers);
    }
    ids.sort_unstable();
    assert_eq!(ids, NODE_IDS, "--id values are 1..3");
    assert_eq!(peers_lines.len(), 1, "every node has the same --peers: {peers_lines:?}");
    assert_eq!(data_volumes.len(), 3, "each node has its own data volume");
}

/// `[Section]` -> key -> values (a key may repeat) of a systemd unit file.
fn unit_keys(text: &str) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut sections: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("not KEY=VALUE: {line:?}"));
        sections.entry(section.clone()).or_default().entry(key.to_string()).or_default().push(value.to_string());
    }
    sections
}

/// The unit runs the node from its config file and restarts it when it fails, hardened; and, where
/// systemd is installed, `systemd-analyze verify` accepts it without a single warning.
#[test]
fn the_systemd_unit_is_valid() {
    let unit_path = deploy_dir().join("systemd/heap-server@.service");
    let unit = std::fs::read_to_string(&unit_path).expect("the unit file");
    let keys = unit_keys(&unit);
    let service = &keys["Service"];
    let one = |key: &str| -> &str {
        match service.get(key).map(Vec::as_slice) {
            Some([value]) => value,
            other => panic!("[Service] {key}= once, found {other:?}"),
        }
    };
    let exec_start = one("ExecStart");
    assert!(exec_start.ends_with("--config /etc/sovereign/node%i.toml"), "ExecStart runs the node's config");
    let config_for_instance_1 = exec_start.rsplit(' ').next().unwrap_or_default().replace("%i", "1");
    assert_eq!(Path::new(&config_for_instance_1).file_name(), node_config_path(1).file_name());
    for (key, value) in [
        ("Restart", "on-failure"),
        // heap-server's status when the membership does not name it: restarting cannot help.
        ("RestartPreventExitStatus", "78"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("PrivateTmp", "yes"),
        ("StateDirectory", "sovereign"),
        ("ReadWritePaths", STATE_DIR_DEPLOYED),
        ("KillSignal", "SIGTERM"),
    ] {
        assert_eq!(one(key), value, "[Service] {key}");
    }
    assert!(one("LimitNOFILE").parse::<u64>().expect("LimitNOFILE is a number") >= 8_192);
    eprintln!("systemd unit: checked its keys (ExecStart --config, Restart=on-failure, hardening)");

    let analyze = Command::new("systemd-analyze").arg("--version").output();
    if !analyze.is_ok_and(|output| output.status.success()) {
        eprintln!("systemd unit: systemd-analyze is not installed here; verify not run, the key check above stands");
        return;
    }
    // A copy whose ExecStart names the built binary (verify checks that it is executable).
    let dir = tempfile::tempdir().expect("a temp dir");
    let copy = dir.path().join("heap-server@.service");
    std::fs::write(&copy, unit.replace("/usr/local/bin/heap-server", &server_binary().display().to_string()))
        .expect("write the copy");
    let output = Command::new("systemd-analyze").arg("verify").arg(&copy).output().expect("systemd-analyze runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && stderr.trim().is_empty(), "systemd-analyze verify: {}\n{stderr}", output.status);
    eprintln!("systemd unit: systemd-analyze verify passed with no warnings");
}
