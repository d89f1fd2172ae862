//! `History`: every client operation of a run as invoke / ok / fail / info (indeterminate) events
//! with monotonic timestamps, the process that ran it, the key it touched and its value; the
//! checkers read nothing else. Keys are `model:name`: the model (`register`, `counter`, `list`,
//! `lock`, `gc`, `greedy`, ...) tells the checker which rules apply. Saved as JSON lines, one event per line.

use std::io::BufRead;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Instant;

use serde::Deserialize;
use serde::Serialize;

use crate::history_gc::GcEdge;
use crate::history_gc::GcSeen;

/// Events one history holds (a one-hour run at full speed stays well below). When full, the
/// workers stop issuing operations and the report says so.
pub const HISTORY_EVENTS_MAX: usize = 20_000_000;
/// Longest history file line read back (an event with a final list read of many elements).
const HISTORY_LINE_BYTES_MAX: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("event {index}: operation {op_id} completes but was never invoked")]
    CompletedWithoutInvoke { index: u64, op_id: u64 },
    #[error("event {index}: operation {op_id} completes twice")]
    CompletedTwice { index: u64, op_id: u64 },
    #[error("event {index}: operation {op_id} is invoked twice")]
    InvokedTwice { index: u64, op_id: u64 },
    #[error("event {index}: operation {op_id} completes before it was invoked")]
    CompletedBeforeInvoke { index: u64, op_id: u64 },
    #[error("cannot write the history to {path}: {error}")]
    Write { path: String, error: std::io::Error },
    #[error("cannot read the history from {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path} line {line}: not a history event: {error}")]
    Parse { path: String, line: usize, error: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Invoke,
    /// Completed and took effect (with its result).
    Ok,
    /// Completed and definitely did not take effect.
    Fail,
    /// Unknown: timed out or failed ambiguously; it may take effect at any later time.
    Info,
}

