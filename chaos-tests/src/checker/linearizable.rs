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
    let mut search = Search::new(initial, calls, bounds);
    loop {
        if let Some(verdict) = search.step() {
            return verdict;
        }
    }
}

/// The depth-first search over one register's calls: the calls linearized so far are lifted out
/// of `entries` and stacked; a call that cannot be placed next sends the search back one call.
struct Search<'a> {
    initial: i64,
    calls: &'a [Call],
    bounds: Bounds,
    entries: Entries,
    /// Two independent 64-bit keys per call: the set of linearized calls is remembered as a
    /// 128-bit hash, so a false "seen before" needs a 2^-128-scale collision.
    keys: Vec<(u64, u64)>,
    /// Completed calls not linearized yet (0: a legal order is found).
    remaining_returns: usize,
    /// Configurations explored: (hash of the linearized set, register value).
    cache: HashSet<(u64, u64, i64)>,
    /// Linearized calls: (entry position, register value before it).
    stack: Vec<(usize, i64)>,
    hash: (u64, u64),
    state: i64,
    /// Where the search got furthest: (calls linearized, call that could not follow, value).
    deepest: Option<(usize, usize, i64)>,
    /// The entry to try next.
    position: usize,
    steps: u64,
}

impl<'a> Search<'a> {
    fn new(initial: i64, calls: &'a [Call], bounds: Bounds) -> Self {
        let entries = Entries::new(calls);
        let mut zobrist = Prng::derive(ZOBRIST_SEED, calls.len() as u64);
        let keys: Vec<(u64, u64)> = calls.iter().map(|_| (zobrist.next_u64(), zobrist.next_u64())).collect();
        let position = entries.entries[HEAD].next;
        Self {
            initial,
            calls,
            bounds,
            entries,
            keys,
            remaining_returns: calls.iter().filter(|c| c.complete_us.is_some()).count(),
            cache: HashSet::new(),
            stack: Vec::new(),
            hash: (0, 0),
            state: initial,
            deepest: None,
            position,
            steps: 0,
        }
    }

    /// One step: linearize the call at `position`, move past it, or back up; the verdict once
    /// there is one.
    fn step(&mut self) -> Option<Verdict> {
        if self.remaining_returns == 0 {
            return Some(Verdict::Linearizable { steps: self.steps });
        }
        self.steps += 1;
        if self.steps > self.bounds.steps_max {
            let reason = format!("search passed {} steps", self.bounds.steps_max);
            return Some(Verdict::Unknown { steps: self.steps, reason });
        }
        let entry = if self.position == NONE { None } else { Some(self.entries.entries[self.position]) };
        match entry {
            Some(Entry { is_return: false, call, next, .. }) => match self.linearize(call) {
                Err(verdict) => Some(verdict),
                Ok(true) => None,
                Ok(false) => {
                    self.position = next;
                    None
                }
            },
            // A return whose call is not linearized yet (or the end of the list): back up.
            other => self.back_up(other.map(|entry| entry.call)),
        }
    }

    /// Linearizes `call` (at `position`) next if the register allows it and the configuration it
    /// leads to is new; then the search starts over at the head. Err when the cache is full.
    fn linearize(&mut self, call: usize) -> Result<bool, Verdict> {
        let Some(new_state) = apply(self.state, self.calls[call].op) else {
            return Ok(false);
        };
        let new_hash = (self.hash.0 ^ self.keys[call].0, self.hash.1 ^ self.keys[call].1);
        if self.cache.len() >= self.bounds.cache_entries_max {
            let reason = format!("search remembered {} configurations", self.bounds.cache_entries_max);
            return Err(Verdict::Unknown { steps: self.steps, reason });
        }
        if !self.cache.insert((new_hash.0, new_hash.1, new_state)) {
            return Ok(false);
        }
        self.stack.push((self.position, self.state));
        self.entries.lift(self.position);
        if self.calls[call].complete_us.is_some() {
            self.remaining_returns -= 1;
        }
        (self.hash, self.state) = (new_hash, new_state);
        self.position = self.entries.entries[HEAD].next;
        Ok(true)
    }

