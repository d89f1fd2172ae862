//! The Raft watchdog: when openraft stops for good (a storage error, a fatal state), the node must
//! exit with an error so a supervisor restarts it; a process that stays up answering `Status`
//! while its Raft is dead looks healthy to every health check.

use openraft::async_runtime::WatchReceiver;

use crate::context::HeapRaft;

/// Resolves with the reason when this node's Raft has stopped (never while it runs).
pub async fn raft_stopped(raft: HeapRaft) -> String {
    let mut metrics = raft.metrics();
    loop {
        if let Err(fatal) = &metrics.borrow_watched().running_state {
            return fatal.to_string();
        }
        if metrics.changed().await.is_err() {
            return "Raft's metrics channel closed".to_string();
        }
    }
}
