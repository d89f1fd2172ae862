//! The phases of one failover as the surviving nodes report them: when one of them started an
//! election (its term rose above the dead leader's), when one became leader, and when that leader
//! committed its first entry of the new term. `heapctl dev probe-failover` prints them beside the
//! client's first committed write, so tuning starts from where the time goes (detection,
//! election, the new leader's first commit, or the client finding it).

use std::time::Duration;
use std::time::Instant;

use heap_client::ClusterClient;

/// How often each survivor is asked for its status while a failover runs: fine enough to place
/// phases within a few milliseconds, cheap next to the nodes' own work.
const POLL_INTERVAL_MS: u64 = 5;

/// When each phase was first seen, measured from the leader's SIGKILL (`None`: not seen in time).
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    pub election_started: Option<Duration>,
    pub leader_elected: Option<Duration>,
    pub leader_committed: Option<Duration>,
}

/// Watches the survivors of one leader kill.
pub struct PhaseWatch {
    survivors: Vec<ClusterClient>,
    /// The dead leader's term: a survivor in a higher term has started an election.
    old_term: u64,
}

impl PhaseWatch {
    /// `survivors` are clients bound to one surviving node each.
    pub fn new(survivors: Vec<ClusterClient>, old_term: u64) -> Self {
        Self { survivors, old_term }
    }

    /// Polls the survivors from `killed` until a new leader has committed in its term, or until
    /// `timeout` has passed.
    pub async fn watch(&self, killed: Instant, timeout: Duration) -> Phases {
        let mut phases = Phases::default();
        // The new leader's log end when first seen as leader: its term's first entry is there.
        let mut leader_log_end: Option<u64> = None;
        while killed.elapsed() < timeout {
            for survivor in &self.survivors {
                let Ok(status) = survivor.status_of(0).await else { continue };
                let at = killed.elapsed();
                if status.term > self.old_term && phases.election_started.is_none() {
                    phases.election_started = Some(at);
                }
                if status.state == "Leader" && status.term > self.old_term {
                    phases.leader_elected.get_or_insert(at);
                    let log_end = *leader_log_end.get_or_insert(status.last_log_index);
                    if status.committed >= log_end {
                        phases.leader_committed = Some(at);
                        return phases;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        }
        phases
    }
}
