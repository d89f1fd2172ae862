//! What `heap-bench gc` found (`GcReport`, written as results-gc.json) and its human summary:
//! how fast abandoned objects went and what memory and disk they gave back, the longest apply
//! step of a full collection cycle over the live objects, and put/get throughput with the
//! collector idle, paused under churn, running under churn, and busy with cycles.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::lifecycle::churn::ChurnFigures;
use crate::lifecycle::cluster::PhaseMark;
use crate::lifecycle::cluster::Settled;
use crate::lifecycle::disk_usage::DiskUsage;
use crate::lifecycle::gc_admin::GcFigures;
use crate::lifecycle::per_object::mib;
use crate::lifecycle::per_object::ratio;
use crate::lifecycle::population::Throughput;
use crate::lifecycle::rss_series::RssPoint;
use crate::summary::Summary;

/// The leader's memory and data dir around the abandonment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaderFootprint {
    pub rss_bytes: u64,
    /// The anonymous part of `rss_bytes` (the heap; the rest is mapped files).
    pub rss_anon_bytes: u64,
    pub disk: DiskUsage,
}

/// Creating N objects, unbinding all their roots, and waiting for them to be collected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Abandonment {
    /// The unbinding transactions; `objects` counts the roots unbound.
    pub unbind: Throughput,
    /// Whether the object count was back to the baseline within `ABANDON_COLLECT_TIMEOUT_MS`.
    pub collected: bool,
    pub objects_left: u64,
    /// From the last unbind's commit until the count was back (or the timeout).
    pub collect_s: f64,
    /// From the first unbind until then.
    pub total_s: f64,
    /// Collection cycles that completed meanwhile (the fast path needs none).
    pub cycles_during: u64,
    pub collect_steps: u64,
    pub freed: u64,
    /// The longest Collect apply on the leader since it started (the abandonment's: nothing was
    /// collected before it).
    pub longest_step_us: u64,
    /// The same apply's thread CPU time: the state machine's own cost, without waiting for a core.
    pub longest_step_cpu_us: u64,
    pub before: LeaderFootprint,
    /// With the N objects live, after settling.
    pub live: LeaderFootprint,
    /// After collection and settling.
    pub after: LeaderFootprint,
    /// The highest leader RSS sampled from the burst's start to the end of collection.
    pub peak_rss_bytes: u64,
    pub rss_after_over_before: f64,
    pub settled: Settled,
}

/// A full collection cycle (`GcRun`) over N live objects and M garbage cycles, on freshly
/// restarted nodes (so the longest step is the cycle's own).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CycleRun {
    pub live_create: Throughput,
    pub garbage_cycles: u64,
    pub garbage_create: Throughput,
    /// The collector's status when `GcRun` answered.
    pub after: GcFigures,
}

/// One measurement of a throughput point: what the clients saw, the cycles that completed
/// meanwhile, whether the leader changed, and what the churn (and `GcRun` loop) did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    pub summary: Summary,
    /// Collection cycles that completed during the measurement (by the leader at its end).
    pub cycles: u64,
    /// Collect entries applied during the measurement (none while the collector is paused).
    pub collect_steps: u64,
    /// An election under load: the figures then include one.
    pub leader_changed: bool,
    /// Snapshots the nodes built meanwhile, all together (each one serializes the whole heap).
    pub snapshots_built: u64,
    pub collector: ChurnFigures,
}

/// The middle value (the mean of the middle two for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Every round of one mode of a throughput point, and their medians: on a shared machine one
/// round can fall into another process's burst; the median of interleaved rounds does not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModeRuns {
    pub median_ops_s: f64,
    pub median_p99_ms: f64,
    pub errors: u64,
    pub cycles: u64,
    pub collect_steps: u64,
    pub leader_changes: u64,
    pub snapshots_built: u64,
    pub rounds: Vec<Measurement>,
}

impl ModeRuns {
    pub fn new(rounds: Vec<Measurement>) -> Self {
        let ops: Vec<f64> = rounds.iter().map(|m| m.summary.throughput_ops_s).collect();
        let p99: Vec<f64> = rounds.iter().map(|m| m.summary.p99_ms).collect();
        Self {
            median_ops_s: median(&ops),
            median_p99_ms: median(&p99),
            errors: rounds.iter().map(|m| m.summary.errors).sum(),
            cycles: rounds.iter().map(|m| m.cycles).sum(),
            collect_steps: rounds.iter().map(|m| m.collect_steps).sum(),
            leader_changes: rounds.iter().filter(|m| m.leader_changed).count() as u64,
            snapshots_built: rounds.iter().map(|m| m.snapshots_built).sum(),
            rounds,
        }
    }

