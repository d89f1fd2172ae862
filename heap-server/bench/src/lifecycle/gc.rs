//! `heap-bench gc`: on a fresh secured three-node cluster, (1) N small objects created, then
//! abandoned (their roots unbound): how long until the object count is back to the baseline, how
//! many cycles ran meanwhile, the longest Collect apply, and the leader's RSS and data dir before,
//! live and after; (2) after restarting the nodes (so the collector's figures start over), N live
//! objects and M garbage cycles and one `GcRun`: the cycle's length, its mark and its longest
//! apply step; (3) put and get at 64 clients with the collector idle, with objects churning and
//! the collector paused on every node, with them churning (the collector running), and with them
//! churning and `GcRun` back to back (`churn.rs`), in interleaved rounds: churning over churning
//! paused is the collector's own cost, the churn's write load being in both. The report goes to
//! results-gc.json and a summary to stdout.

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use crate::driver::Stop;
use crate::lifecycle::churn::BusyCollector;
use crate::lifecycle::churn::ChurnFigures;
use crate::lifecycle::cluster::LifecycleCluster;
use crate::lifecycle::gc_admin::GcAdmin;
use crate::lifecycle::gc_admin::GcFigures;
use crate::lifecycle::gc_report::gc_summary;
use crate::lifecycle::gc_report::Abandonment;
use crate::lifecycle::gc_report::CycleRun;
use crate::lifecycle::gc_report::GcReport;
use crate::lifecycle::gc_report::LeaderFootprint;
use crate::lifecycle::gc_report::Measurement;
use crate::lifecycle::gc_report::ModeRuns;
use crate::lifecycle::gc_report::ThroughputPoint;
use crate::lifecycle::per_object::ratio;
use crate::lifecycle::population::abandon;
use crate::lifecycle::population::create_garbage_cycles;
use crate::lifecycle::population::create_items;
use crate::lifecycle::population::ItemPlan;
use crate::lifecycle::population::Throughput;
use crate::lifecycle::proc_status::load_average_1m;
use crate::lifecycle::scenario::run_scenario;
use crate::lifecycle::GcSpec;
use crate::limits::ABANDON_COLLECT_TIMEOUT_MS;
use crate::limits::AFTER_COLLECTION_IDLE_MS;
use crate::limits::GC_STATUS_POLL_MS;
use crate::limits::GC_THROUGHPUT_CLIENTS;
use crate::limits::WARMUP_S_DEFAULT;
use crate::run::run;
use crate::system::connections_for;
use crate::system::RunSpec;
use crate::system::System;
use crate::workload::Workload;

/// Root prefixes: the abandoned objects, the live ones of the cycle, the busy collector's churn.
const ABANDONED_PREFIX: &str = "mem";
const LIVE_PREFIX: &str = "live";
const CHURN_PREFIX: &str = "churn";

/// Runs the scenario; the report is also written to `<out>/results-gc.json`.
pub async fn gc(spec: &GcSpec) -> anyhow::Result<GcReport> {
    run_scenario(&spec.common, "gc", async |cluster| measure(spec, cluster).await, gc_summary).await
}

