//! The greedy-locks check (issue 12). Each greedy lock guards a counter and an append-only log; a
//! critical section reads both, sets the counter to what it read + 1, appends its `Record`, and
//! its `unlock` commits the two in one transaction fenced with the session's grant token. From
//! the history (each section's outcome and times) and the final reads of counter and log:
//!
//! - (a) no lost section: a section whose unlock returned Ok is in the log exactly once
//!   (`LostWrite`, `DuplicatedWrite`); the log holds only records of sections that ran
//!   (`PhantomWrite`).
//! - (b) nothing refused is visible: a section whose unlock was refused (a stale fence) or whose
//!   holder vanished inside it is not in the log (`FailedWriteVisible`).
//! - every committed section saw exactly those committed before it: each record read the
//!   counter its predecessor in the log wrote (0 for the first) and a log as long as its
//!   position (`LostUpdate`, only the sections that missed one, not those after them), and the
//!   counter ends at the log's length (`TornTransaction`). Two holders at once, or a holder
//!   reading state older than its grant, break this.
//! - (c) mutual exclusion: the intervals of Ok sections from `lock` returning to `unlock` being
//!   called never overlap (`LockOverlap`). Across sessions, because an Ok unlock's commit passed
//!   the fence, so the session's grant was still current when it applied and covered the whole
//!   interval, and the cluster grants a lock to one session at a time; within a session, because
//!   the client's lock table admits one local writer. Only Ok sections are claimed: a section
//!   without a confirmed commit shows nothing about how long its session held the lock.
//! - (c, d) committed order follows real time: a section whose unlock returned Ok before another
//!   section's `lock` was invoked comes first in the log (`SectionOrder`); for the sections of one
//!   thread, which run one after another, that is the thread's own order.
//!
//! Fencing tokens are internal to the client (the history has none), so "tokens only increase"
//! is not checked from grants here: the fence enforces it (a commit under an older grant than the
//! lock's current one is refused), and the rules above are what a failed fence would break.
//! Indeterminate sections may be in the log or not, at most once. The commit level is the
//! synchronous one (the commit before `unlock` returns); no other level exists yet.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::checker::final_read;
use crate::checker::Anomaly;
use crate::checker::AnomalyKind;
use crate::checker::ANOMALY_DETAILS_MAX;
use crate::history::Op;
use crate::history::Operation;
use crate::history::Status;

/// The key models: sections (`greedy:<lock>`), the final reads of counter and log.
pub const SECTION_MODEL: &str = "greedy";
pub const COUNTER_MODEL: &str = "greedycounter";
pub const LOG_MODEL: &str = "greedylog";

pub fn section_key(lock: &str) -> String {
    format!("{SECTION_MODEL}:{lock}")
}

pub fn counter_key(lock: &str) -> String {
    format!("{COUNTER_MODEL}:{lock}")
}

pub fn log_key(lock: &str) -> String {
    format!("{LOG_MODEL}:{lock}")
}

/// What a section appends to its lock's log: who it was and what it read, as
/// `<section>:w<worker>:p<process>:t<thread>:c<counter read>:n<log length read>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub section: u64,
    pub worker: u64,
    /// The history process of the section's session.
    pub process: u64,
    pub thread: u64,
    pub counter: i64,
    pub length: u64,
}

impl Record {
    pub fn element(&self) -> String {
        let Record { section, worker, process, thread, counter, length } = self;
        format!("{section}:w{worker}:p{process}:t{thread}:c{counter}:n{length}")
    }

    pub fn parse(element: &str) -> Option<Record> {
        let mut parts = element.split(':');
        let mut field = |prefix: &str| parts.next()?.strip_prefix(prefix).map(str::to_string);
        let record = Record {
            section: field("")?.parse().ok()?,
            worker: field("w")?.parse().ok()?,
            process: field("p")?.parse().ok()?,
            thread: field("t")?.parse().ok()?,
            counter: field("c")?.parse().ok()?,
            length: field("n")?.parse().ok()?,
        };
        parts.next().is_none().then_some(record)
    }
}

