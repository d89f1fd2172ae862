//! The greedy-locks profile: three nodes under leader SIGKILLs with only the greedy-locks
//! workload (three clients of 2-3 threads each doing critical sections on three greedy locks;
//! clients close, or vanish inside a section: dropped without unlock or close, so their session
//! keeps its locks until its lease ends). The report must be clean, and so that it cannot pass
//! by checking nothing, it must show committed sections checked, sections whose lock was taken
//! locally (the session kept it), handoffs between sessions (recalls), a vanished holder, and
//! sections of other sessions on a lock after a holder of it vanished (its lease ended).

use super::support::*;

/// Seconds of faults: a dozen leader kills and a few hundred sections; the whole run (start,
/// faults, closing sections that wait out a vanished holder's lease, final reads) under a minute.
const DURATION_S: u64 = 20;
/// The workload's locks (`objects::GREEDY_LOCKS`).
const LOCKS: u64 = 3;

#[test]
fn greedy_locks_exclude_and_lose_no_section_under_leader_kills_and_vanished_holders() {
    let seed = seed().to_string();
    let duration = DURATION_S.to_string();
    let outcome = run_chaos(
        "greedy-locks",
        &[
            "--nodes",
            "3",
            "--duration",
            &duration,
            "--nemesis",
            "kill-leader",
            "--workload",
            "greedy-locks",
            "--seed",
            &seed,
        ],
    );
    let report = &outcome.report;
    assert_eq!(report["workloads"], serde_json::json!(["greedy-locks"]), "{report:#}");
    assert!(figure(report, "faults", "kill-leader") >= 1, "no leader was killed: {report:#}");
    assert_eq!(figure(report, "greedy", "locks"), LOCKS, "every lock's log was checked: {report:#}");
    for name in
        ["sections_ok", "committed", "local_acquisitions", "session_handoffs", "vanished", "taken_over_after_vanish"]
    {
        assert!(figure(report, "greedy", name) > 0, "greedy.{name} is 0: the run checked too little: {report:#}");
    }
    assert_eq!(report["lock_violations"], 0, "{report:#}");
    assert_eq!(report["lost_acknowledged_writes"], 0, "{report:#}");
    assert_eq!(report["clean"], true, "anomalies: {:#}", report["anomaly_details"]);
    assert_eq!(outcome.exit_code, Some(0), "a clean run exits 0");
    println!(
        "greedy-locks run: {} ok sections ({} taken locally), {} failed, {} indeterminate, {} committed, {} handoffs \
         between sessions, {} vanished holders, {} sections after one, {} leader kills, {:.0} s",
        figure(report, "greedy", "sections_ok"),
        figure(report, "greedy", "local_acquisitions"),
        figure(report, "greedy", "sections_failed"),
        figure(report, "greedy", "sections_indeterminate"),
        figure(report, "greedy", "committed"),
        figure(report, "greedy", "session_handoffs"),
        figure(report, "greedy", "vanished"),
        figure(report, "greedy", "taken_over_after_vanish"),
        figure(report, "faults", "kill-leader"),
        outcome.seconds
    );
}
