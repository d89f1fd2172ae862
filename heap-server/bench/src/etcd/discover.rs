//! `EtcdDiscover`: the leader of an etcd cluster: the member whose own id is the leader id it
//! reports in Maintenance `Status`; and how heap-bench reaches etcd (`etcd_security`).

use std::time::Duration;
use std::time::Instant;

use heap_client::ClientSecurity;

use crate::etcd::schema as epb;
use crate::etcd::schema::maintenance_client::MaintenanceClient;

use crate::channels;
use crate::error::BenchError;
use crate::leader::Discover;
use crate::limits::LEADER_WAIT_MS;
use crate::limits::POLL_INTERVAL_MS;
use crate::limits::STATUS_TIMEOUT_MS;

pub struct EtcdDiscover;

/// etcd runs without TLS and without authentication (`compare` starts it so, and `run` reaches
/// it so): the fair floor, the least a store can pay per request. Sovereign's figures include its
/// security unless it runs with `--plaintext`.
pub fn etcd_security() -> ClientSecurity {
    ClientSecurity::plaintext()
}

async fn status(addr: &str) -> Result<epb::StatusResponse, String> {
    let timeout = Duration::from_millis(STATUS_TIMEOUT_MS);
    let endpoint = channels::endpoint(&etcd_security(), addr, timeout).map_err(|e| e.to_string())?;
    let ask = async {
        let channel = endpoint.connect().await.map_err(|e| e.to_string())?;
        MaintenanceClient::new(channel)
            .status(epb::StatusRequest {})
            .await
            .map(tonic::Response::into_inner)
            .map_err(|e| e.message().to_string())
    };
    tokio::time::timeout(timeout, ask).await.map_err(|_| "no answer in time".to_string())?
}

/// One round over `endpoints`: the leader's endpoint, or what the last member said.
pub async fn leader_once(endpoints: &[String]) -> Result<String, String> {
    let mut last = String::from("no endpoint");
    for addr in endpoints {
        match status(addr).await {
            Ok(s) => {
                let member = s.header.as_ref().map_or(0, |h| h.member_id);
                if s.leader != 0 && s.leader == member {
                    return Ok(addr.clone());
                }
                last = format!("{addr}: member {member:x} sees leader {:x}", s.leader);
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(last)
}

impl Discover for EtcdDiscover {
    async fn find_leader(&self, endpoints: &[String]) -> Result<String, BenchError> {
        let started = Instant::now();
        loop {
            let last = match leader_once(endpoints).await {
                Ok(leader) => return Ok(leader),
                Err(last) => last,
            };
            if started.elapsed() > Duration::from_millis(LEADER_WAIT_MS) {
                return Err(BenchError::NoLeader { endpoints: endpoints.join(","), waited_ms: LEADER_WAIT_MS, last });
            }
            tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        }
    }
}
