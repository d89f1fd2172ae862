//! `SovereignDiscover`: the leader of a Sovereign cluster, from the `Status` of its nodes.

use std::time::Duration;
use std::time::Instant;

use proto::heap as pb;
use proto::heap::heap_client::HeapClient;

use crate::channels;
use crate::error::BenchError;
use crate::leader::Discover;
use crate::limits::LEADER_WAIT_MS;
use crate::limits::POLL_INTERVAL_MS;
use crate::limits::STATUS_TIMEOUT_MS;

pub struct SovereignDiscover;

async fn status(addr: &str) -> Result<pb::StatusResponse, String> {
    let timeout = Duration::from_millis(STATUS_TIMEOUT_MS);
    let endpoint = channels::endpoint(addr, timeout).map_err(|e| e.to_string())?;
    let ask = async {
        let channel = endpoint.connect().await.map_err(|e| e.to_string())?;
        HeapClient::new(channel)
            .status(pb::StatusRequest {})
            .await
            .map(tonic::Response::into_inner)
            .map_err(|e| e.message().to_string())
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
                match status(addr).await {
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
                if status(&addr).await.is_ok_and(|s| s.state == "Leader") {
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
