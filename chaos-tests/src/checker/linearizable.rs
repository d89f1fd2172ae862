//! A Wing-Gong-Lowe linearizability checker for one register (read, write, compare-and-set), as in
//! Knossos and porcupine: a depth-first search for a legal sequential order that respects real
//! time, with Lowe's cache of (set of linearized operations, register value) so no configuration is
//! explored twice. Indeterminate operations have no return event: they may be linearized at any
//! point after their invocation, or never. The search is bounded; past the bound the verdict is
//! `Unknown`, which a run counts as "not verified" (a failure: no proof is no pass).

use std::collections::BTreeMap;
use std::collections::HashSet;

use crate::history::Op;
use crate::history::Operation;
use crate::history::Status;
use heap_testkit::Prng;

/// Search steps (entries visited) per key before giving up with `Unknown`. A clean 4-minute run
/// needs a few thousand per key; a violation found after exhausting a prefix of a few hundred
/// concurrent operations needs a few million at most.
pub const SEARCH_STEPS_MAX: u64 = 50_000_000;
/// Configurations remembered per key before giving up with `Unknown` (about 32 bytes each).
pub const SEARCH_CACHE_ENTRIES_MAX: usize = 8_000_000;
/// Stream of the Zobrist keys (fixed, so verdicts are reproducible).
const ZOBRIST_SEED: u64 = 0x11ea_12ab_1e00_0001;

/// A register operation as the checker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOp {
    Read(i64),
    Write(i64),
    /// Completed (or, if open, would have completed) successfully: the register held `expected`.
    Cas {
        expected: i64,
        new: i64,
    },
}

/// One operation: `complete_us` None means indeterminate (open to the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub op_id: u64,
    pub invoke_us: u64,
    pub complete_us: Option<u64>,
    pub op: RegisterOp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub steps_max: u64,
    pub cache_entries_max: usize,
}

pub const DEFAULT_BOUNDS: Bounds = Bounds { steps_max: SEARCH_STEPS_MAX, cache_entries_max: SEARCH_CACHE_ENTRIES_MAX };

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Linearizable {
        steps: u64,
    },
    /// No legal order exists. `op_id` is the operation that could not be placed when the search
    /// got furthest (`linearized` operations in, register holding `value`).
    Violation {
        op_id: u64,
        linearized: usize,
        value: i64,
        reason: String,
    },
    /// The search bound was reached first.
    Unknown {
        steps: u64,
        reason: String,
    },
}

fn apply(state: i64, op: RegisterOp) -> Option<i64> {
    match op {
        RegisterOp::Read(value) => (state == value).then_some(state),
        RegisterOp::Write(value) => Some(value),
        RegisterOp::Cas { expected, new } => (state == expected).then_some(new),
    }
}

const NONE: usize = usize::MAX;
const HEAD: usize = 0;

#[derive(Debug, Clone, Copy)]
struct Entry {
    call: usize,
    is_return: bool,
    prev: usize,
    next: usize,
}

/// The events as a doubly linked list (index 0 is the head sentinel) that the search unlinks
/// operations from and relinks them into, in stack order (dancing links).
struct Entries {
    entries: Vec<Entry>,
    /// Per call: its return entry, or NONE when indeterminate.
    return_of: Vec<usize>,
}

impl Entries {
    fn new(calls: &[Call]) -> Self {
        // (time, 0 = call / 1 = return, call index): at equal times calls come first, which treats
        // the two operations as concurrent (the permissive reading of a tie).
        let mut events: Vec<(u64, u8, usize)> = Vec::with_capacity(2 * calls.len());
        for (index, call) in calls.iter().enumerate() {
            events.push((call.invoke_us, 0, index));
            if let Some(complete_us) = call.complete_us {
                events.push((complete_us, 1, index));
            }
        }
        events.sort_unstable();
        let mut entries = vec![Entry { call: NONE, is_return: false, prev: NONE, next: NONE }];
        let mut return_of = vec![NONE; calls.len()];
        for (_, kind, call) in events {
            let position = entries.len();
            entries.push(Entry { call, is_return: kind == 1, prev: position - 1, next: NONE });
            entries[position - 1].next = position;
            if kind == 1 {
                return_of[call] = position;
            }
        }
        Self { entries, return_of }
    }

    fn unlink(&mut self, position: usize) {
        let Entry { prev, next, .. } = self.entries[position];
        self.entries[prev].next = next;
        if next != NONE {
            self.entries[next].prev = prev;
        }
    }

