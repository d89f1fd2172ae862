//! Whether this node's identity matches the cluster's membership, at start and while it runs.
//!
//! A node started with an id or address the membership does not have would otherwise sit as a
//! candidate or a silent learner for ever. At start: a node whose stored membership lacks it (it
//! was removed) or names another address for its id exits with `EXIT_NOT_A_MEMBER`, saying what
//! to do; a node started with `--join` asks the cluster (its certificate admits it to `Status`)
//! and exits the same way if its id is taken at another address. While running: a node that a
//! newer membership leaves out exits the same way. Supervisors should not restart on that code
//! (systemd: `RestartPreventExitStatus=78`), since a restart cannot fix it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use openraft::async_runtime::WatchReceiver;
use proto::heap as pb;
use proto::heap::heap_client::HeapClient;
use proto::security::CLUSTER_SERVER_NAME;

use crate::config::NodeConfig;
use crate::consensus_gate::ConsensusGate;
use crate::context::HeapRaft;
use crate::limits::PEER_CONNECT_TIMEOUT_MS;
use crate::tls::peer_endpoint;
use crate::tls::NodeTls;

/// The exit status of a node whose identity does not match the membership (EX_CONFIG).
pub const EXIT_NOT_A_MEMBER: i32 = 78;
/// How long a joining node waits for each endpoint's answer at start (and a node that knows no
/// leader, for each member's answer).
const JOIN_PROBE_TIMEOUT_MS: u64 = 5_000;
/// How often a node that knows no leader asks the other members whether it was removed.
const REMOVAL_PROBE_INTERVAL_MS: u64 = 1_000;
/// A follower that has heard no leader traffic for this long asks too: with pre-vote it keeps
/// naming its last leader while its campaigns are refused, so "knows no leader" alone misses a
/// removed follower. Far above the election timeout, so a healthy follower never asks.
const LEADER_SILENCE_PROBE_MS: u64 = 1_000;

/// This node's identity does not match the membership; the message says what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Mismatch {
    #[error(
        "node {id} is not a member of the cluster (members: {members}); it was removed. To bring it back, wipe its \
         data dir and start it with --join, then run heapctl member add {id} ADDRESS"
    )]
    Removed { id: u64, members: String },
    #[error(
        "the cluster knows node {id} at {member_addr}, but this node is at {own_addr}; start it with the address \
         the members know (or, if the id is taken by another node, with an unused --id)"
    )]
    OtherAddr { id: u64, member_addr: String, own_addr: String },
}

/// Whether the address the membership has for this node names this node: equal, or (when the
/// node listens on all interfaces) with the same port.
pub fn addr_matches(member_addr: &str, own_addr: &str, listen: SocketAddr) -> bool {
    if member_addr == own_addr {
        return true;
    }
    let member_port = member_addr.rsplit_once(':').and_then(|(_, port)| port.parse::<u16>().ok());
    listen.ip().is_unspecified() && member_port == Some(listen.port())
}

/// Checks this node against a membership (`nodes`: id to address). An empty membership (a node
/// that has not joined yet) matches.
pub fn check(id: u64, own_addr: &str, listen: SocketAddr, nodes: &BTreeMap<u64, String>) -> Result<(), Mismatch> {
    if nodes.is_empty() {
        return Ok(());
    }
    match nodes.get(&id) {
        None => Err(Mismatch::Removed { id, members: describe(nodes) }),
        Some(member_addr) if !addr_matches(member_addr, own_addr, listen) => {
            Err(Mismatch::OtherAddr { id, member_addr: member_addr.clone(), own_addr: own_addr.to_string() })
        }
        Some(_) => Ok(()),
    }
}

fn describe(nodes: &BTreeMap<u64, String>) -> String {
    nodes.iter().map(|(id, addr)| format!("{id}={addr}")).collect::<Vec<_>>().join(",")
}

/// The membership this node holds, with its log index (0 when it has none), and whether this
/// node leads.
fn stored_membership(raft: &HeapRaft) -> (u64, BTreeMap<u64, String>, bool) {
    let receiver = raft.metrics();
    let metrics = receiver.borrow_watched();
    let index = metrics.membership_config.log_id().as_ref().map_or(0, |log_id| log_id.index);
    let nodes = metrics.membership_config.nodes().map(|(id, node)| (*id, node.addr.clone())).collect();
    (index, nodes, metrics.state.is_leader())
}