async fn measure(spec: &GcSpec, cluster: &mut LifecycleCluster) -> anyhow::Result<GcReport> {
    let load_at_start = load_average_1m();
    let plan = ItemPlan { objects: spec.common.objects, batch: spec.common.batch };
    cluster.phase("baseline: wait until idle; the collector's status, the leader's RSS and data dir".into());
    cluster.wait_idle().await?;
    let baseline = cluster.admin.status().await?;
    let leader_id = cluster.leader_id().await?;
    let before = footprint(cluster, leader_id)?;

    cluster.phase(format!(
        "create: {} small objects, {} per transaction, under roots {ABANDONED_PREFIX}/<i>",
        plan.objects, plan.batch
    ));
    cluster.sampler().reset_peaks();
    let create = create_items(&cluster.leader_stub().await?, ABANDONED_PREFIX, plan).await?;
    cluster.wait_idle().await?;
    let live = footprint(cluster, leader_id)?;

    let abandonment = abandon_all(cluster, plan, &baseline, leader_id, before, live).await?;

    cluster.phase("restart every node, so the collector's figures count the cycle alone".into());
    cluster.restart_all().await?;
    let cycle = cycle_run(cluster, plan, spec.garbage_cycles).await?;

    let mut throughput = Vec::new();
    for workload in [Workload::Put, Workload::Get] {
        throughput.push(throughput_point(cluster, workload, spec.throughput_duration, spec.rounds).await?);
    }
    Ok(GcReport {
        objects: plan.objects,
        batch: plan.batch,
        leader_id,
        baseline,
        create,
        abandonment,
        cycle,
        clients: GC_THROUGHPUT_CLIENTS,
        rounds: spec.rounds,
        duration_s: spec.throughput_duration.as_secs_f64(),
        throughput,
        load_average_1m: [load_at_start, load_average_1m()],
        phases: cluster.phases(),
        rss_series: cluster.sampler().rss_series(),
    })
}

fn footprint(cluster: &LifecycleCluster, leader_id: u64) -> anyhow::Result<LeaderFootprint> {
    let reading = cluster.sampler().readings().get(&leader_id).copied().unwrap_or_default();
    Ok(LeaderFootprint {
        rss_bytes: reading.rss_bytes,
        rss_anon_bytes: reading.rss_anon_bytes,
        disk: cluster.disk_usage(leader_id)?,
    })
}

/// Unbinds every root of `plan` and waits until the object count is back to `baseline`.
async fn abandon_all(
    cluster: &mut LifecycleCluster,
    plan: ItemPlan,
    baseline: &GcFigures,
    leader_id: u64,
    before: LeaderFootprint,
    live: LeaderFootprint,
) -> anyhow::Result<Abandonment> {
    cluster.phase(format!(
        "abandon: unbind all {} roots, wait until GcStatus objects is back to {}",
        plan.transactions(),
        baseline.objects
    ));
    let at_start = cluster.admin.status().await?;
    let started = Instant::now();
    let unbind = abandon(&cluster.leader_stub().await?, ABANDONED_PREFIX, plan).await?;
    let unbound = Instant::now();
    let now = wait_for_objects(&cluster.admin, baseline.objects).await?;
    let (collect_s, total_s) = (unbound.elapsed().as_secs_f64(), started.elapsed().as_secs_f64());
    let peak_rss_bytes = cluster.sampler().readings().get(&leader_id).map(|r| r.peak_rss_bytes).unwrap_or(0);
    cluster.phase("settle after collection; the leader's RSS and data dir".into());
    let settled = cluster.wait_idle().await?;
    tokio::time::sleep(Duration::from_millis(AFTER_COLLECTION_IDLE_MS)).await;
    let after = footprint(cluster, leader_id)?;
    Ok(Abandonment {
        unbind,
        collected: now.objects <= baseline.objects,
        objects_left: now.objects.saturating_sub(baseline.objects),
        collect_s,
        total_s,
        cycles_during: now.cycles.saturating_sub(at_start.cycles),
        collect_steps: now.collect_steps.saturating_sub(at_start.collect_steps),
        freed: now.freed_total.saturating_sub(at_start.freed_total),
        longest_step_us: now.longest_step_us,
        longest_step_cpu_us: now.longest_step_cpu_us,
        rss_after_over_before: ratio(after.rss_bytes as f64, before.rss_bytes as f64),
        before,
        live,
        after,
        peak_rss_bytes,
        settled,
    })
}

/// Polls GcStatus until `objects` is at most `target` or `ABANDON_COLLECT_TIMEOUT_MS` passed;
/// returns the last status.
async fn wait_for_objects(admin: &GcAdmin, target: u64) -> anyhow::Result<GcFigures> {
    wait_for_status(admin, |status| status.objects <= target).await
}

