//! `heapctl gc`: the collector's status and a cycle on demand, through the `Admin` service
//! (admin token); any node takes the call and forwards it to the leader. And `gc pause|resume`,
//! which is each node's own (only the leader collects, and any node may lead next), so it goes to
//! every endpoint and every member the leader lists.

use std::collections::BTreeSet;
use std::time::Duration;

use heap_client::admin_stub;
use heap_client::ClientSecurity;
use proto::admin as pb;

use crate::member::call_any;

/// How long `gc run` waits: the leader allows a cycle 60 s, plus the forward.
const GC_RUN_WAIT_MS: u64 = 75_000;

/// Prints the status as `name value` lines, or one JSON document.
fn print(status: &pb::GcStatusResponse, as_json: bool) {
    let rows: [(&str, u64); 24] = [
        ("leader_id", status.leader_id),
        ("applied_index", status.applied_index),
        ("objects", status.objects),
        ("roots", status.roots),
        ("unreferenced", status.unreferenced),
        ("held_objects", status.held_objects),
        ("holds", status.holds),
        ("ended_holds", status.ended_holds),
        ("dying", status.dying),
        ("decrements_pending", status.decrements_pending),
        ("cycles", status.cycles),
        ("cycle_running", u64::from(status.cycle_running)),
        ("last_cycle_ms", status.last_cycle_ms),
        ("last_mark_ms", status.last_mark_ms),
        ("live_objects", status.live_objects),
        ("live_bytes", status.live_bytes),
        ("last_cycle_garbage", status.last_cycle_garbage),
        ("last_cycle_freed", status.last_cycle_freed),
        ("freed_total", status.freed_total),
        ("collect_steps", status.collect_steps),
        ("longest_step_us", status.longest_step_us),
        ("longest_step_cpu_us", status.longest_step_cpu_us),
        ("last_step_us", status.last_step_us),
        ("paused", u64::from(status.paused)),
    ];
    if as_json {
        let document: serde_json::Map<String, serde_json::Value> =
            rows.iter().map(|(name, value)| (name.to_string(), serde_json::json!(value))).collect();
        println!("{}", serde_json::Value::Object(document));
        return;
    }
    for (name, value) in rows {
        println!("{name:<20} {value}");
    }
}

pub async fn status(
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
    as_json: bool,
) -> anyhow::Result<()> {
    let status =
        call_any(endpoints, security, timeout, |mut stub| async move { stub.gc_status(pb::GcStatusRequest {}).await })
            .await?;
    print(&status, as_json);
    Ok(())
}

pub async fn run(
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
    as_json: bool,
) -> anyhow::Result<()> {
    let wait = timeout.max(Duration::from_millis(GC_RUN_WAIT_MS));
    let answer =
        call_any(endpoints, security, wait, |mut stub| async move { stub.gc_run(pb::GcRunRequest {}).await }).await?;
    let status = answer.status.unwrap_or_default();
    if !as_json {
        println!(
            "collection cycle done in {} ms: {} unreachable objects found, {} freed",
            status.last_cycle_ms, status.last_cycle_garbage, status.last_cycle_freed
        );
    }
    print(&status, as_json);
    Ok(())
}

/// Every node to pause or resume: the endpoints given and the members the leader lists (without
/// a leader, the endpoints alone, with a warning).
async fn every_node(endpoints: &[String], security: &ClientSecurity, timeout: Duration) -> Vec<String> {
    let mut nodes: BTreeSet<String> = endpoints.iter().cloned().collect();
    let members =
        call_any(endpoints, security, timeout, |mut stub| async move { stub.members(pb::MembersRequest {}).await });
    match members.await {
        Ok(members) => nodes.extend(members.members.into_iter().map(|member| member.addr)),
        Err(error) => eprintln!("warning: could not list the members ({error:#}); asking the endpoints given only"),
    }
    nodes.into_iter().collect()
}

async fn pause_one(
    security: &ClientSecurity,
    addr: &str,
    timeout: Duration,
    paused: bool,
) -> anyhow::Result<pb::GcPauseResponse> {
    let mut stub = admin_stub(security, addr, timeout, timeout)?;
    match stub.gc_pause(pb::GcPauseRequest { paused }).await {
        Ok(answer) => Ok(answer.into_inner()),
        Err(status) => anyhow::bail!("{} ({:?})", status.message(), status.code()),
    }
}

/// `gc pause` (`paused`) or `gc resume`: asks every node, prints each answer, and fails naming
/// the nodes it did not reach, since one of those could lead and collect (or stay paused).
pub async fn pause(
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
    paused: bool,
) -> anyhow::Result<()> {
    let (verb, command) = if paused { ("paused", "pause") } else { ("resumed", "resume") };
    let nodes = every_node(endpoints, security, timeout).await;
    let mut answered = BTreeSet::new();
    let mut failures = Vec::new();
    for addr in &nodes {
        match pause_one(security, addr, timeout, paused).await {
            // One node reached under two spellings of its address answers twice; print it once.
            Ok(answer) if !answered.insert(answer.node_id) => {}
            Ok(answer) => {
                let role = if answer.leads { " (leader)" } else { "" };
                let before =
                    if answer.was_paused == answer.paused { format!(", already {verb}") } else { String::new() };
                println!("node {} at {addr}{role}: collector {verb}{before}", answer.node_id);
            }
            Err(error) => {
                println!("{addr}: not {verb}: {error:#}");
                failures.push(format!("{addr}: {error:#}"));
            }
        }
    }
    if !failures.is_empty() {
        anyhow::bail!(
            "the collector was {verb} on {} nodes but not at {}; run `heapctl gc {command}` again once they answer \
             (a node's pause is its own, and a restarted node starts resumed)",
            answered.len(),
            failures.join("; ")
        );
    }
    Ok(())
}