/// What an operation does, with its value: the argument at invoke, the result at `ok`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "kebab-case")]
pub enum Op {
    /// A linearizable read of a register or counter (`value` is the result).
    Read {
        value: Option<i64>,
    },
    Write {
        value: i64,
    },
    /// Set `new` if the register holds `expected` (an object-version precondition).
    Cas {
        expected: i64,
        new: i64,
    },
    Increment,
    /// A write lock grant (`token` is the fencing token of the grant).
    Acquire {
        token: Option<u64>,
    },
    Release {
        token: u64,
    },
    /// A unique element pushed onto a list.
    Append {
        element: String,
    },
    /// A linearizable read of a whole list.
    ReadList {
        elements: Option<Vec<String>>,
    },
    /// gc: one transaction creating `linked` objects (root `root` names handle 0; `edges` link
    /// them) and `unlinked` lone objects (handles `linked..`) the session holds by creation;
    /// `created` (the ids by handle) at `ok`.
    GcBuild {
        root: String,
        linked: u32,
        unlinked: u32,
        edges: Vec<GcEdge>,
        created: Option<Vec<u64>>,
    },
    /// gc: a linearizable read of `roots` and `ids` and what they reach within `depth`
    /// references; `seen` at `ok`.
    GcRead {
        roots: Vec<String>,
        ids: Vec<u64>,
        depth: u32,
        seen: Option<GcSeen>,
    },
    /// gc: the session holds `ids`; `missing` (the ids the cluster says do not exist) at `ok`.
    GcHold {
        ids: Vec<u64>,
        missing: Option<Vec<u64>>,
    },
    /// gc: the session's holds of `ids` end.
    GcRelease {
        ids: Vec<u64>,
    },
    /// gc: root `root` is removed.
    GcUnbind {
        root: String,
    },
    /// gc: field `field` of object `from` is set to null, cutting that reference.
    GcCut {
        from: u64,
        field: String,
        /// Refused because `from` does not exist (set on `fail`).
        unknown_object: bool,
    },
    /// gc: root `root` is bound to the existing object `id` (re-attaching it).
    GcBind {
        root: String,
        id: u64,
        /// Refused because `id` does not exist (set on `fail`).
        unknown_object: bool,
    },
    /// gc: the session is closed (its holds end).
    GcClose,
    /// greedy-locks: one critical section under the greedy lock the key names, by local thread
    /// `thread` of worker `worker`'s session (the event's process): lock, read the lock's counter
    /// and log, set the counter to what it read + 1 and append the section's record (`greedy.rs`
    /// in `checker/`), unlock, which commits both. Filled in at completion: `locked_us` when
    /// `lock` returned and `unlock_us` when `unlock` was called (history time), `local` when
    /// taking the lock sent no session request at all, `vanished` when the holder was dropped
    /// inside the section instead of unlocking.
    GreedySection {
        section: u64,
        worker: u64,
        thread: u64,
        #[serde(default)]
        locked_us: Option<u64>,
        #[serde(default)]
        unlock_us: Option<u64>,
        #[serde(default)]
        local: bool,
        #[serde(default)]
        vanished: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the history.
    pub index: u64,
    pub op_id: u64,
    /// Microseconds since the history started (monotonic clock).
    pub time_us: u64,
    pub process: u64,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub key: String,
    pub op: Op,
    /// Why an operation failed or is indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An invoked operation still to complete; completing consumes it, so no operation completes twice.
#[derive(Debug)]
#[must_use = "an invoked operation must be completed (ok, fail or info)"]
pub struct Pending {
    op_id: u64,
    process: u64,
    key: String,
    op: Op,
}

impl Pending {
    /// The operation as invoked.
    pub fn op(&self) -> &Op {
        &self.op
    }
}

/// The history of one run, shared by every worker.
pub struct History {
    started: Instant,
    next_op_id: AtomicU64,
    events: Mutex<Vec<Event>>,
    /// Completions so far: ok, fail, info (for progress lines).
    completions: [AtomicU64; 3],
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

impl History {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            next_op_id: AtomicU64::new(1),
            events: Mutex::new(Vec::new()),
            completions: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
        }
    }

    /// Microseconds since the history started.
    pub fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }

    fn push(&self, op_id: u64, process: u64, kind: EventType, key: &str, op: Op, note: Option<String>) {
        let completion = match kind {
            EventType::Invoke => None,
            EventType::Ok => Some(0),
            EventType::Fail => Some(1),
            EventType::Info => Some(2),
        };
        if let Some(index) = completion {
            self.completions[index].fetch_add(1, Ordering::Relaxed);
        }
        // A poisoned lock means a worker panicked while pushing; the events are still whole.
        let mut events = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Taken under the lock, so event order and time order agree.
        let time_us = self.now_us();
        let index = events.len() as u64;
        events.push(Event { index, op_id, time_us, process, kind, key: key.to_string(), op, note });
    }

    /// Operations completed so far: (ok, fail, info).
    pub fn completions(&self) -> (u64, u64, u64) {
        let [ok, fail, info] = &self.completions;
        (ok.load(Ordering::Relaxed), fail.load(Ordering::Relaxed), info.load(Ordering::Relaxed))
    }

    pub fn is_full(&self) -> bool {
        self.len() >= HISTORY_EVENTS_MAX
    }

