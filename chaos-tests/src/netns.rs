//! `Network`: one network namespace per node, so the partition nemesis can cut node-to-node links
//! while clients (in the root namespace) still reach every node. Node i lives in namespace
//! `sovc<slot>-n<i>` with address 10.213.<slot>.<i> on a veth whose other end is on the bridge
//! `sovc<slot>-br` (10.213.<slot>.254, the runner's address). Nodes added later (the membership
//! nemesis) get a namespace of their own and the next free host number, round robin over
//! 1..=HOSTS_MAX (so a departed node's address is reused only after all others were); a node
//! that leaves has its namespace deleted. A cut is a `prohibit` route to the
//! peer's /32 in both namespaces. Everything with the `sovc<slot>-` prefix is deleted at the end
//! (and by `Drop`, so also on a panic or Ctrl-C), and any leftovers of an earlier run of the
//! same slot are deleted at the start. Needs root and iproute2 (`ip netns`).

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fs::File;
use std::process::Command;

/// The /16 all chaos networks live in; the slot picks the /24.
pub const SUBNET_PREFIX: &str = "10.213";
/// The runner's (bridge's) host number in the slot's /24.
pub const BRIDGE_HOST: u8 = 254;
/// Nodes one network starts with (host numbers 1..=NODES_MAX).
pub const NODES_MAX: u64 = 9;
/// Host numbers nodes may have, the starting ones and those added later (below the bridge's).
pub const HOSTS_MAX: u8 = BRIDGE_HOST - 1;
const _: () = assert!(NODES_MAX <= HOSTS_MAX as u64);
/// The port every node listens on inside its own network namespace.
pub const NODE_PORT: u16 = 7100;
/// Prefix of every namespace and link a chaos run creates.
pub const NAME_PREFIX: &str = "sovc";

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(
        "the partition nemesis needs root (it creates network namespaces with `ip netns`); this process runs as uid {0}. \
         Run as root, or leave partition out of --nemesis"
    )]
    NotRoot(String),
    #[error(
        "the partition nemesis needs `ip netns` (iproute2) and network namespaces: `{command}` failed: {error}. \
         Install iproute2 and run as root, or leave partition out of --nemesis"
    )]
    Unavailable { command: String, error: String },
    #[error("`{command}` failed: {error}")]
    Command { command: String, error: String },
    #[error("network slot {slot} is in use by another chaos run (lock {path}); pass another --net-slot")]
    SlotBusy { slot: u8, path: String },
    #[error("cannot open the slot lock {path}: {error}")]
    Lock { path: String, error: std::io::Error },
    #[error("a network starts with 1..={NODES_MAX} nodes, not {0}")]
    Nodes(u64),
    #[error("all {HOSTS_MAX} host addresses of the network are taken; no room for node {0}")]
    Full(u64),
}

/// Runs `ip` with `args`; the error carries the command line and its stderr.
fn ip(args: &[&str]) -> Result<String, NetError> {
    let command = format!("ip {}", args.join(" "));
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| NetError::Command { command: command.clone(), error: e.to_string() })?;
    if !output.status.success() {
        return Err(NetError::Command { command, error: String::from_utf8_lossy(&output.stderr).trim().to_string() });
    }
    Ok(String::from_utf8_lossy(&output.stdout).to_string())
}

/// The effective uid of this process, from /proc (no unsafe libc call needed).
fn effective_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2).map(str::to_string)
}

pub struct Network {
    slot: u8,
    /// Each node's host number in the slot's /24.
    hosts: BTreeMap<u64, u8>,
    /// The host number given out last (the next node gets the next free one after it).
    last_host: u8,
    cuts: BTreeSet<(u64, u64)>,
    torn_down: bool,
    /// Held for the run: a second run on the same slot refuses to start.
    _lock: File,
}

impl Network {
    fn prefix_of(slot: u8) -> String {
        format!("{NAME_PREFIX}{slot}-")
    }

    pub fn prefix(&self) -> String {
        Self::prefix_of(self.slot)
    }

    pub fn namespace(&self, id: u64) -> String {
        format!("{}n{id}", self.prefix())
    }

