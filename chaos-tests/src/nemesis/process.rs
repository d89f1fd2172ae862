//! Process faults: SIGKILL a node and restart it on its data, SIGSTOP it past the election
//! timeout and SIGCONT it, SIGKILL every node at once and restart them all.

use std::time::Duration;

use heap_testkit::LocalCluster;

use crate::nemesis::NemesisError;

/// SIGKILL node `id`, keep it down for `down`, restart it on the same data.
pub async fn kill(cluster: &mut LocalCluster, id: u64, down: Duration) -> Result<String, NemesisError> {
    cluster.kill(id);
    tokio::time::sleep(down).await;
    cluster.start(id)?;
    Ok(format!("SIGKILL node {id}, restarted after {} ms", down.as_millis()))
}

/// SIGSTOP node `id` for `paused`, then SIGCONT.
pub async fn pause(cluster: &mut LocalCluster, id: u64, paused: Duration) -> Result<String, NemesisError> {
    if !cluster.is_running(id) {
        return Ok(format!("node {id} is not running; nothing to pause"));
    }
    // A node that died on its own just before cannot be signalled; the nemesis finds it
    // crashed right after this fault and restarts it.
    if let Err(e) = cluster.pause(id) {
        return Ok(format!("could not pause node {id}: {e}"));
    }
    tokio::time::sleep(paused).await;
    if let Err(e) = cluster.resume(id) {
        return Ok(format!("SIGSTOP node {id}, but SIGCONT after {} ms failed: {e}", paused.as_millis()));
    }
    Ok(format!("SIGSTOP node {id}, SIGCONT after {} ms", paused.as_millis()))
}

/// SIGKILL every node at once, keep them down for `down`, restart all on their data.
pub async fn restart_all(cluster: &mut LocalCluster, down: Duration) -> Result<String, NemesisError> {
    cluster.kill_all();
    tokio::time::sleep(down).await;
    cluster.start_all()?;
    Ok(format!("SIGKILL all {} nodes, restarted after {} ms", cluster.ids().len(), down.as_millis()))
}
