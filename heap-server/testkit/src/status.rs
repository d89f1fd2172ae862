//! What the nodes of a `LocalCluster` answer: a node's status, the leader they agree on, how far
//! a node has applied, and the bounded waits for each. A second `impl LocalCluster` block, split
//! from local_cluster.rs on purpose (the processes there, their answers here); the leader rule
//! is a pure function over statuses, so it is tested without processes.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;
use std::time::Instant;

use heap_client::ClientSecurity;
use heap_client::ClusterClient;
use proto::heap as pb;

use crate::cluster_error::ClusterError;
use crate::local_cluster::LocalCluster;
use crate::local_cluster::POLL_INTERVAL_MS;

/// A status probe of one node gives up after this long.
const STATUS_TIMEOUT_MS: u64 = 500;
/// The `state` a node reports while it is leader.
const LEADER_STATE: &str = "Leader";

/// Which nodes must name the leader before a wait returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agreement {
    /// A node claims leadership and every responsive node answers and names it.
    EveryNode,
    /// A node claims leadership and a majority of the whole cluster names it (the others may be
    /// down, cut off or still catching up).
    Majority,
}

impl Agreement {
    fn describe(self) -> &'static str {
        match self {
            Agreement::EveryNode => "a leader all running nodes agree on",
            Agreement::Majority => "a leader that a majority of the nodes name",
        }
    }
}

/// The leader that `statuses` (one per responsive node, None if it did not answer) agree on under
/// `agreement`, in a cluster of `cluster_size` nodes.
fn agreed_leader(agreement: Agreement, statuses: &[Option<pb::StatusResponse>], cluster_size: usize) -> Option<u64> {
    match agreement {
        Agreement::EveryNode => {
            let leader = statuses.iter().flatten().find(|s| s.state == LEADER_STATE)?.node_id;
            statuses.iter().all(|s| s.as_ref().is_some_and(|s| s.leader_id == leader)).then_some(leader)
        }
        Agreement::Majority => {
            let mut named: BTreeMap<u64, usize> = BTreeMap::new();
            let mut claims = BTreeSet::new();
            for status in statuses.iter().flatten() {
                if status.leader_id != 0 {
                    *named.entry(status.leader_id).or_default() += 1;
                }
                if status.state == LEADER_STATE {
                    claims.insert(status.node_id);
                }
            }
            let majority = cluster_size / 2 + 1;
            named.into_iter().find(|(id, votes)| *votes >= majority && claims.contains(id)).map(|(id, _)| id)
        }
    }
}

/// Polls `probe` until it gives a value, for at most `timeout` (then `Timeout` naming `what`).
async fn poll_until<T, F, Fut>(what: impl Fn() -> String, timeout: Duration, mut probe: F) -> Result<T, ClusterError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return Ok(value);
        }
        if started.elapsed() > timeout {
            return Err(ClusterError::Timeout { what: what(), waited_ms: timeout.as_millis() as u64 });
        }
        tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
    }
}

impl LocalCluster {
    /// A client for every node, with this cluster's client security (`client_security`).
    pub fn client(&self, deadline: Duration) -> Result<ClusterClient, ClusterError> {
        self.client_with(&self.client_security(), deadline)
    }

    /// A client for every node, connecting as `security` says (another credential, or none).
    pub fn client_with(&self, security: &ClientSecurity, deadline: Duration) -> Result<ClusterClient, ClusterError> {
        Ok(ClusterClient::connect(&self.endpoints(), security, deadline)?)
    }

    /// A client for node `id` only, with this cluster's client security.
    pub fn node_client(&self, id: u64, deadline: Duration) -> Result<ClusterClient, ClusterError> {
        let addr = self.addr(id)?.to_string();
        Ok(ClusterClient::connect(&[addr], &self.client_security(), deadline)?)
    }

    /// The status of one node, or None if it does not answer promptly.
    pub async fn status(&self, id: u64) -> Option<pb::StatusResponse> {
        let client = self.node_client(id, Duration::from_millis(STATUS_TIMEOUT_MS)).ok()?;
        client.status_of(0).await.ok()
    }

    /// The leader the responsive nodes agree on right now, if any.
    async fn leader_now(&self, agreement: Agreement) -> Option<u64> {
        let mut statuses = Vec::new();
        for id in self.responsive_ids() {
            statuses.push(self.status(id).await);
        }
        agreed_leader(agreement, &statuses, self.ids().len())
    }

    /// Waits until a running node is leader and every running node (not paused) agrees on it.
    pub async fn wait_for_leader(&self, timeout: Duration) -> Result<u64, ClusterError> {
        self.wait_for_agreed_leader(Agreement::EveryNode, timeout).await
    }

    /// Waits until a node claims leadership and a majority of the cluster names it; the other
    /// nodes may be down, paused or catching up (what a fault schedule needs between faults).
    pub async fn wait_for_majority_leader(&self, timeout: Duration) -> Result<u64, ClusterError> {
        self.wait_for_agreed_leader(Agreement::Majority, timeout).await
    }

    async fn wait_for_agreed_leader(&self, agreement: Agreement, timeout: Duration) -> Result<u64, ClusterError> {
        poll_until(|| agreement.describe().to_string(), timeout, || self.leader_now(agreement)).await
    }

    /// Waits until node `id` has applied at least `index`.
    pub async fn wait_for_applied(&self, id: u64, index: u64, timeout: Duration) -> Result<(), ClusterError> {
        let applied = || async { self.status(id).await.is_some_and(|s| s.last_applied >= index).then_some(()) };
        poll_until(|| format!("node {id} to apply index {index}"), timeout, applied).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Node `node_id`'s answer: its state and the leader it names (0: none).
    fn status(node_id: u64, state: &str, leader_id: u64) -> Option<pb::StatusResponse> {
        Some(pb::StatusResponse { node_id, state: state.to_string(), leader_id, ..Default::default() })
    }

    #[test]
    fn every_node_must_answer_and_name_the_leader() {
        let all = [status(1, "Follower", 2), status(2, "Leader", 2), status(3, "Follower", 2)];
        assert_eq!(agreed_leader(Agreement::EveryNode, &all, 3), Some(2));
        let one_silent = [status(1, "Follower", 2), status(2, "Leader", 2), None];
        assert_eq!(agreed_leader(Agreement::EveryNode, &one_silent, 3), None);
        let one_unaware = [status(1, "Follower", 0), status(2, "Leader", 2), status(3, "Follower", 2)];
        assert_eq!(agreed_leader(Agreement::EveryNode, &one_unaware, 3), None);
        assert_eq!(agreed_leader(Agreement::EveryNode, &[], 3), None);
    }

    #[test]
    fn a_majority_suffices_if_the_named_node_claims_leadership() {
        let one_unaware = [status(1, "Follower", 0), status(2, "Leader", 2), status(3, "Follower", 2)];
        assert_eq!(agreed_leader(Agreement::Majority, &one_unaware, 3), Some(2));
        let one_silent = [status(1, "Follower", 2), status(2, "Leader", 2), None];
        assert_eq!(agreed_leader(Agreement::Majority, &one_silent, 3), Some(2));
        // Two nodes name node 2, but it does not claim to lead (it was deposed).
        let deposed = [status(1, "Follower", 2), status(2, "Follower", 0), status(3, "Follower", 2)];
        assert_eq!(agreed_leader(Agreement::Majority, &deposed, 3), None);
        // One vote of five is no majority.
        let minority = [status(2, "Leader", 2), None, None];
        assert_eq!(agreed_leader(Agreement::Majority, &minority, 5), None);
    }
}