    /// Undoes the last linearized call and goes on past it; `blocked` is the call whose return
    /// was reached first (None at the end of the list). A violation when nothing is left to undo.
    fn back_up(&mut self, blocked: Option<usize>) -> Option<Verdict> {
        if let Some(call) = blocked {
            if self.deepest.is_none_or(|(depth, _, _)| self.stack.len() >= depth) {
                self.deepest = Some((self.stack.len(), call, self.state));
            }
        }
        let Some((call_position, previous_state)) = self.stack.pop() else {
            return Some(self.violation());
        };
        let call = self.entries.entries[call_position].call;
        self.entries.unlift(call_position);
        if self.calls[call].complete_us.is_some() {
            self.remaining_returns += 1;
        }
        self.hash = (self.hash.0 ^ self.keys[call].0, self.hash.1 ^ self.keys[call].1);
        self.state = previous_state;
        self.position = self.entries.entries[call_position].next;
        None
    }

    /// No legal order: the verdict names the call that could not follow the longest prefix.
    fn violation(&self) -> Verdict {
        let (linearized, call, value) = self.deepest.unwrap_or((0, 0, self.initial));
        let op_id = self.calls.get(call).map_or(0, |c| c.op_id);
        Verdict::Violation {
            op_id,
            linearized,
            value,
            reason: format!(
                "no legal order: at best {linearized} operations linearize, then operation {op_id} \
                 cannot take effect while the register holds {value}"
            ),
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
    let (mut first_observed, writers) = match observations(initial, operations) {
        Ok(found) => found,
        Err(violation) => return violation,
    };
    close_observed_cas(operations, &mut first_observed);
    if let Some(violation) = unexplained_observation(initial, operations, &first_observed, &writers) {
        return violation;
    }
    Prepared::Calls(calls_of(operations, &first_observed))
}

/// Per value: the earliest completion of a definite observation of it (an ok read of it, an ok
/// CAS expecting it).
type FirstObserved = BTreeMap<i64, u64>;
/// Per value written: the operation that wrote it and how that ended.
type Writers = BTreeMap<i64, (u64, Status)>;

/// The first observation of each value and the writer of each; a violation if a value is
/// written twice (or the initial value written), which the unique-value reasoning cannot take.
fn observations(initial: i64, operations: &[Operation]) -> Result<(FirstObserved, Writers), Prepared> {
    let mut first_observed = FirstObserved::new();
    let mut writers = Writers::new();
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
            if value == initial || writers.insert(value, (operation.op_id, operation.status)).is_some() {
                return Err(Prepared::Violation {
                    op_id: operation.op_id,
                    reason: format!("value {value} is written twice; the workload writes unique values"),
                });
            }
        }
    }
    Ok((first_observed, writers))
}

/// An indeterminate CAS whose value was observed happened, so it observed its expected value
/// no later than its own (bounded) completion: propagate until nothing changes. Times only go
/// down, and each pass that changes something extends a chain of CAS, so a pass per operation
/// is enough.
fn close_observed_cas(operations: &[Operation], first_observed: &mut FirstObserved) {
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
}

/// A violation if some observed value (other than the initial one) was never written, or only
/// by an operation that failed.
fn unexplained_observation(
    initial: i64,
    operations: &[Operation],
    first_observed: &FirstObserved,
    writers: &Writers,
) -> Option<Prepared> {
    for value in first_observed.keys().filter(|value| **value != initial) {
        match writers.get(value) {
            None => {
                let op_id = observer(operations, *value).unwrap_or(0);
                return Some(Prepared::Violation {
                    op_id,
                    reason: format!("observed value {value}, which nobody wrote"),
                });
            }
            Some((writer, Status::Fail)) => {
                let op_id = observer(operations, *value).unwrap_or(0);
                return Some(Prepared::Violation {
                    op_id,
                    reason: format!("observed value {value}, written only by operation {writer}, which failed"),
                });
            }
            Some(_) => {}
        }
    }
    None
}

/// The checker calls: failed operations and indeterminate reads dropped, an indeterminate write
/// or CAS closed at the first observation of its value (dropped if nobody observed it).
fn calls_of(operations: &[Operation], first_observed: &FirstObserved) -> Vec<Call> {
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
    calls
}

/// The first operation that definitely observed `value`.
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
mod tests;
