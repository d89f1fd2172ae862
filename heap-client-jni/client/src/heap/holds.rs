//! `HoldTable`: which objects the application still uses (a pin count per id, one pin per live
//! reference such as a Java `HeapObject`) and which of them the server holds for this client's
//! session, so that nothing the application uses is collected and nothing it dropped stays.
//!
//! Why a table and not a request per pin: pins come and go at the rate the application makes
//! and drops references (millions per minute), so `pin` and `unpin` only change counts here,
//! under a mutex, without I/O; the background flusher (`hold_flusher.rs`) turns what changed
//! into batched `Hold` and `Release` requests, at most `HOLD_IDS_PER_REQUEST_MAX` ids each.
//!
//! The rules: a pinned id the server may not hold is due a `Hold`; an unpinned id the server
//! may hold is due a `Release`; an id whose create has not committed (made under a lock not
//! released yet) is due nothing, because the server has nothing to hold yet. An id is in at most
//! one request at a time (`in_flight`); an answer sets what the server holds and the id becomes
//! due again if its pins changed meanwhile. An unpinned id the server does not hold is forgotten.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::error::HeapError;

/// Ids one client tracks at most (pinned, or held and waiting for their release). The server
/// refuses more holds than this per session anyway, so the bound costs nothing real; at the
/// bound, `pin` and `create` of an id not tracked yet fail with `HeapError::Rejected` (drop
/// references the application no longer uses), while ids already tracked pin as usual. About
/// 100 bytes per id: 100 MB at the bound.
pub const HOLD_TABLE_IDS_MAX: usize = 1_000_000;
/// Ids in one `Hold` or `Release` request: what the server accepts.
pub const HOLD_REQUEST_IDS_MAX: usize = heap_machine::HOLD_IDS_PER_REQUEST_MAX as usize;

const _: () = assert!(HOLD_TABLE_IDS_MAX as u64 <= heap_machine::HOLDS_PER_SESSION_MAX);
const _: () = assert!(HOLD_REQUEST_IDS_MAX <= HOLD_TABLE_IDS_MAX);

/// What the server holds for this session, as far as the client knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerHold {
    /// Created under a cluster lock not yet released: the object does not exist on the server.
    Uncommitted,
    /// Not held.
    No,
    /// Held: a creation hold (a lone create that committed) or a `Hold` the server answered.
    Yes,
    /// Perhaps held: created by a transaction that may also reference it (so without a creation
    /// hold), or a request whose answer was lost. A `Hold` or a `Release` settles it.
    Maybe,
    /// The server answered that it does not exist: it was collected.
    Missing,
    /// Its create was refused with the rest of its transaction: it never existed.
    Discarded,
}

/// One request the flusher sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldRequest {
    Hold(Vec<u64>),
    Release(Vec<u64>),
}