/// What the greedy-locks check saw, so a run cannot pass by checking nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GreedySummary {
    /// Locks whose final log was checked.
    pub locks: u64,
    pub sections_ok: u64,
    pub sections_failed: u64,
    pub sections_indeterminate: u64,
    /// Log records checked: Ok sections and indeterminate ones that committed.
    pub committed: u64,
    /// Ok sections whose `lock` sent no session request at all: the session held the lock.
    pub local_acquisitions: u64,
    /// Adjacent log records of different sessions: the lock went from one session to another
    /// (a recall, a close, or the lease of a vanished holder running out).
    pub session_handoffs: u64,
    /// Sections whose holder vanished (its client dropped) inside them.
    pub vanished: u64,
    /// Ok sections of other sessions that took a lock after a holder of it vanished inside a
    /// section: the vanished session lost the lock (at its lease end) and the others went on.
    pub taken_over_after_vanish: u64,
}

impl GreedySummary {
    pub fn add(&mut self, other: &GreedySummary) {
        self.locks += other.locks;
        self.sections_ok += other.sections_ok;
        self.sections_failed += other.sections_failed;
        self.sections_indeterminate += other.sections_indeterminate;
        self.committed += other.committed;
        self.local_acquisitions += other.local_acquisitions;
        self.session_handoffs += other.session_handoffs;
        self.vanished += other.vanished;
        self.taken_over_after_vanish += other.taken_over_after_vanish;
    }
}

/// One section as the history shows it.
#[derive(Debug, Clone, Copy)]
struct Section<'a> {
    operation: &'a Operation,
    section: u64,
    worker: u64,
    thread: u64,
    /// When `lock` returned, if it did.
    locked_us: Option<u64>,
    /// [lock returned, unlock called], when both were recorded.
    interval_us: Option<(u64, u64)>,
    local: bool,
    vanished: bool,
}

impl Section<'_> {
    fn name(&self) -> String {
        format!(
            "section {} (worker {} process {} thread {})",
            self.section, self.worker, self.operation.process, self.thread
        )
    }

    fn same_thread(&self, other: &Section) -> bool {
        self.operation.process == other.operation.process && self.thread == other.thread
    }
}

/// The sections by id; ids recorded twice are returned apart (a recorder bug).
fn sections(ops: &[Operation]) -> (BTreeMap<u64, Section<'_>>, Vec<u64>) {
    let mut by_id = BTreeMap::new();
    let mut twice = Vec::new();
    for operation in ops {
        let Op::GreedySection { section, worker, thread, locked_us, unlock_us, local, vanished } = operation.op else {
            continue;
        };
        let interval_us = locked_us.zip(unlock_us);
        let entry = Section { operation, section, worker, thread, locked_us, interval_us, local, vanished };
        if by_id.insert(section, entry).is_some() {
            twice.push(section);
        }
    }
    (by_id, twice)
}

/// Findings of one kind, gathered before they become one anomaly.
#[derive(Default)]
struct Problems(BTreeMap<AnomalyKind, Vec<String>>);

impl Problems {
    fn push(&mut self, kind: AnomalyKind, detail: String) {
        self.0.entry(kind).or_default().push(detail);
    }

    fn into_anomalies(self, key: &str) -> Vec<Anomaly> {
        self.0
            .into_iter()
            .map(|(kind, details)| {
                let shown = details.iter().take(ANOMALY_DETAILS_MAX).cloned().collect::<Vec<_>>().join("; ");
                Anomaly::new(kind, key, details.len() as u64, shown)
            })
            .collect()
    }
}

