//! What only the leader does, on its own clock: give every session a fresh lease when it becomes
//! leader (a `Grace` entry, so no session expires because of the election), then propose a `Tick`
//! entry whenever a session expiry or wait timeout is due. Both carry the leader's time in the log,
//! so every replica expires the same sessions at the same index.

use std::sync::Arc;
use std::time::Duration;

use heap_machine as hm;
use openraft::async_runtime::WatchReceiver;
use openraft::ServerState;

use crate::context::NodeContext;
use crate::limits::DEADLINE_CHECK_INTERVAL_MS;
use crate::proposer::now_ms;
use crate::proposer::Proposer;

pub async fn run(node: Arc<NodeContext>, proposer: Arc<Proposer>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let metrics = node.raft.metrics();
    // The term whose leadership has had its Grace entry applied.
    let mut graced_term = None;
    loop {
        let (is_leader, term) = {
            let m = metrics.borrow_watched();
            (m.state == ServerState::Leader, m.current_term)
        };
        if is_leader {
            if graced_term != Some(term) {
                match proposer.propose_here(hm::Command::ResumeLeases).await {
                    Ok(_) => {
                        tracing::info!(term, "leader: session leases extended by the time without a leader");
                        graced_term = Some(term);
                    }
                    Err(e) => tracing::debug!(error = %e, "grace entry not committed yet"),
                }
            } else {
                // Due by this leader's clock or already by the heap's (a previous leader's clock may
                // have run ahead): a Tick clears every due deadline, so this cannot loop.
                let now = now_ms();
                let due = node
                    .store
                    .read(|m, _| m.heap.next_deadline_ms().is_some_and(|d| d <= now.max(m.heap.now_ms())))
                    .unwrap_or(false);
                if due {
                    if let Err(e) = proposer.propose_here(hm::Command::Tick).await {
                        tracing::debug!(error = %e, "tick entry not committed");
                    }
                }
            }
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(Duration::from_millis(DEADLINE_CHECK_INTERVAL_MS)) => {}
        }
    }
}