impl HoldRequest {
    pub fn ids(&self) -> &[u64] {
        match self {
            HoldRequest::Hold(ids) | HoldRequest::Release(ids) => ids,
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldAnswer {
    /// `Hold` applied: every id is held but `missing`, which does not exist.
    Held { missing: Vec<u64> },
    /// `Release` applied.
    Released,
    /// Refused whole (a hold limit of the server): nothing changed.
    Refused,
    /// No answer (unreachable, session lost): it may or may not have been applied.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// Live references the application has (`pin` minus `unpin`).
    pins: u64,
    server: ServerHold,
    /// In a request sent and not answered yet: not due again until the answer.
    in_flight: bool,
}

impl Entry {
    fn due_hold(&self) -> bool {
        !self.in_flight && self.pins > 0 && matches!(self.server, ServerHold::No | ServerHold::Maybe)
    }

    fn due_release(&self) -> bool {
        !self.in_flight && self.pins == 0 && matches!(self.server, ServerHold::Yes | ServerHold::Maybe)
    }

    /// Nothing left to track: unused, not held, no answer pending.
    fn forgettable(&self) -> bool {
        !self.in_flight
            && self.pins == 0
            && matches!(self.server, ServerHold::No | ServerHold::Missing | ServerHold::Discarded)
    }
}

pub struct HoldTable {
    entries: BTreeMap<u64, Entry>,
    /// Ids due a `Hold` or a `Release`; kept by `settle` after every change to an entry.
    due_hold: BTreeSet<u64>,
    due_release: BTreeSet<u64>,
    ids_max: usize,
    /// How many entries are `Missing`, readable without the table's mutex (`missing_counter`):
    /// while it is 0, which is the rule, a read need not lock the table to ask `is_missing`.
    /// Changed only under the mutex, with the entry it counts.
    missing_entries: Arc<AtomicUsize>,
}

impl Default for HoldTable {
    fn default() -> Self {
        Self::with_capacity(HOLD_TABLE_IDS_MAX)
    }
}

impl HoldTable {
    /// A table of at most `ids_max` ids (tests use small bounds).
    pub fn with_capacity(ids_max: usize) -> Self {
        assert!(ids_max > 0, "a hold table must track at least one id");
        HoldTable {
            entries: BTreeMap::new(),
            due_hold: BTreeSet::new(),
            due_release: BTreeSet::new(),
            ids_max,
            missing_entries: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Ids tracked (pinned, or held and waiting for their release).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[cfg(test)]
    /// `(pins, server hold)` of `id`, if tracked.
    pub fn state(&self, id: u64) -> Option<(u64, ServerHold)> {
        self.entries.get(&id).map(|entry| (entry.pins, entry.server))
    }

    /// Whether the server answered that `id` does not exist (it was collected).
    pub fn is_missing(&self, id: u64) -> bool {
        self.entries.get(&id).is_some_and(|entry| entry.server == ServerHold::Missing)
    }

    /// The number of `Missing` entries, kept current by the table: 0 means `is_missing` is false
    /// for every id, so the caller may skip the mutex.
    pub fn missing_counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.missing_entries)
    }

    /// Whether `id` was created in a transaction the server refused.
    pub fn is_discarded(&self, id: u64) -> bool {
        self.entries.get(&id).is_some_and(|entry| entry.server == ServerHold::Discarded)
    }

    fn full(&self) -> HeapError {
        HeapError::Rejected(format!(
            "this client already tracks {} heap objects, the most it may (each one referenced by live \
             application code, or released and waiting for the server to acknowledge); drop references \
             to heap objects the application no longer uses",
            self.ids_max
        ))
    }

    /// One more live reference to `id`; the server is asked to hold it if it may not.
    pub fn pin(&mut self, id: u64) -> Result<(), HeapError> {
        if !self.entries.contains_key(&id) && self.entries.len() >= self.ids_max {
            return Err(self.full());
        }
        let entry = self.entries.entry(id).or_insert(Entry { pins: 0, server: ServerHold::No, in_flight: false });
        entry.pins = entry.pins.checked_add(1).expect("fewer than 2^64 live references to one object");
        self.settle(id);
        Ok(())
    }

    /// One live reference to `id` fewer; at zero the server is asked to release it.
    pub fn unpin(&mut self, id: u64) -> Result<(), HeapError> {
        let entry = self.entries.get_mut(&id).filter(|entry| entry.pins > 0).ok_or_else(|| {
            HeapError::IllegalState(format!("object {id} is not pinned; unpin only what was pinned, once per pin"))
        })?;
        entry.pins -= 1;
        self.settle(id);
        Ok(())
    }

    /// A new object `id` this client is creating, pinned once for the caller; nothing is sent
    /// for it until `committed` (or `discarded`) says how its create ended.
    pub fn create(&mut self, id: u64) -> Result<(), HeapError> {
        if self.entries.contains_key(&id) {
            return Err(HeapError::Internal(format!("object id {id} was handed out twice by the id pool")));
        }
        if self.entries.len() >= self.ids_max {
            return Err(self.full());
        }
        self.entries.insert(id, Entry { pins: 1, server: ServerHold::Uncommitted, in_flight: false });
        Ok(())
    }

    /// The creates of `ids` committed: `held` is `Yes` when the server surely made creation
    /// holds (a lone create, which nothing can reference), `Maybe` when the transaction may
    /// also reference them or its outcome is unknown.
    pub fn committed(&mut self, ids: &[u64], held: ServerHold) {
        assert!(matches!(held, ServerHold::Yes | ServerHold::Maybe), "a commit leaves {held:?}");
        self.set_created(ids, held);
    }

    /// The creates of `ids` were refused with their transaction: the objects never existed.
    pub fn discarded(&mut self, ids: &[u64]) {
        self.set_created(ids, ServerHold::Discarded);
    }

    fn set_created(&mut self, ids: &[u64], server: ServerHold) {
        for id in ids {
            if let Some(entry) = self.entries.get_mut(id).filter(|entry| entry.server == ServerHold::Uncommitted) {
                entry.server = server;
                self.settle(*id);
            }
        }
    }

    /// The next request to send (releases first, so a session near the server's hold limit makes
    /// room before it asks for more), its ids marked in flight; None when nothing is due.
    pub fn next_request(&mut self) -> Option<HoldRequest> {
        let release = !self.due_release.is_empty();
        let due = if release { &mut self.due_release } else { &mut self.due_hold };
        let mut ids = Vec::with_capacity(due.len().min(HOLD_REQUEST_IDS_MAX));
        while ids.len() < HOLD_REQUEST_IDS_MAX {
            let Some(id) = due.pop_first() else { break };
            ids.push(id);
        }
        if ids.is_empty() {
            return None;
        }
        for id in &ids {
            let entry = self.entries.get_mut(id).expect("every due id is tracked");
            entry.in_flight = true;
        }
        Some(if release { HoldRequest::Release(ids) } else { HoldRequest::Hold(ids) })
    }

    /// Records how `request` ended; ids whose pins changed meanwhile become due again.
    pub fn answered(&mut self, request: &HoldRequest, answer: &HoldAnswer) {
        let missing: BTreeSet<u64> = match answer {
            HoldAnswer::Held { missing } => missing.iter().copied().collect(),
            _ => BTreeSet::new(),
        };
        for id in request.ids() {
            let Some(entry) = self.entries.get_mut(id) else { continue };
            assert!(entry.in_flight, "object {id} was answered without being sent");
            entry.in_flight = false;
            let was_missing = entry.server == ServerHold::Missing;
            entry.server = match (request, answer) {
                (_, HoldAnswer::Refused) => entry.server,
                (_, HoldAnswer::Failed) => ServerHold::Maybe,
                (HoldRequest::Hold(_), _) if missing.contains(id) => ServerHold::Missing,
                (HoldRequest::Hold(_), HoldAnswer::Held { .. }) => ServerHold::Yes,
                (HoldRequest::Release(_), HoldAnswer::Released) => ServerHold::No,
                (request, answer) => panic!("{answer:?} is no answer to {request:?}"),
            };
            match (was_missing, entry.server == ServerHold::Missing) {
                (false, true) => self.missing_entries.fetch_add(1, Ordering::SeqCst),
                (true, false) => self.missing_entries.fetch_sub(1, Ordering::SeqCst),
                _ => 0,
            };
            self.settle(*id);
        }
    }

    /// Puts `id` in the due set it belongs to now, or forgets it when nothing is left to track.
    fn settle(&mut self, id: u64) {
        self.due_hold.remove(&id);
        self.due_release.remove(&id);
        let Some(entry) = self.entries.get(&id).copied() else { return };
        if entry.due_hold() {
            self.due_hold.insert(id);
        } else if entry.due_release() {
            self.due_release.insert(id);
        } else if entry.forgettable() {
            self.entries.remove(&id);
            if entry.server == ServerHold::Missing {
                let before = self.missing_entries.fetch_sub(1, Ordering::SeqCst);
                assert!(before > 0, "a missing entry was forgotten without being counted");
            }
        }
    }

    #[cfg(test)]
    /// Checks the due sets against the entries.
    pub fn validate(&self) -> Result<(), String> {
        for (id, entry) in &self.entries {
            if entry.due_hold() != self.due_hold.contains(id) || entry.due_release() != self.due_release.contains(id) {
                return Err(format!("object {id} ({entry:?}) is in the wrong due set"));
            }
            if entry.forgettable() {
                return Err(format!("object {id} ({entry:?}) should have been forgotten"));
            }
        }
        for id in self.due_hold.iter().chain(&self.due_release) {
            if !self.entries.contains_key(id) {
                return Err(format!("object {id} is due a request but not tracked"));
            }
        }
        let missing = self.entries.values().filter(|entry| entry.server == ServerHold::Missing).count();
        if missing != self.missing_entries.load(Ordering::SeqCst) {
            return Err(format!(
                "{missing} entries are missing but {} are counted",
                self.missing_entries.load(Ordering::SeqCst)
            ));
        }
        if self.entries.len() > self.ids_max {
            return Err(format!("{} ids tracked, more than {}", self.entries.len(), self.ids_max));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "holds_test.rs"]
mod tests;
