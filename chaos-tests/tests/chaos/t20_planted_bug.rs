//! The proof that the checker sees: heap-server started with `--unsafe-stale-reads` (reads from
//! local state, no leadership check) under the partition nemesis must be reported as not
//! linearizable, and the run must fail.

use super::support::*;

/// Long enough for several partitions, each isolating a node that keeps answering reads.
const DURATION_S: u64 = 40;

#[test]
fn planted_stale_reads_are_reported_as_not_linearizable() {
    let seed = seed().to_string();
    let duration = DURATION_S.to_string();
    let outcome = run_chaos(
        "planted-stale-reads",
        &["--nodes", "3", "--duration", &duration, "--nemesis", "partition", "--seed", &seed, "--plant", "stale-reads"],
    );
    let report = &outcome.report;
    assert_eq!(report["security"], "tls+token", "the cluster ran secured, in network namespaces: {report:#}");
    assert!(report["faults"]["partition"].as_u64().unwrap_or(0) >= 1, "no partition injected: {report:#}");
    assert_eq!(report["linearizable"], false, "the planted stale reads went unnoticed: {report:#}");
    assert!(report["anomalies"]["non-linearizable"].as_u64().unwrap_or(0) >= 1, "{report:#}");
    assert_eq!(report["clean"], false);
    assert_eq!(outcome.exit_code, Some(1), "a run with anomalies exits 1");
    let evidence = report["history_dir"].as_str().expect("the history of a failed run is kept");
    assert!(std::path::Path::new(evidence).join("history.jsonl").is_file(), "no history in {evidence}");
    // The expected failure's evidence is not worth keeping run after run.
    let _ = std::fs::remove_dir_all(evidence);
    println!("planted-bug run took {:.0} s", outcome.seconds);
}