    /// Events recorded so far.
    fn len(&self) -> usize {
        self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    pub fn invoke(&self, process: u64, key: &str, op: Op) -> Pending {
        let op_id = self.next_op_id.fetch_add(1, Ordering::Relaxed);
        self.push(op_id, process, EventType::Invoke, key, op.clone(), None);
        Pending { op_id, process, key: key.to_string(), op }
    }

    /// Completed and took effect; `result` is the op with its result filled in.
    pub fn ok(&self, pending: Pending, result: Op) {
        self.push(pending.op_id, pending.process, EventType::Ok, &pending.key, result, None);
    }

    /// Completed and definitely did not take effect.
    pub fn fail(&self, pending: Pending, note: impl Into<String>) {
        self.push(pending.op_id, pending.process, EventType::Fail, &pending.key, pending.op, Some(note.into()));
    }

    /// Completed and definitely did not take effect; `result` is the op with what the refusal
    /// showed filled in (e.g. that the object named does not exist).
    pub fn refused(&self, pending: Pending, result: Op, note: impl Into<String>) {
        self.push(pending.op_id, pending.process, EventType::Fail, &pending.key, result, Some(note.into()));
    }

    /// Outcome unknown: the operation stays open to the end of the history.
    pub fn info(&self, pending: Pending, note: impl Into<String>) {
        self.push(pending.op_id, pending.process, EventType::Info, &pending.key, pending.op, Some(note.into()));
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Writes the history as JSON lines.
    pub fn write_jsonl(events: &[Event], path: &Path) -> Result<(), HistoryError> {
        let error = |error| HistoryError::Write { path: path.display().to_string(), error };
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(error)?);
        for event in events {
            serde_json::to_writer(&mut file, event).map_err(|e| error(std::io::Error::other(e)))?;
            file.write_all(b"\n").map_err(error)?;
        }
        file.flush().map_err(error)
    }

    /// Reads a history written by `write_jsonl`.
    pub fn read_jsonl(path: &Path) -> Result<Vec<Event>, HistoryError> {
        let file = std::fs::File::open(path)
            .map_err(|error| HistoryError::Read { path: path.display().to_string(), error })?;
        let mut events = Vec::new();
        for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|error| HistoryError::Read { path: path.display().to_string(), error })?;
            if line.len() > HISTORY_LINE_BYTES_MAX || events.len() >= HISTORY_EVENTS_MAX {
                return Err(HistoryError::Parse {
                    path: path.display().to_string(),
                    line: number + 1,
                    error: "over the history size bounds".into(),
                });
            }
            if line.trim().is_empty() {
                continue;
            }
            let event = serde_json::from_str(&line).map_err(|e| HistoryError::Parse {
                path: path.display().to_string(),
                line: number + 1,
                error: e.to_string(),
            })?;
            events.push(event);
        }
        Ok(events)
    }
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Fail,
    /// Timed out, failed ambiguously, or never completed: it may or may not have happened.
    Indeterminate,
}

/// An invoke paired with its completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub op_id: u64,
    pub process: u64,
    pub key: String,
    pub invoke_us: u64,
    /// None while indeterminate: the operation stays open to the end.
    pub complete_us: Option<u64>,
    pub status: Status,
    /// The op with its result (for `ok`) or what its refusal showed (for `fail`), else as invoked.
    pub op: Op,
}

/// Pairs invokes with completions, in invoke order. An invoke without completion is
/// indeterminate; a completion without an invoke, or a second one, is an error.
pub fn operations(events: &[Event]) -> Result<Vec<Operation>, HistoryError> {
    let mut operations: Vec<Operation> = Vec::new();
    let mut open = std::collections::BTreeMap::new();
    let mut done = std::collections::BTreeSet::new();
    for event in events {
        let (index, op_id) = (event.index, event.op_id);
        match event.kind {
            EventType::Invoke => {
                if open.contains_key(&op_id) || done.contains(&op_id) {
                    return Err(HistoryError::InvokedTwice { index, op_id });
                }
                open.insert(op_id, operations.len());
                operations.push(Operation {
                    op_id,
                    process: event.process,
                    key: event.key.clone(),
                    invoke_us: event.time_us,
                    complete_us: None,
                    status: Status::Indeterminate,
                    op: event.op.clone(),
                });
            }
            kind => {
                let Some(position) = open.remove(&op_id) else {
                    return Err(if done.contains(&op_id) {
                        HistoryError::CompletedTwice { index, op_id }
                    } else {
                        HistoryError::CompletedWithoutInvoke { index, op_id }
                    });
                };
                done.insert(op_id);
                let operation = &mut operations[position];
                if event.time_us < operation.invoke_us {
                    return Err(HistoryError::CompletedBeforeInvoke { index, op_id });
                }
                match kind {
                    EventType::Ok => {
                        operation.status = Status::Ok;
                        operation.complete_us = Some(event.time_us);
                        operation.op = event.op.clone();
                    }
                    EventType::Fail => {
                        operation.status = Status::Fail;
                        operation.complete_us = Some(event.time_us);
                        // `fail` records the op as invoked, `refused` with what the refusal showed.
                        operation.op = event.op.clone();
                    }
                    // Indeterminate: open to the end, whatever time the client gave up.
                    EventType::Info | EventType::Invoke => {}
                }
            }
        }
    }
    Ok(operations)
}