    fn bridge(&self) -> String {
        format!("{}br", self.prefix())
    }

    fn host_veth(&self, id: u64) -> String {
        format!("{}v{id}", self.prefix())
    }

    fn node_veth(&self, id: u64) -> String {
        format!("{}p{id}", self.prefix())
    }

    /// Node `id`'s address: its host number, or (a node the network does not hold) `id` itself.
    pub fn node_ip(&self, id: u64) -> String {
        let host = self.hosts.get(&id).map_or(id, |host| u64::from(*host));
        format!("{SUBNET_PREFIX}.{}.{host}", self.slot)
    }

    pub fn bridge_ip(&self) -> String {
        format!("{SUBNET_PREFIX}.{}.{BRIDGE_HOST}", self.slot)
    }

    /// What to put before the heap-server command line to run it in node `id`'s namespace
    /// (`ip netns exec` execs in place, so the pid is heap-server's).
    pub fn command_prefix(&self, id: u64) -> Vec<String> {
        vec!["ip".into(), "netns".into(), "exec".into(), self.namespace(id)]
    }

    /// Creates the bridge and one namespace per node (after deleting leftovers of this slot).
    pub fn create(slot: u8, nodes: u64) -> Result<Self, NetError> {
        if !(1..=NODES_MAX).contains(&nodes) {
            return Err(NetError::Nodes(nodes));
        }
        let uid = effective_uid().unwrap_or_else(|| "unknown".into());
        if uid != "0" {
            return Err(NetError::NotRoot(uid));
        }
        ip(&["netns", "list"])
            .map_err(|e| NetError::Unavailable { command: "ip netns list".into(), error: e.to_string() })?;
        let lock_path = std::env::temp_dir().join(format!("sovereign-chaos-net-{slot}.lock"));
        let lock = File::create(&lock_path)
            .map_err(|error| NetError::Lock { path: lock_path.display().to_string(), error })?;
        if lock.try_lock().is_err() {
            return Err(NetError::SlotBusy { slot, path: lock_path.display().to_string() });
        }
        remove_leftovers(&Self::prefix_of(slot));
        let hosts = (1..=nodes).map(|id| (id, id as u8)).collect();
        let last_host = nodes as u8;
        let mut network = Self { slot, hosts, last_host, cuts: BTreeSet::new(), torn_down: false, _lock: lock };
        network.build().inspect_err(|_| network.teardown())?;
        Ok(network)
    }

