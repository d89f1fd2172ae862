//! `heap-bench memory`: a fresh secured three-node cluster; every node's RSS (sampled every
//! 250 ms) and data dir before, during and after a burst creating N small live objects; then a
//! follower restarted on its data and its RSS once it reloaded. Phases print a line each; the
//! report goes to results-memory.json and a summary to stdout.

use std::collections::BTreeMap;

use anyhow::Context;

use crate::lifecycle::cluster::LifecycleCluster;
use crate::lifecycle::disk_usage::DiskUsage;
use crate::lifecycle::memory_report::memory_summary;
use crate::lifecycle::memory_report::BurstReadings;
use crate::lifecycle::memory_report::MemoryReport;
use crate::lifecycle::memory_report::NodeMemory;
use crate::lifecycle::memory_report::Reload;
use crate::lifecycle::memory_report::TARGET_BYTES_PER_OBJECT;
use crate::lifecycle::per_object::delta;
use crate::lifecycle::per_object::per_object;
use crate::lifecycle::population::create_items;
use crate::lifecycle::population::ItemPlan;
use crate::lifecycle::proc_status::load_average_1m;
use crate::lifecycle::rss_sampler::NodeReading;
use crate::lifecycle::scenario::run_scenario;
use crate::lifecycle::LifecycleSpec;

/// The root prefix of the objects `memory` creates.
const ROOT_PREFIX: &str = "mem";

/// Runs the scenario; the report is also written to `<out>/results-memory.json`.
pub async fn memory(spec: &LifecycleSpec) -> anyhow::Result<MemoryReport> {
    run_scenario(spec, "memory", async |cluster| measure(spec, cluster).await, memory_summary).await
}

async fn measure(spec: &LifecycleSpec, cluster: &mut LifecycleCluster) -> anyhow::Result<MemoryReport> {
    let load_at_start = load_average_1m();
    cluster.phase("baseline: wait until idle, read every node's RSS and data dir".into());
    cluster.wait_idle().await?;
    let before = cluster.sampler().readings();
    let disk_before = disk_of_all(cluster)?;

    let plan = ItemPlan { objects: spec.objects, batch: spec.batch };
    cluster.phase(format!(
        "burst: {} small objects, {} per transaction, each list under root {ROOT_PREFIX}/<i>",
        plan.objects, plan.batch
    ));
    cluster.sampler().reset_peaks();
    let stub = cluster.leader_stub().await?;
    let create = create_items(&stub, ROOT_PREFIX, plan).await?;
    let burst = cluster.sampler().readings();

    cluster.phase("settle: applied indexes equal and still, snapshot counts and RSS still".into());
    let settled = cluster.wait_idle().await?;
    let after = cluster.sampler().readings();
    let disk_after = disk_of_all(cluster)?;
    let heap_objects = cluster.admin.status().await?.objects;
    let leader = cluster.leader_id().await?;

    let follower = cluster.ids().into_iter().find(|id| *id != leader).context("the cluster has no follower")?;
    let rss_before_burst_bytes = before.get(&follower).map(|r| r.rss_bytes).unwrap_or(0);
    let reload = reload_follower(cluster, follower, rss_before_burst_bytes, spec.objects).await?;
    let end = cluster.sampler().readings();
    let mut nodes = Vec::new();
    for id in cluster.ids() {
        let reading = |readings: &BTreeMap<u64, NodeReading>| readings.get(&id).copied().unwrap_or_default();
        let rss = BurstReadings {
            before: reading(&before),
            burst: reading(&burst),
            after: reading(&after),
            end: reading(&end),
        };
        let disk =
            (disk_before.get(&id).cloned().unwrap_or_default(), disk_after.get(&id).cloned().unwrap_or_default());
        nodes.push(NodeMemory::new(id, id == leader, rss, disk, spec.objects));
    }

    Ok(MemoryReport {
        objects: spec.objects,
        batch: spec.batch,
        heap_objects,
        create,
        settled,
        nodes,
        reload,
        target_bytes_per_object: TARGET_BYTES_PER_OBJECT,
        load_average_1m: [load_at_start, load_average_1m()],
        phases: cluster.phases(),
        rss_series: cluster.sampler().rss_series(),
    })
}

/// Restarts `follower` on its data and reads its RSS once it has caught up and settled.
async fn reload_follower(
    cluster: &mut LifecycleCluster,
    follower: u64,
    rss_before_burst_bytes: u64,
    objects: u64,
) -> anyhow::Result<Reload> {
    let index = cluster.progress().await?.values().map(|p| p.applied_index).max().unwrap_or(0);
    cluster.phase(format!("reload: SIGTERM follower {follower}, start it again, wait until it applied index {index}"));
    let (clean_exit, reload_time) = cluster.restart_and_catch_up(follower, index).await?;
    cluster.phase(format!("reloaded: follower {follower} applied index {index}; settle"));
    let settled = cluster.wait_idle().await?;
    let reloaded = cluster.sampler().readings().get(&follower).copied().unwrap_or_default();
    Ok(Reload {
        node: follower,
        clean_exit,
        reload_s: reload_time.as_secs_f64(),
        rss_before_burst_bytes,
        rss_after_reload_bytes: reloaded.rss_bytes,
        rss_anon_after_reload_bytes: reloaded.rss_anon_bytes,
        peak_rss_reload_bytes: reloaded.peak_rss_bytes,
        rss_bytes_per_object: per_object(delta(reloaded.rss_bytes, 0), objects),
        rss_delta_bytes_per_object: per_object(delta(reloaded.rss_bytes, rss_before_burst_bytes), objects),
        settled,
    })
}

fn disk_of_all(cluster: &LifecycleCluster) -> anyhow::Result<BTreeMap<u64, DiskUsage>> {
    cluster.ids().into_iter().map(|id| Ok((id, cluster.disk_usage(id)?))).collect()
}