    /// The rounds' throughputs, e.g. `[5115, 3150, 4870]`.
    fn rounds_text(&self) -> String {
        let each: Vec<String> = self.rounds.iter().map(|m| format!("{:.0}", m.summary.throughput_ops_s)).collect();
        format!("[{}]", each.join(", "))
    }

    /// Cycles the `GcRun` loop completed over every round, and their mean length.
    fn gc_runs(&self) -> (u64, f64) {
        let runs: u64 = self.rounds.iter().map(|m| m.collector.gc_runs).sum();
        let total_ms: f64 = self.rounds.iter().map(|m| m.collector.mean_cycle_ms * m.collector.gc_runs as f64).sum();
        (runs, if runs > 0 { total_ms / runs as f64 } else { 0.0 })
    }
}

/// One workload at `GC_THROUGHPUT_CLIENTS` clients: collector idle, objects churning with the
/// collector paused, objects churning (the fast path busy), and churning with `GcRun` back to
/// back (cycles busy too); the ratios are of the medians. The churn writes in the last three, so
/// only the ratios over `paused` are the collector's own cost (issue 11: within 10%).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThroughputPoint {
    pub workload: String,
    pub churn_over_idle: f64,
    pub busy_over_idle: f64,
    /// The churn's own write load: churning with the collector paused over idle.
    pub paused_over_idle: f64,
    /// The collector's own cost: churning over churning with it paused.
    pub churn_over_paused: f64,
    /// The collector's cost with cycles back to back as well.
    pub busy_over_paused: f64,
    pub idle: ModeRuns,
    pub paused: ModeRuns,
    pub churn: ModeRuns,
    pub busy: ModeRuns,
}

impl ThroughputPoint {
    /// `modes`: idle, churning paused, churning, busy.
    pub fn new(workload: &str, modes: [ModeRuns; 4]) -> Self {
        let [idle, paused, churn, busy] = modes;
        Self {
            workload: workload.to_string(),
            churn_over_idle: ratio(churn.median_ops_s, idle.median_ops_s),
            busy_over_idle: ratio(busy.median_ops_s, idle.median_ops_s),
            paused_over_idle: ratio(paused.median_ops_s, idle.median_ops_s),
            churn_over_paused: ratio(churn.median_ops_s, paused.median_ops_s),
            busy_over_paused: ratio(busy.median_ops_s, paused.median_ops_s),
            idle,
            paused,
            churn,
            busy,
        }
    }

