//! The sequence numbers of one session's requests and the acknowledgement each request carries:
//! every reply below `acknowledged_below` has been received, so the cluster may forget it and
//! refuses any request numbered below it. A number is allocated and marked in flight in one step
//! under one lock; allocated first and marked later, a concurrent request could acknowledge past
//! it, and the cluster would then refuse it as already answered.

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::cluster::ClientError;

#[derive(Debug)]
pub struct Sequences {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    next: u64,
    in_flight: BTreeSet<u64>,
}

impl Default for Sequences {
    fn default() -> Self {
        Self { state: Mutex::new(State { next: 1, in_flight: BTreeSet::new() }) }
    }
}

impl Sequences {
    /// A new request's number, in flight from this moment.
    pub fn begin(&self) -> Result<u64, ClientError> {
        let mut state = self.lock()?;
        let sequence = state.next;
        state.next += 1;
        state.in_flight.insert(sequence);
        Ok(sequence)
    }

    /// What request `sequence` (in flight) may acknowledge: below the oldest request still in flight.
    pub fn acknowledged_below(&self, sequence: u64) -> Result<u64, ClientError> {
        Ok(self.lock()?.in_flight.iter().next().copied().unwrap_or(sequence))
    }

    /// Request `sequence` has its final answer (or was given up).
    pub fn end(&self, sequence: u64) {
        if let Ok(mut state) = self.state.lock() {
            state.in_flight.remove(&sequence);
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, ClientError> {
        self.state.lock().map_err(|_| ClientError::Request("session lock poisoned".into()))
    }
}

#[cfg(test)]
#[path = "sequences_test.rs"]
mod tests;
