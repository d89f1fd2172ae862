//! Hand-made greedy-lock histories: one that keeps every rule and is counted in full, and one
//! per rule that breaks only that rule, which the check must name (and nothing else).

use super::*;
use crate::checker::FINAL_PROCESS;

const LOCK: &str = "greedy-0";

/// Section `id` of `process`'s thread `thread`: `lock` invoked at `times[0]` and returned at
/// `[1]`, `unlock` called at `[2]` and answered at `[3]` (never, when indeterminate).
fn section(id: u64, process: u64, thread: u64, times: [u64; 4], status: Status) -> Operation {
    Operation {
        op_id: id,
        process,
        key: section_key(LOCK),
        invoke_us: times[0],
        complete_us: (status != Status::Indeterminate).then_some(times[3]),
        status,
        op: Op::GreedySection {
            section: id,
            worker: process,
            thread,
            locked_us: Some(times[1]),
            unlock_us: Some(times[2]),
            local: false,
            vanished: false,
        },
    }
}

/// `section` with its `local` or `vanished` flag set.
fn flagged(mut operation: Operation, set_local: bool, set_vanished: bool) -> Operation {
    if let Op::GreedySection { local, vanished, .. } = &mut operation.op {
        *local = set_local;
        *vanished = set_vanished;
    }
    operation
}

/// The record `operation` appends having read `counter` and a log of length `length`.
fn record_read(operation: &Operation, counter: i64, length: u64) -> String {
    let Op::GreedySection { section, worker, thread, .. } = operation.op else { panic!("not a section") };
    Record { section, worker, process: operation.process, thread, counter, length }.element()
}

/// The record of `operation` committed at log position `position` (it read what came before).
fn record(operation: &Operation, position: u64) -> String {
    record_read(operation, position as i64, position)
}

fn final_read(key: String, op: Op) -> Vec<Operation> {
    let complete_us = Some(1_000_001);
    vec![Operation {
        op_id: 999,
        process: FINAL_PROCESS,
        key,
        invoke_us: 1_000_000,
        complete_us,
        status: Status::Ok,
        op,
    }]
}

/// The check with final reads of `counter` and `log`.
fn check_with(sections: &[Operation], counter: i64, log: Vec<String>) -> (Vec<Anomaly>, GreedySummary) {
    let counter_ops = final_read(counter_key(LOCK), Op::Read { value: Some(counter) });
    let log_ops = final_read(log_key(LOCK), Op::ReadList { elements: Some(log) });
    check(LOCK, sections, &counter_ops, &log_ops)
}

fn kinds(anomalies: &[Anomaly]) -> Vec<AnomalyKind> {
    anomalies.iter().map(|a| a.kind).collect()
}

/// Two sessions, sequential sections: each one's record at its position.
fn two_sequential(first: Status, second: Status) -> Vec<Operation> {
    vec![section(1, 1, 1, [0, 1, 2, 3], first), section(2, 2, 1, [4, 5, 6, 7], second)]
}

