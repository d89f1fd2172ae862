//! Network partitions: the minority side's links to the majority are cut (in both directions) for
//! the fault's duration, then restored. Clients keep reaching every node, so clients of an
//! isolated leader keep talking to it.

use std::time::Duration;

use heap_testkit::LocalCluster;

use crate::nemesis::stand_in;
use crate::nemesis::NemesisError;
use crate::nemesis::LEADER_WAIT_MS;
use crate::netns::Network;
use crate::schedule::Shape;

/// The report's name for the shape and the nodes cut off; Err(reason) when the shape needs a
/// leader and there is none in time.
pub async fn sides(cluster: &LocalCluster, shape: &Shape) -> Result<(&'static str, Vec<u64>), String> {
    match shape {
        Shape::IsolateLeader => cluster
            .wait_for_majority_leader(Duration::from_millis(LEADER_WAIT_MS))
            .await
            .map(|leader| ("isolate-leader", vec![leader]))
            .map_err(|e| format!("skipped: {e}")),
        Shape::Split { minority } => Ok(("split", minority.clone())),
    }
}

/// The nodes `minority` (planned for the starting cluster) stands for among `ids` (the nodes
/// now; see `stand_in`): distinct, and at most a minority of them.
pub fn stand_ins(ids: &[u64], minority: &[u64]) -> Vec<u64> {
    let mut chosen: Vec<u64> = minority.iter().filter_map(|id| stand_in(ids, *id)).collect();
    chosen.sort_unstable();
    chosen.dedup();
    chosen.truncate((ids.len().saturating_sub(1) / 2).max(1));
    chosen
}

/// Cuts `minority` off from the other nodes for `duration`, then heals.
pub async fn hold(
    network: &mut Network,
    cluster: &LocalCluster,
    minority: &[u64],
    duration: Duration,
) -> Result<String, NemesisError> {
    let majority: Vec<u64> = cluster.ids().into_iter().filter(|id| !minority.contains(id)).collect();
    for a in minority {
        for b in &majority {
            network.cut(*a, *b)?;
        }
    }
    tokio::time::sleep(duration).await;
    network.heal()?;
    Ok(format!("nodes {minority:?} cut off from {majority:?}, healed after {} ms", duration.as_millis()))
}