/// Polls GcStatus until `done` holds or `ABANDON_COLLECT_TIMEOUT_MS` passed; returns the last
/// status.
async fn wait_for_status(admin: &GcAdmin, done: impl Fn(&GcFigures) -> bool) -> anyhow::Result<GcFigures> {
    let started = Instant::now();
    loop {
        let status = admin.status().await?;
        if done(&status) || started.elapsed() > Duration::from_millis(ABANDON_COLLECT_TIMEOUT_MS) {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(GC_STATUS_POLL_MS)).await;
    }
}

/// N live objects, M garbage cycles, then one full cycle.
async fn cycle_run(cluster: &mut LifecycleCluster, plan: ItemPlan, garbage_cycles: u64) -> anyhow::Result<CycleRun> {
    cluster.phase(format!(
        "cycle: {} live objects under roots {LIVE_PREFIX}/<i>, then {garbage_cycles} garbage cycles, then GcRun",
        plan.objects
    ));
    let stub = cluster.leader_stub().await?;
    let live_create = create_items(&stub, LIVE_PREFIX, plan).await?;
    let garbage_create =
        if garbage_cycles > 0 { create_garbage_cycles(&stub, garbage_cycles).await? } else { Throughput::default() };
    let after = cluster.admin.run_cycle().await?;
    cluster.wait_idle().await?;
    Ok(CycleRun { live_create, garbage_cycles, garbage_create, after })
}

/// What runs beside the clients in one measurement.
enum Beside {
    /// Nothing: the collector has no work.
    Nothing,
    /// The churn, with the collector paused on every node (the caller pauses it).
    ChurnPaused,
    /// The churn, the collector's fast path freeing what it abandons.
    Churn,
    /// The churn and `GcRun` back to back.
    ChurnAndCycles(Arc<GcAdmin>),
}

impl Beside {
    /// The churn's root prefix, when there is one.
    fn churn_prefix(&self, workload: Workload) -> Option<String> {
        let mode = match self {
            Beside::Nothing => return None,
            Beside::ChurnPaused => "paused",
            Beside::Churn => "churn",
            Beside::ChurnAndCycles(_) => "busy",
        };
        Some(format!("{CHURN_PREFIX}/{workload}/{mode}"))
    }
}

/// One measurement of `workload`, with `beside` running alongside.
async fn measure_workload(
    cluster: &LifecycleCluster,
    workload: Workload,
    duration: Duration,
    beside: Beside,
) -> anyhow::Result<Measurement> {
    let spec = RunSpec {
        system: System::Sovereign,
        endpoints: cluster.endpoints(),
        workload,
        clients: GC_THROUGHPUT_CLIENTS,
        connections: connections_for(GC_THROUGHPUT_CLIENTS, None)?,
        stop: Stop::After(duration),
        warmup: Duration::from_secs_f64(WARMUP_S_DEFAULT),
        security: cluster.security(),
    };
    let status_before = cluster.admin.status().await?;
    let paused = matches!(beside, Beside::ChurnPaused);
    anyhow::ensure!(
        status_before.paused == paused,
        "the leader's collector is {}paused before a measurement that needs it {}paused",
        if status_before.paused { "" } else { "not " },
        if paused { "" } else { "not " }
    );
    let snapshots_before = snapshots_built(cluster).await?;
    let busy = match beside.churn_prefix(workload) {
        Some(prefix) => {
            let admin = match beside {
                Beside::ChurnAndCycles(admin) => Some(admin),
                _ => None,
            };
            Some(BusyCollector::start(cluster.leader_stub().await?, admin, &prefix))
        }
        None => None,
    };
    let measured = run(&spec).await;
    let collector = match busy {
        Some(busy) => busy.stop().await?,
        None => ChurnFigures::default(),
    };
    let summary = measured?;
    let status_after = cluster.admin.status().await?;
    let snapshots_built = snapshots_built(cluster).await?.saturating_sub(snapshots_before);
    let leader_changed = status_after.leader_id != status_before.leader_id;
    // A new leader's count started from zero: all of it is from this measurement.
    let cycles =
        if leader_changed { status_after.cycles } else { status_after.cycles.saturating_sub(status_before.cycles) };
    // Every node applies every Collect, so this holds across a leader change too (unless a node
    // restarted: its count starts over, and the difference is then 0).
    let collect_steps = status_after.collect_steps.saturating_sub(status_before.collect_steps);
    println!("{}", summary.line());
    Ok(Measurement { summary, cycles, collect_steps, leader_changed, snapshots_built, collector })
}

