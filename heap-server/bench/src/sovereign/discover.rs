//! `SovereignDiscover`: the leader of a Sovereign cluster, from the `Status` of its nodes, asked
//! as the cluster's `ClientSecurity` says (TLS and token, or plaintext).

use std::time::Duration;
use std::time::Instant;

use heap_client::heap_stub;
use heap_client::ClientSecurity;
use proto::heap as pb;

use crate::error::BenchError;
use crate::leader::Discover;
use crate::limits::LEADER_WAIT_MS;
use crate::limits::POLL_INTERVAL_MS;
use crate::limits::STATUS_TIMEOUT_MS;

pub struct SovereignDiscover {
    /// How the nodes are asked.
    pub security: ClientSecurity,
}

async fn status(security: &ClientSecurity, addr: &str) -> Result<pb::StatusResponse, String> {
    let timeout = Duration::from_millis(STATUS_TIMEOUT_MS);
    let mut stub = heap_stub(security, addr, timeout, timeout).map_err(|e| e.to_string())?;
    let ask = async {
        stub.status(pb::StatusRequest {}).await.map(tonic::Response::into_inner).map_err(|e| e.message().to_string())
    };
    tokio::time::timeout(timeout, ask).await.map_err(|_| "no answer in time".to_string())?
}

impl Discover for SovereignDiscover {
    /// The endpoint whose node says it is the leader; failing that, the address the nodes give
    /// for the leader they know (it may not be among `endpoints`).
    async fn find_leader(&self, endpoints: &[String]) -> Result<String, BenchError> {
        let started = Instant::now();
        let mut last = String::from("no answer yet");
        loop {
            let mut known = None;
            for addr in endpoints {
                match status(&self.security, addr).await {
                    Ok(s) if s.state == "Leader" => return Ok(addr.clone()),
                    Ok(s) if s.leader_id != 0 => {
                        known = s.members.iter().find(|m| m.id == s.leader_id).map(|m| m.addr.clone());
                        last = format!("{addr}: {} knows leader {}", s.state, s.leader_id);
                    }
                    Ok(s) => last = format!("{addr}: {} and knows no leader", s.state),
                    Err(e) => last = format!("{addr}: {e}"),
                }
            }
            if let Some(addr) = known {
                if status(&self.security, &addr).await.is_ok_and(|s| s.state == "Leader") {
                    return Ok(addr);
                }
            }
            if started.elapsed() > Duration::from_millis(LEADER_WAIT_MS) {
                return Err(BenchError::NoLeader { endpoints: endpoints.join(","), waited_ms: LEADER_WAIT_MS, last });
            }
            tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        }
    }
}
