//! The CI profile: three nodes under every nemesis for a few minutes, a fault every ~1.7 s (at
//! least 100 in all), every workload running, on a secured cluster (TLS and tokens, the default;
//! the partition nemesis puts the nodes in network namespaces at non-loopback IPs, so their
//! certificates are issued for those); the report must be clean. The membership nemesis takes its
//! share of the schedule: new nodes join (in namespaces of their own), members and leaders are
//! removed and replaced during the other faults, and the checkers still find every acknowledged
//! write and linearizable registers across those changes.

use super::support::*;

/// Seconds of faults: enough for 100+ faults at the schedule's pacing, short enough that the
/// whole run stays under 5 minutes of wall time.
const DURATION_S: u64 = 210;
const FAULTS_MIN: u64 = 100;
/// Membership changes that must actually complete (the seed plans about 19; some may be skipped
/// with a reason when the cluster cannot make them in time, which is not an anomaly).
const MEMBERSHIP_CHANGES_MIN: u64 = 8;

#[test]
fn every_nemesis_for_minutes_leaves_a_clean_report() {
    let seed = seed().to_string();
    let duration = DURATION_S.to_string();
    let outcome =
        run_chaos("ci-profile", &["--nodes", "3", "--duration", &duration, "--nemesis", "all", "--seed", &seed]);
    let report = &outcome.report;
    assert_eq!(report["security"], "tls+token", "the cluster ran secured: {report:#}");
    let faults = &report["faults"];
    for nemesis in ["kill-leader", "kill-random", "pause", "partition", "restart-all", "membership"] {
        assert!(faults[nemesis].as_u64().unwrap_or(0) >= 1, "nemesis {nemesis} never injected: {faults}");
    }
    let changes = faults["membership"].as_u64().unwrap_or(0);
    assert!(changes >= MEMBERSHIP_CHANGES_MIN, "only {changes} membership changes done: {report:#}");
    let total: u64 = faults.as_object().expect("faults is an object").values().filter_map(|v| v.as_u64()).sum();
    assert!(total >= FAULTS_MIN, "only {total} faults injected: {faults}");
    assert!(report["ops"]["ok"].as_u64().unwrap_or(0) > 0, "no operation succeeded");
    assert_eq!(report["linearizable"], true, "{report:#}");
    assert_eq!(report["lost_acknowledged_writes"], 0, "{report:#}");
    assert_eq!(report["duplicated_writes"], 0, "{report:#}");
    assert_eq!(report["lock_violations"], 0, "{report:#}");
    assert_eq!(report["clean"], true, "anomalies: {:#}", report["anomaly_details"]);
    assert_eq!(outcome.exit_code, Some(0), "a clean run exits 0");
}