    /// The modes in report order, with their names.
    fn modes(&self) -> [(&'static str, &ModeRuns); 4] {
        [("idle", &self.idle), ("churning paused", &self.paused), ("churning", &self.churn), ("busy", &self.busy)]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GcReport {
    pub objects: u64,
    pub batch: usize,
    /// The leader whose memory and disk the abandonment figures are.
    pub leader_id: u64,
    pub baseline: GcFigures,
    pub create: Throughput,
    pub abandonment: Abandonment,
    pub cycle: CycleRun,
    pub clients: usize,
    /// Interleaved rounds of each throughput mode, each measured this long.
    pub rounds: usize,
    pub duration_s: f64,
    pub throughput: Vec<ThroughputPoint>,
    /// The machine's one-minute load average at the start and the end: above the core count,
    /// other work shared the CPU with the cluster.
    pub load_average_1m: [f64; 2],
    /// When each phase began, on the time axis of `rss_series`.
    pub phases: Vec<PhaseMark>,
    /// Every node's RSS over the run (node id to points).
    pub rss_series: BTreeMap<u64, Vec<RssPoint>>,
}

fn abandonment_lines(text: &mut String, report: &GcReport) {
    let a = &report.abandonment;
    let _ =
        writeln!(
        text,
        "created {} small objects in {:.1} s ({:.0} objects/s); unbound their {} roots in {} transactions ({:.2} s)",
        report.objects, report.create.elapsed_s, report.create.objects_per_s, a.unbind.objects, a.unbind.transactions,
        a.unbind.elapsed_s
    );
    let outcome = if a.collected {
        format!("all collected {:.1} s after the last unbind ({:.1} s after the first)", a.collect_s, a.total_s)
    } else {
        format!("NOT all collected: {} objects left after {:.1} s", a.objects_left, a.collect_s)
    };
    let _ = writeln!(
        text,
        "{outcome}; {} collection cycles meanwhile; {} Collect entries freed {}; longest Collect apply {} us \
         (most thread CPU time of one apply {} us)",
        a.cycles_during, a.collect_steps, a.freed, a.longest_step_us, a.longest_step_cpu_us
    );
    let _ = writeln!(
        text,
        "leader {} RSS: before {}, live {}, peak {}, after collection {} ({:.2}x before){}",
        report.leader_id,
        mib(a.before.rss_bytes),
        mib(a.live.rss_bytes),
        mib(a.peak_rss_bytes),
        mib(a.after.rss_bytes),
        a.rss_after_over_before,
        if a.settled.settled { "" } else { " NOT settled" }
    );
    let _ = writeln!(
        text,
        "leader data dir: before {}, live {}, after collection {}",
        mib(a.before.disk.total_bytes),
        mib(a.live.disk.total_bytes),
        mib(a.after.disk.total_bytes)
    );
}

fn throughput_lines(text: &mut String, report: &GcReport, point: &ThroughputPoint) {
    let (runs, mean_cycle_ms) = point.busy.gc_runs();
    let _ = writeln!(
        text,
        "{} at {} clients, median of {} rounds of {:.0} s: idle {:.0} ops/s (p99 {:.2} ms); churning, collector paused {:.0} ops/s (p99 {:.2} ms, {:.2}x idle); churning {:.0} ops/s (p99 {:.2} ms, {:.2}x idle); churning and GcRun back to back {:.0} ops/s (p99 {:.2} ms, {:.2}x idle; {} cycles, mean {:.0} ms)",
        point.workload,
        report.clients,
        report.rounds,
        report.duration_s,
        point.idle.median_ops_s,
        point.idle.median_p99_ms,
        point.paused.median_ops_s,
        point.paused.median_p99_ms,
        point.paused_over_idle,
        point.churn.median_ops_s,
        point.churn.median_p99_ms,
        point.churn_over_idle,
        point.busy.median_ops_s,
        point.busy.median_p99_ms,
        point.busy_over_idle,
        runs,
        mean_cycle_ms
    );
    let _ = writeln!(
        text,
        "  the collector's own cost (same churn, collector running / paused): churning {:.2}x, with GcRun back to back {:.2}x",
        point.churn_over_paused, point.busy_over_paused
    );
    let modes = point.modes();
    let each = |figure: &dyn Fn(&ModeRuns) -> String| modes.map(|(_, runs)| figure(runs)).join("/");
    let rounds: Vec<String> = modes.iter().map(|(name, runs)| format!("{name} {}", runs.rounds_text())).collect();
    let _ = writeln!(
        text,
        "  rounds: {}; errors {}; leader changes {}; snapshots built {}; Collect entries {}",
        rounds.join(", "),
        each(&|runs| runs.errors.to_string()),
        each(&|runs| runs.leader_changes.to_string()),
        each(&|runs| runs.snapshots_built.to_string()),
        each(&|runs| runs.collect_steps.to_string())
    );
}

/// The human summary of a report.
pub fn gc_summary(report: &GcReport) -> String {
    let mut text = String::new();
    abandonment_lines(&mut text, report);
    let c = &report.cycle;
    let _ = writeln!(
        text,
        "cycle over {} live objects and {} garbage cycles: {} ms (mark {} ms), {} unreachable found, {} freed, longest Collect apply {} us (CPU {} us) over {} entries",
        c.after.live_objects, c.garbage_cycles, c.after.last_cycle_ms, c.after.last_mark_ms, c.after.last_cycle_garbage,
        c.after.last_cycle_freed, c.after.longest_step_us, c.after.longest_step_cpu_us, c.after.collect_steps
    );
    for point in &report.throughput {
        throughput_lines(&mut text, report, point);
    }
    let [start, end] = report.load_average_1m;
    let _ = writeln!(text, "machine load average (1 min): {start:.2} at the start, {end:.2} at the end");
    text
}

#[cfg(test)]
#[path = "gc_report_test.rs"]
mod tests;
