//! One Sovereign measurement end to end: find the leader, set up what the workload needs, build
//! the clients, run the closed loop (reading the nodes' CPU time over its measured period),
//! summarize. Every connection is made as `spec.security` says
//! (TLS and the admin token for a secured cluster), and the summary names that mode.

use std::sync::Arc;
use std::time::Duration;

use heap_client::tx::id_target;
use heap_client::tx::set_field;
use heap_client::tx::transaction;
use heap_client::ClusterClient;
use proto::heap as pb;
use tokio::task::JoinSet;

use crate::driver::run_closed_loop;
use crate::driver::Measured;
use crate::error::BenchError;
use crate::leader::Leader;
use crate::limits::CLIENT_DEADLINE_MS;
use crate::limits::GRAPH_COUNT;
use crate::limits::GRAPH_OBJECTS;
use crate::limits::OBJECTS_K;
use crate::limits::SETUP_CONCURRENCY;
use crate::server_cpu::during_measured_period;
use crate::server_cpu::ServerCpu;
use crate::server_cpu::ServerProcesses;
use crate::sovereign::discover::SovereignDiscover;
use crate::sovereign::heap_ops::stub;
use crate::sovereign::heap_ops::HeapOpClient;
use crate::sovereign::heap_ops::HeapRequests;
use crate::sovereign::lock_update::LockUpdateClient;
use crate::sovereign::setup::bench_value;
use crate::sovereign::setup::create_graphs;
use crate::sovereign::setup::create_objects;
use crate::sovereign::setup::VALUE_FIELD;
use crate::summary::Summary;
use crate::system::nonce;
use crate::system::seed;
use crate::system::RunSpec;
use crate::workload::Workload;

/// put: set the object's 256-byte value.
fn put_request(id: u64) -> pb::CommitRequest {
    pb::CommitRequest { transaction: Some(transaction(vec![set_field(id_target(id), VALUE_FIELD, bench_value())])) }
}

/// get: a linearizable read of the object alone.
fn get_request(id: u64) -> pb::ReadRequest {
    pb::ReadRequest { ids: vec![id], depth: 0, max_objects: 1, local: false, ..Default::default() }
}

/// graph-read: a linearizable read of the graph under `root`, all `GRAPH_OBJECTS` of it.
fn graph_request(root: u64) -> pb::ReadRequest {
    pb::ReadRequest { ids: vec![root], depth: 1, max_objects: GRAPH_OBJECTS as u32, local: false, ..Default::default() }
}

pub async fn measure(spec: &RunSpec, servers: &ServerProcesses) -> Result<Summary, BenchError> {
    let discover = SovereignDiscover { security: spec.security.clone() };
    let leader = Arc::new(Leader::connect(discover, &spec.endpoints, spec.connections, &spec.security).await?);
    let interceptor = spec.security.interceptor()?;
    let mut setup = stub(leader.current().channel(0), &interceptor);
    let nonce = nonce();
    let requests = match spec.workload {
        Workload::Put => {
            let ids = create_objects(&mut setup, OBJECTS_K, &nonce).await?;
            HeapRequests::Commit(ids.into_iter().map(put_request).collect())
        }
        Workload::Get => {
            let ids = create_objects(&mut setup, OBJECTS_K, &nonce).await?;
            HeapRequests::Read { requests: ids.into_iter().map(get_request).collect(), objects_expected: 1 }
        }
        Workload::GraphRead => {
            let roots = create_graphs(&mut setup, GRAPH_COUNT, &nonce).await?;
            HeapRequests::Read {
                requests: roots.into_iter().map(graph_request).collect(),
                objects_expected: GRAPH_OBJECTS,
            }
        }
        Workload::LockUpdate => {
            let ids = create_objects(&mut setup, OBJECTS_K.max(spec.clients), &nonce).await?;
            let clients = open_lock_clients(spec, &leader.current().leader, &ids, &nonce).await?;
            let plan = spec.plan();
            let (measured, cpu) = during_measured_period(servers, &plan, run_closed_loop(clients, &plan)).await;
            return Ok(summary(spec, &measured?, cpu));
        }
    };
    let requests = Arc::new(requests);
    let seed = seed();
    let clients = (0..spec.clients)
        .map(|i| {
            let seed = seed.wrapping_add(i as u64);
            HeapOpClient::new(i, Arc::clone(&leader), interceptor.clone(), Arc::clone(&requests), seed)
        })
        .collect();
    let plan = spec.plan();
    let (measured, cpu) = during_measured_period(servers, &plan, run_closed_loop::<HeapOpClient>(clients, &plan)).await;
    Ok(summary(spec, &measured?, cpu))
}

fn summary(spec: &RunSpec, measured: &Measured, cpu: ServerCpu) -> Summary {
    let mode = spec.security_mode();
    Summary::new(spec.system, spec.workload, spec.clients, spec.connections, mode, &measured.recorder, measured.elapsed)
        .with_server_cpu(cpu)
}

/// One session per client, over `spec.connections` library clients that try the leader first;
/// client i holds lock `heap-bench/<nonce>/lock/<i>` and updates object `ids[i]`.
async fn open_lock_clients(
    spec: &RunSpec,
    leader: &str,
    ids: &[u64],
    nonce: &str,
) -> Result<Vec<LockUpdateClient>, BenchError> {
    let mut endpoints = vec![leader.to_string()];
    endpoints.extend(spec.endpoints.iter().filter(|e| *e != leader).cloned());
    let deadline = Duration::from_millis(CLIENT_DEADLINE_MS);
    let clusters = (0..spec.connections)
        .map(|_| ClusterClient::connect(&endpoints, &spec.security, deadline).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    let mut opened: Vec<Option<LockUpdateClient>> = (0..spec.clients).map(|_| None).collect();
    let mut next = 0;
    while next < spec.clients {
        let mut batch = JoinSet::new();
        for i in next..(next + SETUP_CONCURRENCY).min(spec.clients) {
            let cluster = Arc::clone(&clusters[i % clusters.len()]);
            let lock = format!("heap-bench/{nonce}/lock/{i}");
            let id = ids[i];
            batch.spawn(async move { (i, LockUpdateClient::open(cluster, lock, id).await) });
        }
        while let Some(joined) = batch.join_next().await {
            let (i, client) = joined.map_err(|e| BenchError::Setup(format!("a session task failed: {e}")))?;
            opened[i] = Some(client?);
        }
        next += SETUP_CONCURRENCY;
    }
    opened.into_iter().map(|c| c.ok_or_else(|| BenchError::Setup("a session was not opened".into()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prebuilt_requests_match_the_workloads() {
        let put = put_request(42);
        let ops = &put.transaction.as_ref().expect("a transaction").ops;
        assert_eq!(ops.len(), 1);
        let Some(pb::op::Op::SetField(set)) = &ops[0].op else { panic!("put sets a field") };
        assert_eq!(set.target, id_target(42));
        assert_eq!(set.field, VALUE_FIELD);
        let get = get_request(42);
        assert_eq!((get.ids.as_slice(), get.depth, get.local), (&[42u64][..], 0, false));
        let graph = graph_request(7);
        assert_eq!((graph.depth, graph.max_objects, graph.local), (1, GRAPH_OBJECTS as u32, false));
    }
}