/// The check at start, on the membership this node stored (asked of Raft itself: its metrics
/// may not show the stored state yet). A joining node that has only the membership of a snapshot
/// older than its admission is not removed: it waits for the log.
pub async fn check_at_start(raft: &HeapRaft, config: &NodeConfig) -> anyhow::Result<()> {
    let nodes: BTreeMap<u64, String> = raft
        .with_raft_state(|state| {
            let effective = state.membership_state.effective();
            effective.membership().nodes().map(|(id, node)| (*id, node.addr.clone())).collect()
        })
        .await?;
    let result = check(config.id, config.own_addr(), config.listen, &nodes);
    match result {
        Err(Mismatch::Removed { .. }) if !config.join.is_empty() => {
            tracing::info!("this joining node has no membership naming it yet; waiting for the leader's log");
            Ok(())
        }
        other => Ok(other?),
    }
}

/// A joining node asks the cluster whether its id is taken at another address. Endpoints that do
/// not answer are skipped (the cluster may be busy); the node then waits to be added.
async fn probe_join(config: &NodeConfig, tls: Option<&NodeTls>) -> Result<(), Mismatch> {
    for endpoint in &config.join {
        let Some((_, nodes)) = members_at(endpoint, tls).await else { continue };
        if !nodes.contains_key(&config.id) {
            tracing::info!(
                endpoint = %endpoint,
                "not a member yet: run `heapctl member add {} {}` to add this node",
                config.id,
                config.own_addr()
            );
            return Ok(());
        }
        return check(config.id, config.own_addr(), config.listen, &nodes);
    }
    tracing::warn!(endpoints = ?config.join, "no --join endpoint answered; waiting to be added all the same");
    Ok(())
}

/// The membership (its log index and members) as the node at `endpoint` sees it, or `None` if
/// it does not answer.
async fn members_at(endpoint: &str, tls: Option<&NodeTls>) -> Option<(u64, BTreeMap<u64, String>)> {
    let channel = peer_endpoint(tls, endpoint, CLUSTER_SERVER_NAME)
        .ok()?
        .connect_timeout(Duration::from_millis(PEER_CONNECT_TIMEOUT_MS))
        .timeout(Duration::from_millis(JOIN_PROBE_TIMEOUT_MS))
        .connect_lazy();
    // The whole call is bounded: a paused peer accepts the connection but never completes TLS.
    let timeout = Duration::from_millis(JOIN_PROBE_TIMEOUT_MS);
    let answer = tokio::time::timeout(timeout, HeapClient::new(channel).status(pb::StatusRequest {})).await;
    let answer = answer.unwrap_or_else(|_| Err(tonic::Status::deadline_exceeded("no answer in time")));
    match answer {
        Ok(status) => {
            let status = status.into_inner();
            Some((status.membership_index, status.members.into_iter().map(|m| (m.id, m.addr)).collect()))
        }
        Err(e) => {
            tracing::warn!(endpoint, error = %e.message(), "a --join endpoint did not answer");
            None
        }
    }
}