/// Checks lock `lock`'s sections against the final reads of its counter and log.
pub fn check(
    lock: &str,
    section_ops: &[Operation],
    counter_ops: &[Operation],
    log_ops: &[Operation],
) -> (Vec<Anomaly>, GreedySummary) {
    let key = section_key(lock);
    let mut problems = Problems::default();
    let (by_id, twice) = sections(section_ops);
    for section in twice {
        problems.push(AnomalyKind::MalformedHistory, format!("section {section} is recorded twice"));
    }
    let mut summary = counts(&by_id);
    let Some(Op::ReadList { elements: Some(elements) }) = final_read(log_ops).map(|o| &o.op) else {
        let mut anomalies = problems.into_anomalies(&key);
        anomalies.push(Anomaly::new(
            AnomalyKind::MissingFinalRead,
            &log_key(lock),
            1,
            "the log was never read at the end",
        ));
        return (anomalies, summary);
    };
    summary.locks = 1;
    let committed = committed_records(elements, &by_id, &mut problems);
    summary.committed = committed.len() as u64;
    summary.session_handoffs =
        committed.windows(2).filter(|pair| pair[0].1.operation.process != pair[1].1.operation.process).count() as u64;
    lost_sections(&by_id, &committed, &mut problems);
    match final_read(counter_ops).map(|o| &o.op) {
        Some(Op::Read { value: Some(counter) }) if *counter != elements.len() as i64 => problems.push(
            AnomalyKind::TornTransaction,
            format!(
                "the counter ends at {counter} but the log holds {} records; each commit changes both",
                elements.len()
            ),
        ),
        Some(Op::Read { value: Some(_) }) => {}
        _ => problems.push(AnomalyKind::MissingFinalRead, "the counter was never read at the end".into()),
    }
    overlapping_sections(&by_id, &mut problems);
    out_of_real_time_order(&committed, &mut problems);
    (problems.into_anomalies(&key), summary)
}

fn counts(by_id: &BTreeMap<u64, Section>) -> GreedySummary {
    let mut summary = GreedySummary::default();
    for section in by_id.values() {
        match section.operation.status {
            Status::Ok => summary.sections_ok += 1,
            Status::Fail => summary.sections_failed += 1,
            Status::Indeterminate => summary.sections_indeterminate += 1,
        }
        summary.local_acquisitions += u64::from(section.operation.status == Status::Ok && section.local);
        summary.vanished += u64::from(section.vanished);
    }
    let vanished: Vec<(u64, u64)> =
        by_id.values().filter(|s| s.vanished).filter_map(|s| s.locked_us.map(|at| (s.operation.process, at))).collect();
    summary.taken_over_after_vanish = by_id
        .values()
        .filter(|s| s.operation.status == Status::Ok)
        .filter(|s| {
            let locked_us = s.locked_us.unwrap_or(0);
            vanished.iter().any(|(process, at)| *process != s.operation.process && locked_us > *at)
        })
        .count() as u64;
    summary
}

/// The log's records in order with their sections (position, section); every record that is
/// malformed, names no section that ran, was refused, repeats, or read other than its position
/// is a problem.
fn committed_records<'a>(
    elements: &[String],
    by_id: &BTreeMap<u64, Section<'a>>,
    problems: &mut Problems,
) -> Vec<(usize, Section<'a>)> {
    let mut committed = Vec::new();
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    // What the record before wrote to the counter.
    let mut previous_counter: Option<i64> = None;
    for (position, element) in elements.iter().enumerate() {
        let Some(record) = Record::parse(element) else {
            problems
                .push(AnomalyKind::PhantomWrite, format!("log entry {position} ({element:?}) is not a section record"));
            continue;
        };
        let ran_as_recorded = by_id.get(&record.section).filter(|s| {
            s.operation.process == record.process && s.worker == record.worker && s.thread == record.thread
        });
        let Some(section) = ran_as_recorded else {
            problems.push(
                AnomalyKind::PhantomWrite,
                format!("log entry {position} ({element}) matches no section that ran"),
            );
            continue;
        };
        if let Some(first) = seen.insert(record.section, position) {
            problems.push(
                AnomalyKind::DuplicatedWrite,
                format!("{} is in the log at {first} and {position}", section.name()),
            );
            continue;
        }
        if section.operation.status == Status::Fail {
            let why = if section.vanished { "its holder vanished inside it" } else { "its unlock was refused" };
            problems.push(
                AnomalyKind::FailedWriteVisible,
                format!("{} is in the log at {position}, but {why}", section.name()),
            );
        }
        let expected_counter = previous_counter.map_or(0, |counter| counter + 1);
        previous_counter = Some(record.counter);
        if record.counter != expected_counter || record.length != position as u64 {
            problems.push(
                AnomalyKind::LostUpdate,
                format!(
                    "{} at log position {position} read counter {} and log length {}, not {expected_counter} and \
                     {position}: it did not see exactly the sections committed before it",
                    section.name(),
                    record.counter,
                    record.length
                ),
            );
        }
        committed.push((position, *section));
    }
    committed
}

