//! What `heap-bench memory` found (`MemoryReport`, written as results-memory.json) and its
//! human summary: per node, RSS before the burst, at its peak, after settling (with its anonymous
//! and file-mapped parts), each as bytes per small object, the data dir's growth per object, and
//! a restarted follower's RSS once it reloaded.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::lifecycle::cluster::PhaseMark;
use crate::lifecycle::cluster::Settled;
use crate::lifecycle::disk_usage::DiskUsage;
use crate::lifecycle::per_object::delta;
use crate::lifecycle::per_object::mib;
use crate::lifecycle::per_object::per_object;
use crate::lifecycle::population::Throughput;
use crate::lifecycle::rss_sampler::NodeReading;
use crate::lifecycle::rss_series::RssPoint;

/// The goal for a node's RSS per small live object.
pub const TARGET_BYTES_PER_OBJECT: f64 = 300.0;

/// One node's memory and disk across the burst.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeMemory {
    pub node: u64,
    pub leader: bool,
    pub rss_before_bytes: u64,
    /// The highest RSS sampled from the burst's start to its end, and to the end of settling
    /// (applying, flushing and compacting go on after the last commit answered).
    pub rss_peak_burst_bytes: u64,
    pub rss_peak_bytes: u64,
    pub rss_after_bytes: u64,
    /// What `rss_after_bytes` is made of: anonymous memory (the heap) and mapped files.
    pub rss_after_anon_bytes: u64,
    pub rss_after_file_bytes: u64,
    /// The kernel's high-water mark (VmHWM) after settling: the peak since the node started.
    pub hwm_after_bytes: u64,
    pub peak_burst_bytes_per_object: f64,
    pub peak_bytes_per_object: f64,
    pub after_bytes_per_object: f64,
    /// The growth of anonymous memory alone, per object.
    pub after_anon_bytes_per_object: f64,
    /// At the very end of the run, after the follower's reload (memory freed late shows here;
    /// for the restarted follower this is its new process).
    pub rss_end_bytes: u64,
    pub end_bytes_per_object: f64,
    pub disk_before: DiskUsage,
    pub disk_after: DiskUsage,
    pub disk_bytes_per_object: f64,
}

/// One node's readings before the burst, at its end, after settling (their peaks from the
/// burst's start) and at the end of the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BurstReadings {
    pub before: NodeReading,
    pub burst: NodeReading,
    pub after: NodeReading,
    pub end: NodeReading,
}

impl NodeMemory {
    /// Derives the per-object figures from the readings.
    pub fn new(node: u64, leader: bool, rss: BurstReadings, disk: (DiskUsage, DiskUsage), objects: u64) -> Self {
        let BurstReadings { before, burst, after, end } = rss;
        let (disk_before, disk_after) = disk;
        Self {
            node,
            leader,
            rss_before_bytes: before.rss_bytes,
            rss_peak_burst_bytes: burst.peak_rss_bytes,
            rss_peak_bytes: after.peak_rss_bytes,
            rss_after_bytes: after.rss_bytes,
            rss_after_anon_bytes: after.rss_anon_bytes,
            rss_after_file_bytes: after.rss_file_bytes,
            hwm_after_bytes: after.hwm_bytes,
            peak_burst_bytes_per_object: per_object(delta(burst.peak_rss_bytes, before.rss_bytes), objects),
            peak_bytes_per_object: per_object(delta(after.peak_rss_bytes, before.rss_bytes), objects),
            after_bytes_per_object: per_object(delta(after.rss_bytes, before.rss_bytes), objects),
            after_anon_bytes_per_object: per_object(delta(after.rss_anon_bytes, before.rss_anon_bytes), objects),
            rss_end_bytes: end.rss_bytes,
            end_bytes_per_object: per_object(delta(end.rss_bytes, before.rss_bytes), objects),
            disk_bytes_per_object: per_object(delta(disk_after.total_bytes, disk_before.total_bytes), objects),
            disk_before,
            disk_after,
        }
    }
}