#[test]
fn records_round_trip_and_nothing_else_parses() {
    let record = Record { section: 7, worker: 2, process: 9, thread: 3, counter: 4, length: 4 };
    assert_eq!(record.element(), "7:w2:p9:t3:c4:n4");
    assert_eq!(Record::parse(&record.element()), Some(record));
    for bad in ["", "7:w2:p9:t3:c4", "7:w2:p9:t3:c4:n4:x", "7:p2:w9:t3:c4:n4", "x:w2:p9:t3:c4:n4"] {
        assert_eq!(Record::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn a_history_that_keeps_every_rule_is_clean_and_counted() {
    let sections = vec![
        flagged(section(1, 1, 1, [0, 1, 4, 5], Status::Ok), true, false),
        // The same session's other thread, locally after the first.
        section(2, 1, 2, [2, 5, 7, 8], Status::Ok),
        // Another session: a handoff.
        section(3, 2, 1, [3, 9, 11, 12], Status::Ok),
        // Refused by the fence, overlapping others: claims nothing.
        section(4, 2, 2, [10, 10, 13, 14], Status::Fail),
        // Unknown outcomes: one committed, one not.
        section(5, 3, 1, [13, 15, 16, 17], Status::Indeterminate),
        section(6, 3, 2, [18, 19, 20, 21], Status::Indeterminate),
        flagged(section(7, 4, 1, [22, 23, 24, 25], Status::Fail), false, true),
        // Another session takes the lock over once the vanished holder's lease ended.
        section(8, 1, 1, [26, 27, 28, 29], Status::Ok),
    ];
    let committed = [0, 1, 2, 4, 7].iter().enumerate();
    let log = committed.map(|(position, index)| record(&sections[*index], position as u64)).collect();
    let (anomalies, summary) = check_with(&sections, 5, log);
    assert_eq!(anomalies, vec![]);
    let expected = GreedySummary {
        locks: 1,
        sections_ok: 4,
        sections_failed: 2,
        sections_indeterminate: 2,
        committed: 5,
        local_acquisitions: 1,
        session_handoffs: 3,
        vanished: 1,
        taken_over_after_vanish: 1,
    };
    assert_eq!(summary, expected);
}

#[test]
fn an_ok_section_missing_from_the_log_is_lost() {
    let sections = two_sequential(Status::Ok, Status::Ok);
    let (anomalies, _) = check_with(&sections, 1, vec![record(&sections[0], 0)]);
    assert_eq!(kinds(&anomalies), [AnomalyKind::LostWrite]);
    assert!(anomalies[0].detail.contains("section 2"), "{anomalies:?}");
}

#[test]
fn a_refused_or_vanished_section_in_the_log_is_a_visible_failure() {
    let sections = vec![
        section(1, 1, 1, [0, 1, 2, 3], Status::Fail),
        flagged(section(2, 2, 1, [4, 5, 6, 7], Status::Fail), false, true),
    ];
    let (anomalies, _) = check_with(&sections, 2, vec![record(&sections[0], 0), record(&sections[1], 1)]);
    assert_eq!(kinds(&anomalies), [AnomalyKind::FailedWriteVisible]);
    assert_eq!(anomalies[0].count, 2);
}

#[test]
fn a_record_twice_is_duplicated_and_one_of_no_section_a_phantom() {
    let sections = two_sequential(Status::Ok, Status::Ok);
    // Section 1's commit applied twice: its record twice, the counter set to 1 twice.
    let twice = vec![record(&sections[0], 0), record(&sections[0], 0), record_read(&sections[1], 1, 2)];
    let (anomalies, _) = check_with(&sections, 2, twice);
    assert_eq!(kinds(&anomalies), [AnomalyKind::DuplicatedWrite, AnomalyKind::TornTransaction]);
    // A record of a section that never ran, one that names another thread, and garbage.
    let mut other_thread = sections[1].clone();
    if let Op::GreedySection { thread, .. } = &mut other_thread.op {
        *thread = 9;
    }
    let log = vec![
        record(&sections[0], 0),
        record(&sections[1], 1),
        "99:w9:p9:t9:c2:n2".to_string(),
        record(&other_thread, 3),
        "garbage".to_string(),
    ];
    let (anomalies, _) = check_with(&sections, 5, log);
    assert_eq!(kinds(&anomalies), [AnomalyKind::PhantomWrite]);
    assert_eq!(anomalies[0].count, 3);
}

#[test]
fn a_section_that_did_not_see_an_earlier_commit_is_a_lost_update() {
    // Both read counter 0: the second holder overwrote the first's increment, so the counter
    // also ends below the log's length.
    let sections = two_sequential(Status::Ok, Status::Ok);
    let log = vec![record_read(&sections[0], 0, 0), record_read(&sections[1], 0, 0)];
    let (anomalies, _) = check_with(&sections, 1, log);
    assert_eq!(kinds(&anomalies), [AnomalyKind::LostUpdate, AnomalyKind::TornTransaction]);
    assert!(anomalies[0].detail.contains("section 2"), "{anomalies:?}");
}

#[test]
fn only_the_section_that_missed_a_commit_is_a_lost_update() {
    // Section 2 read a stale counter (0); section 3 read what section 2 wrote.
    let sections = vec![
        section(1, 1, 1, [0, 1, 2, 3], Status::Ok),
        section(2, 2, 1, [4, 5, 6, 7], Status::Ok),
        section(3, 1, 1, [8, 9, 10, 11], Status::Ok),
    ];
    let log = vec![record_read(&sections[0], 0, 0), record_read(&sections[1], 0, 1), record_read(&sections[2], 1, 2)];
    let (anomalies, _) = check_with(&sections, 2, log);
    assert_eq!(kinds(&anomalies), [AnomalyKind::LostUpdate, AnomalyKind::TornTransaction]);
    assert_eq!(anomalies[0].count, 1, "{anomalies:?}");
    assert!(anomalies[0].detail.contains("section 2"), "{anomalies:?}");
}

#[test]
fn a_counter_that_disagrees_with_the_log_is_torn() {
    let sections = two_sequential(Status::Ok, Status::Ok);
    let (anomalies, _) = check_with(&sections, 3, vec![record(&sections[0], 0), record(&sections[1], 1)]);
    assert_eq!(kinds(&anomalies), [AnomalyKind::TornTransaction]);
}

#[test]
fn overlapping_ok_sections_are_a_violation_and_others_claim_nothing() {
    // Section 2 held the lock from 3 us while section 1 held it until 6 us.
    let sections = vec![section(1, 1, 1, [0, 1, 6, 7], Status::Ok), section(2, 2, 1, [2, 3, 8, 9], Status::Ok)];
    let log = vec![record(&sections[0], 0), record(&sections[1], 1)];
    let (anomalies, _) = check_with(&sections, 2, log.clone());
    assert_eq!(kinds(&anomalies), [AnomalyKind::LockOverlap]);
    assert!(anomalies[0].detail.contains("two sessions"), "{anomalies:?}");
    // Two threads of one session.
    let same_session = vec![section(1, 1, 1, [0, 1, 6, 7], Status::Ok), section(2, 1, 2, [2, 3, 8, 9], Status::Ok)];
    let log_same = vec![record(&same_session[0], 0), record(&same_session[1], 1)];
    let (anomalies, _) = check_with(&same_session, 2, log_same);
    assert_eq!(kinds(&anomalies), [AnomalyKind::LockOverlap]);
    assert!(anomalies[0].detail.contains("one session"), "{anomalies:?}");
    // The same intervals when the second commit was refused or its outcome is unknown: no
    // confirmed tenure, so no claim.
    for status in [Status::Fail, Status::Indeterminate] {
        let unconfirmed = vec![section(1, 1, 1, [0, 1, 6, 7], Status::Ok), section(2, 2, 1, [2, 3, 8, 9], status)];
        let (anomalies, _) = check_with(&unconfirmed, 1, vec![record(&unconfirmed[0], 0)]);
        assert_eq!(anomalies, vec![], "{status:?}");
    }
}

#[test]
fn a_commit_order_real_time_rules_out_is_a_violation() {
    // Section 1's unlock returned at 3 us; section 2 invoked lock at 4 us, yet committed first.
    let sections = two_sequential(Status::Ok, Status::Ok);
    let log = vec![record(&sections[1], 0), record(&sections[0], 1)];
    let (anomalies, _) = check_with(&sections, 2, log);
    assert_eq!(kinds(&anomalies), [AnomalyKind::SectionOrder]);
    assert!(!anomalies[0].detail.contains("same thread"), "{anomalies:?}");
    // (d) One thread's sections committed against its own order.
    let one_thread = vec![section(1, 1, 1, [0, 1, 2, 3], Status::Ok), section(2, 1, 1, [4, 5, 6, 7], Status::Ok)];
    let log = vec![record(&one_thread[1], 0), record(&one_thread[0], 1)];
    let (anomalies, _) = check_with(&one_thread, 2, log);
    assert_eq!(kinds(&anomalies), [AnomalyKind::SectionOrder]);
    assert!(anomalies[0].detail.contains("same thread"), "{anomalies:?}");
    // Sections whose calls overlap in time (the second invoked lock before the first's unlock
    // answered) may commit in either order as far as this rule goes.
    let concurrent = vec![section(1, 1, 1, [0, 1, 2, 9], Status::Ok), section(2, 2, 1, [4, 5, 6, 7], Status::Ok)];
    let log = vec![record(&concurrent[1], 0), record(&concurrent[0], 1)];
    let (anomalies, _) = check_with(&concurrent, 2, log);
    assert_eq!(anomalies, vec![]);
}

#[test]
fn missing_final_reads_are_reported() {
    let sections = two_sequential(Status::Ok, Status::Ok);
    let (anomalies, summary) = check(LOCK, &sections, &[], &[]);
    assert_eq!(kinds(&anomalies), [AnomalyKind::MissingFinalRead]);
    assert_eq!(anomalies[0].key, log_key(LOCK));
    assert_eq!((summary.locks, summary.sections_ok), (0, 2));
    let log_ops = final_read(log_key(LOCK), Op::ReadList { elements: Some(vec![]) });
    let (anomalies, _) = check(LOCK, &[], &[], &log_ops);
    assert_eq!(kinds(&anomalies), [AnomalyKind::MissingFinalRead]);
}
