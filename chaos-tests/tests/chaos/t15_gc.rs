//! The gc profile: three nodes collecting every second (`--gc-cycle-interval-ms 1000`) under
//! leader SIGKILLs and partitions, with only the gc workload running (subgraphs built, held,
//! detached, re-attached, released, sessions closed); the gc checker must find nothing rooted or
//! held missing and no dangling reference. So that it cannot pass by checking nothing, the
//! report must show live objects checked (some kept only by a hold) and objects the history saw
//! collected.

use super::support::*;

/// Seconds of faults: a few dozen rounds per worker and a dozen or so faults, and the whole run
/// (start, faults, final reads) about a minute.
const DURATION_S: u64 = 45;
/// The collector's cycle interval: the server's minimum, so detached cycles go within a round.
const GC_CYCLE_INTERVAL_MS: &str = "1000";

#[test]
fn nothing_rooted_or_held_is_collected_under_leader_kills_and_partitions() {
    let seed = seed().to_string();
    let duration = DURATION_S.to_string();
    let outcome = run_chaos(
        "gc",
        &[
            "--nodes",
            "3",
            "--duration",
            &duration,
            "--nemesis",
            "kill-leader,partition",
            "--workload",
            "gc",
            "--gc-cycle-interval-ms",
            GC_CYCLE_INTERVAL_MS,
            "--seed",
            &seed,
        ],
    );
    let report = &outcome.report;
    assert_eq!(report["workloads"], serde_json::json!(["gc"]), "{report:#}");
    for nemesis in ["kill-leader", "partition"] {
        assert!(figure(report, "faults", nemesis) >= 1, "nemesis {nemesis} never injected: {report:#}");
    }
    for name in ["builds", "reads", "holds", "reattached", "live_checked", "held_checked", "freed_observed"] {
        assert!(figure(report, "gc", name) > 0, "gc.{name} is 0: the run checked too little: {report:#}");
    }
    // The final leader's own count starts at its last restart, so it may be 0 after a late
    // kill; `freed_observed` above (objects the history saw go) is the evidence that counts.
    assert_eq!(report["clean"], true, "anomalies: {:#}", report["anomaly_details"]);
    assert_eq!(outcome.exit_code, Some(0), "a clean run exits 0");
    println!(
        "gc run: {} ok operations, {} builds, {} live checks ({} held only), {} seen collected during the run \
         ({} more at the end), {} freed by the leader, {} faults, {:.0} s",
        figure(report, "ops", "ok"),
        figure(report, "gc", "builds"),
        figure(report, "gc", "live_checked"),
        figure(report, "gc", "held_checked"),
        figure(report, "gc", "freed_observed"),
        figure(report, "gc", "freed_at_end"),
        figure(report, "gc_status", "freed_total"),
        report["faults"].as_object().map_or(0, |f| f.values().filter_map(|v| v.as_u64()).sum::<u64>()),
        outcome.seconds
    );
}