/// A follower restarted on its data after the burst.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reload {
    pub node: u64,
    /// Whether it exited by itself on SIGTERM (else it was killed after the wait).
    pub clean_exit: bool,
    /// From its start until it had applied the cluster's index again.
    pub reload_s: f64,
    pub rss_before_burst_bytes: u64,
    pub rss_after_reload_bytes: u64,
    pub rss_anon_after_reload_bytes: u64,
    pub peak_rss_reload_bytes: u64,
    /// RSS after reloading over the small objects, whole and less the node's RSS before the burst.
    pub rss_bytes_per_object: f64,
    pub rss_delta_bytes_per_object: f64,
    pub settled: Settled,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryReport {
    /// Small objects created (each transaction also creates one list).
    pub objects: u64,
    pub batch: usize,
    /// Objects in the heap after the burst, lists included (GcStatus).
    pub heap_objects: u64,
    pub create: Throughput,
    pub settled: Settled,
    pub nodes: Vec<NodeMemory>,
    pub reload: Reload,
    pub target_bytes_per_object: f64,
    /// The machine's one-minute load average at the start and the end: above the core count,
    /// other work shared the CPU with the cluster.
    pub load_average_1m: [f64; 2],
    /// When each phase began, on the time axis of `rss_series`.
    pub phases: Vec<PhaseMark>,
    /// Every node's RSS over the run (node id to points).
    pub rss_series: BTreeMap<u64, Vec<RssPoint>>,
}

fn node_lines(text: &mut String, nodes: &[NodeMemory]) {
    let _ = writeln!(
        text,
        "node role     RSS before  burst peak (B/obj)    peak to settled (B/obj)  after (B/obj)         after anon / file        anon B/obj  at the end (B/obj)    data dir after (B/obj)"
    );
    for node in nodes {
        let _ = writeln!(
            text,
            "{:<4} {:<8} {:>10}  {:>10} ({:>6.0})  {:>10} ({:>6.0})     {:>10} ({:>6.0})  {:>10} / {:>10}  {:>10.0}  {:>10} ({:>6.0})  {:>10} ({:>5.0})",
            node.node,
            if node.leader { "leader" } else { "follower" },
            mib(node.rss_before_bytes),
            mib(node.rss_peak_burst_bytes),
            node.peak_burst_bytes_per_object,
            mib(node.rss_peak_bytes),
            node.peak_bytes_per_object,
            mib(node.rss_after_bytes),
            node.after_bytes_per_object,
            mib(node.rss_after_anon_bytes),
            mib(node.rss_after_file_bytes),
            node.after_anon_bytes_per_object,
            mib(node.rss_end_bytes),
            node.end_bytes_per_object,
            mib(node.disk_after.total_bytes),
            node.disk_bytes_per_object
        );
    }
}