/// (a) Every Ok section is in the log.
fn lost_sections(by_id: &BTreeMap<u64, Section>, committed: &[(usize, Section)], problems: &mut Problems) {
    let present: std::collections::BTreeSet<u64> = committed.iter().map(|(_, s)| s.section).collect();
    for section in by_id.values() {
        if section.operation.status == Status::Ok && !present.contains(&section.section) {
            problems.push(
                AnomalyKind::LostWrite,
                format!("{}: its unlock returned Ok, but it is not in the log", section.name()),
            );
        }
    }
}

/// (c) Ok sections' [lock returned, unlock called] intervals, by start: each begins after every
/// earlier one ended.
fn overlapping_sections(by_id: &BTreeMap<u64, Section>, problems: &mut Problems) {
    let mut intervals: Vec<(u64, u64, &Section)> = by_id
        .values()
        .filter(|s| s.operation.status == Status::Ok)
        .filter_map(|s| s.interval_us.map(|(start_us, end_us)| (start_us, end_us, s)))
        .collect();
    intervals.sort_by_key(|(start_us, end_us, s)| (*start_us, *end_us, s.section));
    let mut latest: Option<(u64, &Section)> = None;
    for (start_us, end_us, section) in intervals {
        if let Some((other_end_us, other)) = latest {
            if start_us < other_end_us {
                let whose = if other.operation.process == section.operation.process {
                    "two threads of one session"
                } else {
                    "two sessions"
                };
                problems.push(
                    AnomalyKind::LockOverlap,
                    format!(
                        "{} held the lock from {start_us} us while {} held it until {other_end_us} us ({whose})",
                        section.name(),
                        other.name()
                    ),
                );
            }
        }
        if latest.is_none_or(|(other_end_us, _)| end_us > other_end_us) {
            latest = Some((end_us, section));
        }
    }
}

/// (c, d) Walking the log from its end with the earliest unlock answer among later records: a
/// record whose section invoked `lock` after that answer is out of real-time order.
fn out_of_real_time_order(committed: &[(usize, Section)], problems: &mut Problems) {
    let mut earliest_later: Option<(u64, usize, &Section)> = None;
    for (position, section) in committed.iter().rev() {
        if let Some((answered_us, later_position, later)) = earliest_later {
            if answered_us < section.operation.invoke_us {
                let same_thread = if later.same_thread(section) { " (the same thread's earlier section)" } else { "" };
                problems.push(
                    AnomalyKind::SectionOrder,
                    format!(
                        "{} (log position {later_position}) returned from unlock at {answered_us} us, before {} (log \
                         position {position}) invoked lock at {} us, yet committed after it{same_thread}",
                        later.name(),
                        section.name(),
                        section.operation.invoke_us
                    ),
                );
            }
        }
        if section.operation.status == Status::Ok {
            if let Some(answered_us) = section.operation.complete_us {
                if earliest_later.is_none_or(|(earliest_us, _, _)| answered_us < earliest_us) {
                    earliest_later = Some((answered_us, *position, section));
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "greedy_test.rs"]
mod tests;