/// Snapshots every node has built since it started, all together.
async fn snapshots_built(cluster: &LifecycleCluster) -> anyhow::Result<u64> {
    Ok(cluster.progress().await?.values().map(|progress| progress.snapshots_built).sum())
}

/// After a measurement with churn: one more cycle collects its garbage cycles, then the cluster
/// settles, so the next measurement starts from the same state.
async fn clean_up(cluster: &mut LifecycleCluster) -> anyhow::Result<()> {
    cluster.admin.run_cycle().await?;
    cluster.wait_idle().await?;
    cluster.check_running()
}

/// The churn with the collector paused on every node (resumed afterwards, also when the
/// measurement failed), then the garbage that waited is freed before the next measurement.
async fn measure_paused(
    cluster: &mut LifecycleCluster,
    admin: &GcAdmin,
    workload: Workload,
    duration: Duration,
) -> anyhow::Result<Measurement> {
    admin.set_paused(true).await?;
    let measured = measure_workload(cluster, workload, duration, Beside::ChurnPaused).await;
    admin.set_paused(false).await?;
    let measured = measured?;
    anyhow::ensure!(
        measured.collect_steps == 0,
        "{} Collect entries were applied while the collector was paused; the pause does not hold",
        measured.collect_steps
    );
    // The fast path first (objects the churn unbound), then a cycle for the garbage cycles they
    // referenced, so the next measurement starts from the same state as after the others.
    let status = wait_for_status(&cluster.admin, |status| status.unreferenced == 0).await?;
    anyhow::ensure!(
        status.unreferenced == 0,
        "{} unreferenced objects were left {ABANDON_COLLECT_TIMEOUT_MS} ms after the collector resumed",
        status.unreferenced
    );
    clean_up(cluster).await?;
    Ok(measured)
}

/// `workload` with the collector idle, with objects churning and the collector paused, with
/// them churning, and with them churning and `GcRun` back to back, in `rounds` interleaved
/// rounds.
async fn throughput_point(
    cluster: &mut LifecycleCluster,
    workload: Workload,
    duration: Duration,
    rounds: usize,
) -> anyhow::Result<ThroughputPoint> {
    let admin = Arc::new(GcAdmin::new(cluster.endpoints(), cluster.security()));
    let (mut idle, mut paused, mut churn, mut busy) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        let at = format!("{workload} at {GC_THROUGHPUT_CLIENTS} clients, round {round}/{rounds}");
        cluster.phase(format!("{at}: collector idle"));
        idle.push(measure_workload(cluster, workload, duration, Beside::Nothing).await?);
        cluster.phase(format!("{at}: objects churning, collector paused on every node"));
        paused.push(measure_paused(cluster, &admin, workload, duration).await?);
        cluster.phase(format!("{at}: objects churning (fast path busy)"));
        churn.push(measure_workload(cluster, workload, duration, Beside::Churn).await?);
        clean_up(cluster).await?;
        cluster.phase(format!("{at}: churning and GcRun back to back (cycles busy)"));
        busy.push(measure_workload(cluster, workload, duration, Beside::ChurnAndCycles(Arc::clone(&admin))).await?);
        clean_up(cluster).await?;
    }
    let modes = [idle, paused, churn, busy].map(ModeRuns::new);
    Ok(ThroughputPoint::new(workload.as_str(), modes))
}