/// The human summary of a report.
pub fn memory_summary(report: &MemoryReport) -> String {
    let mut text = String::new();
    let create = &report.create;
    let _ = writeln!(
        text,
        "created {} small objects ({} in the heap with the lists) in {} transactions of {}: {:.1} s, {:.0} objects/s, {:.1} transactions/s",
        report.objects, report.heap_objects, create.transactions, report.batch, create.elapsed_s, create.objects_per_s,
        create.transactions_per_s
    );
    let settled = if report.settled.settled { "settled" } else { "NOT settled (figures of a busy cluster)" };
    let _ = writeln!(text, "after the burst the cluster {settled} in {:.1} s", report.settled.waited_s);
    node_lines(&mut text, &report.nodes);
    let reload = &report.reload;
    let _ = writeln!(
        text,
        "follower {} restarted ({}): reloaded and caught up in {:.1} s; RSS {} (anon {}; {:.0} B/object, {:.0} B/object over its RSS before the burst), peak {}",
        reload.node,
        if reload.clean_exit { "clean exit on SIGTERM" } else { "killed after SIGTERM timed out" },
        reload.reload_s,
        mib(reload.rss_after_reload_bytes),
        mib(reload.rss_anon_after_reload_bytes),
        reload.rss_bytes_per_object,
        reload.rss_delta_bytes_per_object,
        mib(reload.peak_rss_reload_bytes)
    );
    let _ = writeln!(text, "target: at most {:.0} bytes of RSS per small live object", report.target_bytes_per_object);
    let [start, end] = report.load_average_1m;
    let _ = writeln!(text, "machine load average (1 min): {start:.2} at the start, {end:.2} at the end");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn usage(total_bytes: u64) -> DiskUsage {
        DiskUsage { total_bytes, ..DiskUsage::default() }
    }

    fn reading(rss_mib: u64, anon_mib: u64, peak_mib: u64) -> NodeReading {
        NodeReading {
            rss_bytes: rss_mib * MIB,
            rss_anon_bytes: anon_mib * MIB,
            rss_file_bytes: (rss_mib - anon_mib) * MIB,
            peak_rss_bytes: peak_mib * MIB,
            hwm_bytes: 900 * MIB,
        }
    }

    fn report() -> MemoryReport {
        let leader_rss = BurstReadings {
            before: reading(40, 20, 40),
            burst: reading(700, 600, 700),
            after: reading(500, 420, 900),
            end: reading(300, 280, 900),
        };
        let leader = NodeMemory::new(1, true, leader_rss, (usage(MIB), usage(101 * MIB)), 1_000_000);
        let follower_rss = BurstReadings {
            before: reading(40, 20, 40),
            burst: reading(40, 20, 40),
            after: reading(30, 10, 40),
            end: reading(30, 10, 40),
        };
        let follower = NodeMemory::new(2, false, follower_rss, (usage(0), usage(0)), 1_000_000);
        let settled = Settled { settled: true, waited_s: 6.5 };
        let create = Throughput {
            objects: 1_001_000,
            transactions: 1_000,
            elapsed_s: 50.0,
            objects_per_s: 20_020.0,
            transactions_per_s: 20.0,
        };
        MemoryReport {
            objects: 1_000_000,
            batch: 1_000,
            heap_objects: 1_001_000,
            create,
            settled,
            nodes: vec![leader, follower],
            reload: Reload {
                node: 2,
                clean_exit: true,
                reload_s: 3.0,
                rss_before_burst_bytes: 40 * MIB,
                rss_after_reload_bytes: 340 * MIB,
                rss_anon_after_reload_bytes: 300 * MIB,
                peak_rss_reload_bytes: 400 * MIB,
                rss_bytes_per_object: 340.0 * MIB as f64 / 1e6,
                rss_delta_bytes_per_object: 300.0 * MIB as f64 / 1e6,
                settled,
            },
            target_bytes_per_object: TARGET_BYTES_PER_OBJECT,
            load_average_1m: [1.5, 2.25],
            phases: vec![PhaseMark { at_ms: 10, phase: "burst".into() }],
            rss_series: BTreeMap::from([(1, vec![RssPoint { at_ms: 0, rss_bytes: 1, rss_anon_bytes: 1 }])]),
        }
    }

    #[test]
    fn per_object_figures_are_deltas_over_the_small_objects() {
        let report = report();
        let leader = &report.nodes[0];
        assert!((leader.peak_burst_bytes_per_object - 660.0 * 1.048576).abs() < 1e-6);
        assert!((leader.peak_bytes_per_object - 860.0 * 1.048576).abs() < 1e-6, "the peak runs on past the burst");
        assert!((leader.after_bytes_per_object - 460.0 * 1.048576).abs() < 1e-6);
        assert!((leader.after_anon_bytes_per_object - 400.0 * 1.048576).abs() < 1e-6);
        assert!((leader.disk_bytes_per_object - 100.0 * 1.048576).abs() < 1e-6);
        assert_eq!(leader.rss_after_file_bytes, 80 * MIB);
        let follower = &report.nodes[1];
        assert!(follower.after_bytes_per_object < 0.0, "memory that shrank is shown as shrinking");
    }

    #[test]
    fn the_summary_names_every_figure() {
        let text = memory_summary(&report());
        for part in [
            "created 1000000 small objects (1001000 in the heap",
            "1000 transactions of 1000",
            "20020 objects/s",
            "settled in 6.5 s",
            "leader",
            "700.0 MiB (   692)",
            "900.0 MiB (   902)",
            "500.0 MiB (   482)",
            "420.0 MiB /   80.0 MiB         419   300.0 MiB (   273)",
            "follower 2 restarted (clean exit on SIGTERM): reloaded and caught up in 3.0 s",
            "RSS 340.0 MiB (anon 300.0 MiB; 357 B/object, 315 B/object over its RSS before the burst)",
            "at most 300 bytes",
            "load average (1 min): 1.50 at the start, 2.25 at the end",
        ] {
            assert!(text.contains(part), "{text}\nlacks {part:?}");
        }
    }

    #[test]
    fn the_report_is_json_with_the_figures_named() {
        let json = serde_json::to_value(report()).expect("serializes");
        assert_eq!(json["objects"], 1_000_000);
        assert_eq!(json["nodes"][0]["leader"], true);
        assert!(json["nodes"][0]["after_bytes_per_object"].as_f64().is_some());
        assert_eq!(json["reload"]["clean_exit"], true);
        assert_eq!(json["phases"][0]["phase"], "burst");
        assert_eq!(json["rss_series"]["1"][0]["rss_bytes"], 1);
    }
}
