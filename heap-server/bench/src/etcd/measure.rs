//! One etcd measurement end to end: find the leader, write every key once (so gets find them),
//! build the clients, run the closed loop (reading the members' CPU time over its measured
//! period), summarize. etcd is always reached without TLS or
//! authentication (`etcd_security`): the fair floor Sovereign is compared against.

use std::sync::Arc;

use crate::etcd::schema::kv_client::KvClient;
use prost::bytes::Bytes;
use tokio::task::JoinSet;

use crate::driver::run_closed_loop;
use crate::error::BenchError;
use crate::etcd::discover::etcd_security;
use crate::etcd::discover::EtcdDiscover;
use crate::etcd::kv_ops::put_request;
use crate::etcd::kv_ops::range_request;
use crate::etcd::kv_ops::value;
use crate::etcd::kv_ops::EtcdKvClient;
use crate::etcd::kv_ops::KvRequests;
use crate::leader::Leader;
use crate::limits::OBJECTS_K;
use crate::limits::SETUP_CONCURRENCY;
use crate::server_cpu::during_measured_period;
use crate::server_cpu::ServerProcesses;
use crate::summary::Summary;
use crate::system::seed;
use crate::system::RunSpec;
use crate::system::System;
use crate::workload::Workload;

pub async fn measure(spec: &RunSpec, servers: &ServerProcesses) -> Result<Summary, BenchError> {
    if !System::Etcd.supports(spec.workload) {
        return Err(BenchError::Unsupported(spec.workload.to_string(), System::Etcd.to_string()));
    }
    let leader = Arc::new(Leader::connect(EtcdDiscover, &spec.endpoints, spec.connections, &etcd_security()).await?);
    let value = value();
    put_every_key(&leader, &value).await?;
    let requests = Arc::new(match spec.workload {
        Workload::Get => KvRequests::Range((0..OBJECTS_K).map(range_request).collect()),
        _ => KvRequests::Put((0..OBJECTS_K).map(|i| put_request(i, &value)).collect()),
    });
    let seed = seed();
    let clients = (0..spec.clients)
        .map(|i| EtcdKvClient::new(i, Arc::clone(&leader), Arc::clone(&requests), seed.wrapping_add(i as u64)))
        .collect();
    let plan = spec.plan();
    let (measured, cpu) = during_measured_period(servers, &plan, run_closed_loop::<EtcdKvClient>(clients, &plan)).await;
    let measured = measured?;
    let mode = spec.security_mode();
    let summary = Summary::new(
        spec.system,
        spec.workload,
        spec.clients,
        spec.connections,
        mode,
        &measured.recorder,
        measured.elapsed,
    );
    Ok(summary.with_server_cpu(cpu))
}

/// Writes all `OBJECTS_K` keys, `SETUP_CONCURRENCY` at a time.
async fn put_every_key(leader: &Leader<EtcdDiscover>, value: &Bytes) -> Result<(), BenchError> {
    let connected = leader.current();
    let mut writers = JoinSet::new();
    for writer in 0..SETUP_CONCURRENCY {
        let mut client = KvClient::new(connected.channel(writer));
        let value = value.clone();
        writers.spawn(async move {
            for key in (writer..OBJECTS_K).step_by(SETUP_CONCURRENCY) {
                client
                    .put(put_request(key, &value))
                    .await
                    .map_err(|e| BenchError::Setup(format!("cannot write the etcd keys: {}", e.message())))?;
            }
            Ok::<(), BenchError>(())
        });
    }
    while let Some(joined) = writers.join_next().await {
        joined.map_err(|e| BenchError::Setup(format!("a setup task failed: {e}")))??;
    }
    Ok(())
}
