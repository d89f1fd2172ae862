//! The gc report's derived figures and summary.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::recorder::Recorder;
use crate::system::SecurityMode;
use crate::system::System;
use crate::workload::Workload;

fn summary(ops: u64) -> Summary {
    let mut recorder = Recorder::new().expect("valid bounds");
    for _ in 0..ops {
        recorder.record(Duration::from_millis(2));
    }
    Summary::new(System::Sovereign, Workload::Put, 64, 8, SecurityMode::TlsToken, &recorder, Duration::from_secs(1))
}

fn footprint(rss_mib: u64) -> LeaderFootprint {
    LeaderFootprint { rss_bytes: rss_mib * 1024 * 1024, rss_anon_bytes: 0, disk: DiskUsage::default() }
}

fn measurement(ops: u64, cycles: u64, gc_runs: u64) -> Measurement {
    stepped(ops, cycles, gc_runs, 0)
}

/// A measurement during which `collect_steps` Collect entries were applied.
fn stepped(ops: u64, cycles: u64, gc_runs: u64, collect_steps: u64) -> Measurement {
    let collector = ChurnFigures { gc_runs, mean_cycle_ms: 1_000.0, churn_objects: 40_000, ..ChurnFigures::default() };
    Measurement {
        summary: summary(ops),
        cycles,
        collect_steps,
        leader_changed: cycles > 5,
        snapshots_built: 1,
        collector,
    }
}

fn report(collected: bool) -> GcReport {
    let throughput = Throughput { objects: 1_001_000, transactions: 1_000, elapsed_s: 40.0, ..Throughput::default() };
    let abandonment = Abandonment {
        unbind: Throughput { objects: 1_000, transactions: 1, elapsed_s: 0.05, ..Throughput::default() },
        collected,
        objects_left: if collected { 0 } else { 4_096 },
        collect_s: 2.5,
        total_s: 2.55,
        cycles_during: 0,
        collect_steps: 250,
        freed: 1_001_000,
        longest_step_us: 8_000,
        longest_step_cpu_us: 3_000,
        before: footprint(40),
        live: footprint(600),
        after: footprint(300),
        peak_rss_bytes: 700 * 1024 * 1024,
        rss_after_over_before: 7.5,
        settled: Settled { settled: true, waited_s: 6.0 },
    };
    let after = GcFigures {
        live_objects: 1_001_000,
        last_cycle_ms: 900,
        last_mark_ms: 700,
        last_cycle_garbage: 200_000,
        last_cycle_freed: 200_000,
        longest_step_us: 9_500,
        longest_step_cpu_us: 1_200,
        collect_steps: 49,
        ..GcFigures::default()
    };
    let cycle = CycleRun {
        live_create: throughput.clone(),
        garbage_cycles: 100_000,
        garbage_create: Throughput::default(),
        after,
    };
    GcReport {
        objects: 1_000_000,
        batch: 1_000,
        leader_id: 2,
        baseline: GcFigures::default(),
        create: throughput,
        abandonment,
        cycle,
        clients: 64,
        rounds: 3,
        duration_s: 10.0,
        throughput: vec![ThroughputPoint::new(
            "put",
            [
                ModeRuns::new(vec![measurement(1_000, 0, 0), measurement(400, 0, 0), measurement(1_100, 0, 0)]),
                ModeRuns::new(vec![measurement(960, 0, 0), measurement(800, 0, 0), measurement(970, 0, 0)]),
                ModeRuns::new(vec![stepped(900, 0, 0, 40), stepped(910, 0, 0, 41), stepped(100, 0, 0, 5)]),
                ModeRuns::new(vec![stepped(930, 9, 9, 60), stepped(900, 3, 3, 50), stepped(860, 3, 3, 50)]),
            ],
        )],
        load_average_1m: [3.0, 4.5],
        phases: Vec::new(),
        rss_series: BTreeMap::new(),
    }
}

#[test]
fn ratios_are_of_the_medians_of_the_rounds() {
    let report = report(true);
    let point = &report.throughput[0];
    let medians =
        (point.idle.median_ops_s, point.paused.median_ops_s, point.churn.median_ops_s, point.busy.median_ops_s);
    assert_eq!(medians, (1_000.0, 960.0, 900.0, 900.0));
    assert!((point.busy_over_idle - 0.90).abs() < 1e-9, "{}", point.busy_over_idle);
    assert!(
        (point.churn_over_idle - 0.90).abs() < 1e-9,
        "an outlier round does not move it: {}",
        point.churn_over_idle
    );
    assert!((point.paused_over_idle - 0.96).abs() < 1e-9, "the churn's own load: {}", point.paused_over_idle);
    assert!((point.churn_over_paused - 0.9375).abs() < 1e-9, "the collector's cost: {}", point.churn_over_paused);
    assert!((point.busy_over_paused - 0.9375).abs() < 1e-9, "{}", point.busy_over_paused);
    assert_eq!((point.paused.collect_steps, point.churn.collect_steps, point.busy.collect_steps), (0, 86, 160));
    assert_eq!(point.busy.cycles, 15);
    assert_eq!(point.busy.leader_changes, 1);
    assert_eq!(point.busy.gc_runs(), (15, 1_000.0));
}

#[test]
fn the_median_of_odd_even_and_no_values() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    assert_eq!(median(&[]), 0.0);
}

#[test]
fn the_summary_names_every_figure() {
    let text = gc_summary(&report(true));
    for part in [
        "created 1000000 small objects in 40.0 s",
        "unbound their 1000 roots in 1 transactions",
        "all collected 2.5 s after the last unbind",
        "0 collection cycles meanwhile; 250 Collect entries freed 1001000; longest Collect apply 8000 us (most thread CPU time of one apply 3000 us)",
        "leader 2 RSS: before 40.0 MiB, live 600.0 MiB, peak 700.0 MiB, after collection 300.0 MiB (7.50x before)",
        "cycle over 1001000 live objects and 100000 garbage cycles: 900 ms (mark 700 ms), 200000 unreachable found",
        "longest Collect apply 9500 us (CPU 1200 us) over 49 entries",
        "put at 64 clients, median of 3 rounds of 10 s: idle 1000 ops/s",
        "churning, collector paused 960 ops/s",
        "0.96x idle); churning 900 ops/s",
        "0.90x idle); churning and GcRun back to back 900 ops/s",
        "0.90x idle; 15 cycles, mean 1000 ms)",
        "the collector's own cost (same churn, collector running / paused): churning 0.94x, with GcRun back to back 0.94x",
        "rounds: idle [1000, 400, 1100], churning paused [960, 800, 970], churning [900, 910, 100], busy [930, 900, 860]",
        "errors 0/0/0/0; leader changes 0/0/0/1; snapshots built 3/3/3/3; Collect entries 0/0/86/160",
        "load average (1 min): 3.00 at the start, 4.50 at the end",
    ] {
        assert!(text.contains(part), "{text}\nlacks {part:?}");
    }
}

#[test]
fn objects_left_over_are_reported_not_hidden() {
    let text = gc_summary(&report(false));
    assert!(text.contains("NOT all collected: 4096 objects left after 2.5 s"), "{text}");
}