    fn relink(&mut self, position: usize) {
        let Entry { prev, next, .. } = self.entries[position];
        self.entries[prev].next = position;
        if next != NONE {
            self.entries[next].prev = position;
        }
    }

    /// Takes a call (and its return) out of the list.
    fn lift(&mut self, call_position: usize) {
        self.unlink(call_position);
        let returned = self.return_of[self.entries[call_position].call];
        if returned != NONE {
            self.unlink(returned);
        }
    }

    /// Undoes the last `lift` of this call.
    fn unlift(&mut self, call_position: usize) {
        let returned = self.return_of[self.entries[call_position].call];
        if returned != NONE {
            self.relink(returned);
        }
        self.relink(call_position);
    }
}

/// Checks that `calls` on one register starting at `initial` are linearizable.
pub fn check(initial: i64, calls: &[Call], bounds: Bounds) -> Verdict {
    let mut entries = Entries::new(calls);
    let mut zobrist = Prng::derive(ZOBRIST_SEED, calls.len() as u64);
    // Two independent 64-bit keys per operation: the set of linearized operations is remembered
    // as a 128-bit hash, so a false "seen before" needs a 2^-128-scale collision.
    let keys: Vec<(u64, u64)> = calls.iter().map(|_| (zobrist.next_u64(), zobrist.next_u64())).collect();
    let mut remaining_returns = calls.iter().filter(|c| c.complete_us.is_some()).count();
    let mut cache: HashSet<(u64, u64, i64)> = HashSet::new();
    let mut stack: Vec<(usize, i64)> = Vec::new();
    let (mut hash, mut state) = ((0u64, 0u64), initial);
    let mut deepest: Option<(usize, usize, i64)> = None;
    let mut position = entries.entries[HEAD].next;
    let mut steps: u64 = 0;
    loop {
        if remaining_returns == 0 {
            return Verdict::Linearizable { steps };
        }
        steps += 1;
        if steps > bounds.steps_max {
            return Verdict::Unknown { steps, reason: format!("search passed {} steps", bounds.steps_max) };
        }
        let entry = if position == NONE { None } else { Some(entries.entries[position]) };
        match entry {
            Some(Entry { is_return: false, call, next, .. }) => {
                if let Some(new_state) = apply(state, calls[call].op) {
                    let new_hash = (hash.0 ^ keys[call].0, hash.1 ^ keys[call].1);
                    if cache.len() >= bounds.cache_entries_max {
                        return Verdict::Unknown {
                            steps,
                            reason: format!("search remembered {} configurations", bounds.cache_entries_max),
                        };
                    }
                    if cache.insert((new_hash.0, new_hash.1, new_state)) {
                        stack.push((position, state));
                        entries.lift(position);
                        if calls[call].complete_us.is_some() {
                            remaining_returns -= 1;
                        }
                        (hash, state) = (new_hash, new_state);
                        position = entries.entries[HEAD].next;
                        continue;
                    }
                }
                position = next;
            }
            // A return whose call is not linearized yet (or the end of the list): back up.
            other => {
                if let Some(Entry { call, .. }) = other {
                    if deepest.is_none_or(|(depth, _, _)| stack.len() >= depth) {
                        deepest = Some((stack.len(), call, state));
                    }
                }
                let Some((call_position, previous_state)) = stack.pop() else {
                    let (linearized, call, value) = deepest.unwrap_or((0, 0, initial));
                    let op_id = calls.get(call).map_or(0, |c| c.op_id);
                    return Verdict::Violation {
                        op_id,
                        linearized,
                        value,
                        reason: format!(
                            "no legal order: at best {linearized} operations linearize, then operation {op_id} \
                             cannot take effect while the register holds {value}"
                        ),
                    };
                };
                let call = entries.entries[call_position].call;
                entries.unlift(call_position);
                if calls[call].complete_us.is_some() {
                    remaining_returns += 1;
                }
                hash = (hash.0 ^ keys[call].0, hash.1 ^ keys[call].1);
                state = previous_state;
                position = entries.entries[call_position].next;
            }
        }
    }
}

/// Why a key's history cannot even be searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    Calls(Vec<Call>),
    /// A read that no legal order can explain, found without a search.
    Violation {
        op_id: u64,
        reason: String,
    },
}