/// The model of a key: the part of `model:name` before the colon.
pub fn model_of(key: &str) -> &str {
    key.split_once(':').map_or(key, |(model, _)| model)
}

/// The name of a key: the part after the colon.
pub fn name_of(key: &str) -> &str {
    key.split_once(':').map_or(key, |(_, name)| name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn invokes_pair_with_completions_and_open_ones_stay_indeterminate() {
        let history = History::new();
        let a = history.invoke(1, "register:x", Op::Write { value: 1 });
        let b = history.invoke(2, "register:x", Op::Read { value: None });
        let c = history.invoke(3, "register:x", Op::Write { value: 2 });
        let d = history.invoke(4, "register:x", Op::Write { value: 3 });
        history.ok(b, Op::Read { value: Some(1) });
        history.ok(a, Op::Write { value: 1 });
        history.info(c, "timed out");
        history.fail(d, "rejected");
        let _open = history.invoke(5, "register:x", Op::Write { value: 4 });
        let ops = operations(&history.events()).unwrap();
        let statuses: Vec<Status> = ops.iter().map(|o| o.status).collect();
        use Status::*;
        assert_eq!(statuses, [Ok, Ok, Indeterminate, Fail, Indeterminate]);
        assert_eq!(ops[1].op, Op::Read { value: Some(1) });
        assert!(ops[2].complete_us.is_none());
        assert!(ops[0].complete_us.unwrap() >= ops[0].invoke_us);
    }

    #[test]
    fn a_refused_operation_keeps_what_the_refusal_showed() {
        let history = History::new();
        let bind = Op::GcBind { root: "r".into(), id: 7, unknown_object: false };
        let pending = history.invoke(1, "gc:w0", bind);
        history.refused(pending, Op::GcBind { root: "r".into(), id: 7, unknown_object: true }, "no object 7");
        let ops = operations(&history.events()).unwrap();
        assert_eq!(ops[0].status, Status::Fail);
        assert_eq!(ops[0].op, Op::GcBind { root: "r".into(), id: 7, unknown_object: true });
    }

    #[test]
    fn malformed_histories_are_refused() {
        let event = |index, op_id, kind| Event {
            index,
            op_id,
            time_us: index,
            process: 1,
            kind,
            key: "register:x".into(),
            op: Op::Write { value: 1 },
            note: None,
        };
        let twice = [event(0, 1, EventType::Invoke), event(1, 1, EventType::Ok), event(2, 1, EventType::Ok)];
        assert!(matches!(operations(&twice), Err(HistoryError::CompletedTwice { .. })));
        assert!(matches!(operations(&[event(0, 9, EventType::Ok)]), Err(HistoryError::CompletedWithoutInvoke { .. })));
    }

    #[test]
    fn histories_round_trip_through_json_lines() {
        let history = History::new();
        let a = history.invoke(1, "list:l", Op::Append { element: "e1".into() });
        history.ok(a, Op::Append { element: "e1".into() });
        let r = history.invoke(2, "list:l", Op::ReadList { elements: None });
        history.ok(r, Op::ReadList { elements: Some(vec!["e1".into()]) });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        History::write_jsonl(&history.events(), &path).unwrap();
        assert_eq!(History::read_jsonl(&path).unwrap(), history.events());
    }
}