    fn build(&mut self) -> Result<(), NetError> {
        let bridge = self.bridge();
        ip(&["link", "add", &bridge, "type", "bridge"]).map_err(|e| match e {
            NetError::Command { command, error } => NetError::Unavailable { command, error },
            other => other,
        })?;
        ip(&["addr", "add", &format!("{}/24", self.bridge_ip()), "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        let ids: Vec<u64> = self.hosts.keys().copied().collect();
        for id in ids {
            self.build_node(id)?;
        }
        Ok(())
    }

    /// Node `id`'s namespace, with its veth on the bridge at its address.
    fn build_node(&self, id: u64) -> Result<(), NetError> {
        let (namespace, host, node) = (self.namespace(id), self.host_veth(id), self.node_veth(id));
        ip(&["netns", "add", &namespace])?;
        ip(&["link", "add", &host, "type", "veth", "peer", "name", &node, "netns", &namespace])?;
        ip(&["link", "set", &host, "master", &self.bridge(), "up"])?;
        ip(&["-n", &namespace, "link", "set", "lo", "up"])?;
        ip(&["-n", &namespace, "addr", "add", &format!("{}/24", self.node_ip(id)), "dev", &node])?;
        ip(&["-n", &namespace, "link", "set", &node, "up"])?;
        Ok(())
    }

    /// A namespace for a node added to the running cluster, at the next free host number; its IP.
    pub fn add_node(&mut self, id: u64) -> Result<String, NetError> {
        if let Some(host) = self.hosts.get(&id) {
            return Ok(format!("{SUBNET_PREFIX}.{}.{host}", self.slot));
        }
        let taken: BTreeSet<u8> = self.hosts.values().copied().collect();
        let host = (1..=HOSTS_MAX)
            .map(|step| ((u16::from(self.last_host) + u16::from(step) - 1) % u16::from(HOSTS_MAX) + 1) as u8)
            .find(|host| !taken.contains(host))
            .ok_or(NetError::Full(id))?;
        self.hosts.insert(id, host);
        self.last_host = host;
        if let Err(e) = self.build_node(id) {
            self.remove_node(id);
            return Err(e);
        }
        Ok(self.node_ip(id))
    }

    /// Deletes the namespace of a node that left (best effort, as `teardown`), freeing its address.
    pub fn remove_node(&mut self, id: u64) {
        self.cuts.retain(|(from, to)| *from != id && *to != id);
        let namespace = self.namespace(id);
        // Names are matched exactly here: node 1's names are prefixes of node 10's.
        let pids = ip(&["netns", "pids", &namespace]).unwrap_or_default();
        for pid in pids.split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
        if let Err(e) = ip(&["link", "del", &self.host_veth(id)]) {
            eprintln!("chaos: could not delete link {}: {e}", self.host_veth(id));
        }
        if let Err(e) = ip(&["netns", "del", &namespace]) {
            eprintln!("chaos: could not delete network namespace {namespace}: {e}");
        }
        self.hosts.remove(&id);
    }

    /// Cuts the link between nodes `a` and `b` in both directions.
    pub fn cut(&mut self, a: u64, b: u64) -> Result<(), NetError> {
        for (from, to) in [(a, b), (b, a)] {
            if self.cuts.insert((from, to)) {
                let peer = format!("{}/32", self.node_ip(to));
                ip(&["-n", &self.namespace(from), "route", "add", "prohibit", &peer])?;
            }
        }
        Ok(())
    }

    /// Restores every cut link.
    pub fn heal(&mut self) -> Result<(), NetError> {
        let cuts: Vec<(u64, u64)> = self.cuts.iter().copied().collect();
        for (from, to) in cuts {
            let peer = format!("{}/32", self.node_ip(to));
            ip(&["-n", &self.namespace(from), "route", "del", "prohibit", &peer])?;
            self.cuts.remove(&(from, to));
        }
        Ok(())
    }

    /// Deletes everything this network created (best effort; reports what it could not delete).
    pub fn teardown(&mut self) {
        if self.torn_down {
            return;
        }
        self.torn_down = true;
        remove_leftovers(&self.prefix());
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Every namespace and root-namespace link whose name starts with `prefix`.
fn leftovers(prefix: &str) -> (Vec<String>, Vec<String>) {
    let namespaces = ip(&["netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect();
    // `ip -o link show` lines look like "7: sovc1-v1@if6: <...> ...".
    let links = ip(&["-o", "link", "show"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(':').nth(1))
        .map(|name| name.trim().split('@').next().unwrap_or_default().to_string())
        .filter(|n| n.starts_with(prefix))
        .collect();
    (namespaces, links)
}

/// Deletes the namespaces and links of `prefix`; processes still inside a namespace (heap-servers
/// of a run that died) are killed first, or they would keep the namespace's network alive.
fn remove_leftovers(prefix: &str) {
    let (namespaces, links) = leftovers(prefix);
    for namespace in &namespaces {
        let pids = ip(&["netns", "pids", namespace]).unwrap_or_default();
        for pid in pids.split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
    }
    // Host-side veths first: deleting a namespace removes its veth peers only asynchronously.
    let (bridges, veths): (Vec<&String>, Vec<&String>) = links.iter().partition(|l| l.ends_with("br"));
    for link in veths.into_iter().chain(bridges) {
        if let Err(e) = ip(&["link", "del", link]) {
            eprintln!("chaos: could not delete link {link}: {e}");
        }
    }
    for namespace in &namespaces {
        if let Err(e) = ip(&["netns", "del", namespace]) {
            eprintln!("chaos: could not delete network namespace {namespace}: {e}");
        }
    }
}

/// Names with `prefix` still present (for tests and the end-of-run check).
pub fn remaining(prefix: &str) -> Vec<String> {
    let (mut namespaces, links) = leftovers(prefix);
    namespaces.extend(links);
    namespaces
}
