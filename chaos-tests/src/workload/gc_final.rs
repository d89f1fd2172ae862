//! After the faults, for the gc workload: read back every object an acknowledged build created,
//! with every root that may name one of them (recorded as process 0 under `gc:final`, so the gc
//! checker checks the healed cluster too), and ask the leader for its collector's figures.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Duration;
use std::time::Instant;

use heap_client::ClientSecurity;
use heap_client::ClusterClient;
use proto::admin;
use proto::heap as pb;

use crate::checker::gc::gc_operations;
use crate::checker::gc_model::Model;
use crate::checker::FINAL_PROCESS;
use crate::history::Op;
use crate::history::Operation;
use crate::history::Status;
use crate::nemesis::membership::call_any;
use crate::report::GcServerStatus;
use crate::workload::final_reads::FINAL_READ_RETRY_MS;
use crate::workload::final_reads::FINAL_READ_TIMEOUT_MS;
use crate::workload::gc::seen_of;
use crate::workload::gc::GC_READ_DEPTH;
use crate::workload::read_graph;
use crate::workload::Context;

/// The history key of the final gc reads.
pub const FINAL_KEY: &str = "gc:final";
/// Object ids one final read asks for (whole builds, so a read holds each subgraph entire); far
/// below the server's 10,000 starting points per read, with room for the roots.
pub const FINAL_IDS_PER_READ: usize = 1_000;

/// Reads every gc object and root back, recorded.
pub async fn read_back(context: &Context, client: &ClusterClient) {
    let ops = gc_operations(&context.history.events());
    for (roots, ids) in final_reads(&ops) {
        read_until_answered(context, client, roots, ids).await;
    }
}

/// The final reads: the builds in groups of at most `FINAL_IDS_PER_READ` ids, each with its own
/// root and every root a re-attach that was not refused bound to one of its objects.
pub fn final_reads(ops: &[Operation]) -> Vec<(Vec<String>, Vec<u64>)> {
    let model = Model::new(ops);
    let mut roots_of: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (index, build) in model.builds.iter().enumerate() {
        roots_of.entry(index).or_default().insert(build.root.clone());
    }
    for operation in ops.iter().filter(|o| o.status != Status::Fail) {
        if let Op::GcBind { root, id, .. } = &operation.op {
            if let Some(build) = model.build_of(*id) {
                roots_of.entry(build).or_default().insert(root.clone());
            }
        }
    }
    let mut reads: Vec<(Vec<String>, Vec<u64>)> = Vec::new();
    for (index, build) in model.builds.iter().enumerate() {
        let full = reads.last().is_none_or(|(_, ids)| ids.len() + build.ids.len() > FINAL_IDS_PER_READ);
        if full {
            reads.push((Vec::new(), Vec::new()));
        }
        let (roots, ids) = reads.last_mut().expect("a read was just pushed if there was none");
        roots.extend(roots_of.remove(&index).unwrap_or_default());
        ids.extend(&build.ids);
    }
    reads
}

/// One final read, retried until it is answered or `FINAL_READ_TIMEOUT_MS` has passed.
async fn read_until_answered(context: &Context, client: &ClusterClient, roots: Vec<String>, ids: Vec<u64>) {
    let history = &context.history;
    let op = Op::GcRead { roots: roots.clone(), ids: ids.clone(), depth: GC_READ_DEPTH, seen: None };
    let pending = history.invoke(FINAL_PROCESS, FINAL_KEY, op);
    let started = Instant::now();
    loop {
        let request =
            pb::ReadRequest { roots: roots.clone(), ids: ids.clone(), depth: GC_READ_DEPTH, ..Default::default() };
        match read_graph(client, request).await {
            Ok(response) => {
                let seen = Some(seen_of(&response));
                return history.ok(pending, Op::GcRead { roots, ids, depth: GC_READ_DEPTH, seen });
            }
            Err(e) if started.elapsed() > Duration::from_millis(FINAL_READ_TIMEOUT_MS) => {
                return history.info(pending, format!("no final read within {FINAL_READ_TIMEOUT_MS} ms: {e}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(FINAL_READ_RETRY_MS)).await,
        }
    }
}

/// The collector's figures from the leader (any node forwards the call to it).
pub async fn leader_status(endpoints: &[String], security: &ClientSecurity) -> Result<GcServerStatus, String> {
    let status = call_any(endpoints, security, |mut stub| async move {
        stub.gc_status(admin::GcStatusRequest {}).await.map(|r| r.into_inner()).map_err(|s| s.message().to_string())
    })
    .await?;
    Ok(GcServerStatus {
        leader_id: status.leader_id,
        objects: status.objects,
        roots: status.roots,
        held_objects: status.held_objects,
        ended_holds: status.ended_holds,
        cycles: status.cycles,
        freed_total: status.freed_total,
        collect_steps: status.collect_steps,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn operation(op_id: u64, status: Status, op: Op) -> Operation {
        let complete_us = Some(op_id * 10 + 5);
        Operation { op_id, process: 1, key: "gc:w0".into(), invoke_us: op_id * 10, complete_us, status, op }
    }

    fn build(op_id: u64, root: &str, first_id: u64, objects: u64) -> Operation {
        let ids: Vec<u64> = (first_id..first_id + objects).collect();
        let op =
            Op::GcBuild { root: root.into(), linked: objects as u32, unlinked: 0, edges: vec![], created: Some(ids) };
        operation(op_id, Status::Ok, op)
    }

    /// Whole builds per read, never over the bound, each with its root and the roots re-attaches
    /// (not refused) bound to its objects.
    #[test]
    fn final_reads_take_whole_builds_with_every_root_that_may_name_them() {
        let per_build = 6;
        let builds = FINAL_IDS_PER_READ as u64 / per_build + 1;
        let mut ops: Vec<Operation> =
            (0..builds).map(|b| build(b + 1, &format!("r{b}"), 1_000 + b * per_build, per_build)).collect();
        let bind = |op_id, root: &str, status| {
            operation(op_id, status, Op::GcBind { root: root.into(), id: 1_001, unknown_object: false })
        };
        ops.push(bind(builds + 1, "again", Status::Indeterminate));
        ops.push(bind(builds + 2, "refused", Status::Fail));
        let reads = final_reads(&ops);
        assert_eq!(reads.len(), 2);
        assert!(reads.iter().all(|(_, ids)| ids.len() <= FINAL_IDS_PER_READ));
        assert_eq!(reads.iter().map(|(_, ids)| ids.len() as u64).sum::<u64>(), builds * per_build);
        let (roots, ids) = &reads[0];
        assert_eq!(ids.len() as u64 % per_build, 0, "whole builds only");
        assert!(roots.contains(&"r0".to_string()) && roots.contains(&"again".to_string()), "{roots:?}");
        assert!(!roots.contains(&"refused".to_string()));
    }
}