/// Resolves when a membership newer than any naming this node leaves it out (it was removed or
/// replaced), with the reason. Never resolves while the node stays a member.
///
/// Two ways to learn it: from the log (the node appended the change: a removed leader, which
/// first commits the change and steps down, so the operator's call is answered before it goes);
/// or, for a removed follower, which the leader stops replicating to as soon as the change is
/// appended and so never sees it, by asking the other members' `Status` whenever it knows no
/// leader or has heard none for `LEADER_SILENCE_PROBE_MS` (its campaigns are refused). The same question is asked when the
/// gate refused leader traffic from a non-member: a newer membership that names this node is
/// admitted at the gate (this node lags behind the change that added the new leader).
pub async fn removed(
    config: &NodeConfig,
    raft: HeapRaft,
    gate: Arc<ConsensusGate>,
    tls: Option<Arc<NodeTls>>,
) -> Mismatch {
    let id = config.id;
    // A joining node asks first whether its id is taken elsewhere (while it already serves, so
    // the leader can reach it meanwhile).
    if !config.join.is_empty() && stored_membership(&raft).1.is_empty() {
        if let Err(mismatch) = probe_join(config, tls.as_deref()).await {
            return mismatch;
        }
    }
    let mut receiver = raft.metrics();
    let mut included_at: Option<u64> = None;
    let mut refusals_seen = 0;
    let mut probe = tokio::time::interval(Duration::from_millis(REMOVAL_PROBE_INTERVAL_MS));
    loop {
        let (index, nodes, leads) = stored_membership(&raft);
        if nodes.contains_key(&id) {
            included_at = Some(index);
        } else if included_at.is_some_and(|seen| index > seen) && !nodes.is_empty() && !leads {
            return Mismatch::Removed { id, members: describe(&nodes) };
        }
        tokio::select! {
            changed = receiver.changed() => {
                if changed.is_err() {
                    // Raft stopped: the watchdog reports that; this check has nothing more to say.
                    std::future::pending::<()>().await;
                }
            }
            _ = probe.tick() => {
                let refusals = gate.not_member_refusals();
                let silent = !leads && gate.millis_since_leader_traffic() >= LEADER_SILENCE_PROBE_MS;
                let leaderless =
                    included_at.is_some() && (silent || raft.metrics().borrow_watched().current_leader.is_none());
                if !leaderless && refusals == refusals_seen {
                    continue;
                }
                refusals_seen = refusals;
                match newer_membership(id, index, &nodes, tls.as_deref()).await {
                    Some((_, members)) if !members.contains_key(&id) && included_at.is_some() => {
                        return Mismatch::Removed { id, members: describe(&members) };
                    }
                    Some((newer_index, members)) => gate.admit_newer(newer_index, members.keys().copied().collect()),
                    None => {}
                }
            }
        }
    }
}

/// Asks the other members for their membership; the first one newer than `own_index`.
/// A member's membership may be uncommitted (appended by a leader that was then cut off); if it
/// left this node out, this node exits although the change may yet be rolled back. That needs an
/// operator's removal of this very node in flight, so it is accepted rather than guarded.
async fn newer_membership(
    id: u64,
    own_index: u64,
    nodes: &BTreeMap<u64, String>,
    tls: Option<&NodeTls>,
) -> Option<(u64, BTreeMap<u64, String>)> {
    for (_, addr) in nodes.iter().filter(|(other, _)| **other != id) {
        let Some((index, members)) = members_at(addr, tls).await else { continue };
        if index > own_index && !members.is_empty() {
            return Some((index, members));
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn nodes() -> BTreeMap<u64, String> {
        (1..=3).map(|id| (id, format!("127.0.0.1:710{id}"))).collect()
    }

    fn listen(addr: &str) -> SocketAddr {
        addr.parse().unwrap()
    }

    #[test]
    fn a_member_at_its_address_or_a_node_without_membership_matches() {
        assert_eq!(check(2, "127.0.0.1:7102", listen("127.0.0.1:7102"), &nodes()), Ok(()));
        assert_eq!(check(4, "127.0.0.1:7104", listen("127.0.0.1:7104"), &BTreeMap::new()), Ok(()));
    }

    #[test]
    fn a_node_listening_on_all_interfaces_matches_by_port() {
        let named: BTreeMap<u64, String> = BTreeMap::from([(1, "node1.example:7101".to_string())]);
        assert_eq!(check(1, "0.0.0.0:7101", listen("0.0.0.0:7101"), &named), Ok(()));
        assert!(check(1, "0.0.0.0:7109", listen("0.0.0.0:7109"), &named).is_err());
    }

    #[test]
    fn a_removed_node_and_a_node_at_another_address_do_not_match() {
        let removed = check(4, "127.0.0.1:7104", listen("127.0.0.1:7104"), &nodes()).unwrap_err();
        assert!(removed.to_string().contains("--join"), "{removed}");
        let moved = check(2, "127.0.0.1:7999", listen("127.0.0.1:7999"), &nodes()).unwrap_err();
        assert!(matches!(moved, Mismatch::OtherAddr { id: 2, .. }), "{moved}");
        assert!(moved.to_string().contains("127.0.0.1:7102"), "{moved}");
    }
}