/// Turns one register key's operations into checker calls, exactly (no verdict changes):
/// failed operations and indeterminate reads are dropped (they have no effect); an indeterminate
/// write or CAS whose (unique) value nobody observed is dropped (its "never happened" order is
/// legal whenever any order is); one whose value was observed happened before the first
/// observation completed, so it gets that completion time and stops being open. This keeps
/// histories with many timeouts cheap to search. Needs unique written values (the workload
/// writes each value once).
pub fn prepare(initial: i64, operations: &[Operation]) -> Prepared {
    // Definite observations of each value: ok reads of it, ok CAS expecting it.
    let mut first_observed: BTreeMap<i64, u64> = BTreeMap::new();
    let mut written: BTreeMap<i64, (u64, Status)> = BTreeMap::new();
    for operation in operations {
        let complete_us = operation.complete_us.unwrap_or(u64::MAX);
        let observed = match (&operation.op, operation.status) {
            (Op::Read { value: Some(value) }, Status::Ok) => Some(*value),
            (Op::Cas { expected, .. }, Status::Ok) => Some(*expected),
            _ => None,
        };
        if let Some(value) = observed {
            let first = first_observed.entry(value).or_insert(complete_us);
            *first = (*first).min(complete_us);
        }
        let written_value = match &operation.op {
            Op::Write { value } | Op::Cas { new: value, .. } => Some(*value),
            _ => None,
        };
        if let Some(value) = written_value {
            if value == initial || written.insert(value, (operation.op_id, operation.status)).is_some() {
                return Prepared::Violation {
                    op_id: operation.op_id,
                    reason: format!("value {value} is written twice; the workload writes unique values"),
                };
            }
        }
    }
    // An indeterminate CAS whose value was observed happened, so it observed its expected value
    // no later than its own (bounded) completion: propagate until nothing changes. Times only go
    // down, and each pass that changes something extends a chain of CAS, so a pass per operation
    // is enough.
    for _ in 0..=operations.len() {
        let mut changed = false;
        for operation in operations {
            if let (Op::Cas { expected, new }, Status::Indeterminate) = (&operation.op, operation.status) {
                if let Some(observed_us) = first_observed.get(new).copied() {
                    let complete_us = observed_us.max(operation.invoke_us);
                    let first = first_observed.entry(*expected).or_insert(u64::MAX);
                    if complete_us < *first {
                        *first = complete_us;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    for value in first_observed.keys() {
        if *value == initial {
            continue;
        }
        match written.get(value) {
            None => {
                let op_id = observer(operations, *value).unwrap_or(0);
                return Prepared::Violation { op_id, reason: format!("observed value {value}, which nobody wrote") };
            }
            Some((writer, Status::Fail)) => {
                let op_id = observer(operations, *value).unwrap_or(0);
                return Prepared::Violation {
                    op_id,
                    reason: format!("observed value {value}, written only by operation {writer}, which failed"),
                };
            }
            Some(_) => {}
        }
    }
    let mut calls = Vec::new();
    for operation in operations {
        let op = match (&operation.op, operation.status) {
            (_, Status::Fail) => continue,
            (Op::Read { value: Some(value) }, Status::Ok) => RegisterOp::Read(*value),
            (Op::Read { .. }, _) => continue,
            (Op::Write { value }, _) => RegisterOp::Write(*value),
            (Op::Cas { expected, new }, _) => RegisterOp::Cas { expected: *expected, new: *new },
            // Other models' operations do not belong to a register key.
            _ => continue,
        };
        let complete_us = match operation.status {
            Status::Ok => operation.complete_us,
            Status::Fail => continue,
            Status::Indeterminate => {
                let value = match op {
                    RegisterOp::Write(value) | RegisterOp::Cas { new: value, .. } => value,
                    RegisterOp::Read(_) => continue,
                };
                match first_observed.get(&value) {
                    None => continue,
                    Some(observed_us) => Some((*observed_us).max(operation.invoke_us)),
                }
            }
        };
        calls.push(Call { op_id: operation.op_id, invoke_us: operation.invoke_us, complete_us, op });
    }
    Prepared::Calls(calls)
}

fn observer(operations: &[Operation], value: i64) -> Option<u64> {
    operations
        .iter()
        .find(|o| {
            o.status == Status::Ok
                && matches!(o.op, Op::Read { value: Some(v) } if v == value)
                    | matches!(o.op, Op::Cas { expected, .. } if expected == value)
        })
        .map(|o| o.op_id)
}

#[cfg(test)]
#[path = "linearizable_test.rs"]
mod linearizable_test;
