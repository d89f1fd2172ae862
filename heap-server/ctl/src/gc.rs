//! `heapctl gc`: the collector's status and a cycle on demand, through the `Admin` service
//! (admin token). Any node takes the call and forwards it to the leader.

use std::time::Duration;

use heap_client::ClientSecurity;
use proto::admin as pb;

use crate::member::call_any;

/// How long `gc run` waits: the leader allows a cycle 60 s, plus the forward.
const GC_RUN_WAIT_MS: u64 = 75_000;

/// Prints the status as `name value` lines, or one JSON document.
fn print(status: &pb::GcStatusResponse, as_json: bool) {
    let rows: [(&str, u64); 23] = [
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
