//! The contract between raft-store and an application state machine (the heap).
//!
//! The state machine is pure: `apply` gets the log index and the opaque command bytes and returns
//! reply bytes, recording every key it changed in a `ChangeSet` (for the machine's own use, such
//! as a change feed; raft-store does not store it). raft-store snapshots the machine's key/value
//! image (`export_each`) and rebuilds the machine after a restart or snapshot install by `clear` +
//! `load` of every pair, then re-applies the log after the snapshot. The machine's full state must
//! therefore always equal its image.

/// Every persisted key a machine changed while applying one batch of entries.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    /// `(key, Some(value))` to write, `(key, None)` to delete; later writes to a key win.
    pub writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl ChangeSet {
    /// Records a write of `value` under `key`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.push((key, Some(value)));
    }
}

/// A machine's persisted image could not be loaded: the data on disk or in a snapshot is not what
/// this machine wrote. Fatal for the node.
#[derive(Debug, thiserror::Error)]
#[error("state machine image is corrupt at key {key:?}: {reason}; restore this node from a healthy peer (wipe its data dir)")]
pub struct LoadError {
    pub key: Vec<u8>,
    pub reason: String,
}

/// A deterministic application state machine driven by committed log entries.
pub trait Machine: Send + Sync + 'static {
    /// Applies one committed command. Must be deterministic: no clock, randomness, I/O or
    /// hash-order iteration. A command the machine rejects still returns a reply (the rejection).
    fn apply(&mut self, log_index: u64, command: &[u8], changes: &mut ChangeSet) -> Vec<u8>;

    /// Forgets all state, before an image is loaded.
    fn clear(&mut self);

    /// Loads one key/value pair of a persisted image.
    fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), LoadError>;

    /// The whole state as key/value pairs in ascending key order: exactly the pairs that the
    /// change sets have written and not deleted.
    fn export(&self) -> Vec<(Vec<u8>, Vec<u8>)>;

    /// How many pairs `export_each` gives (snapshots write the count first).
    fn export_len(&self) -> usize {
        self.export().len()
    }

    /// The pairs of `export`, in the same order, one at a time: snapshots are written from this
    /// without a copy of the whole image. Override it for a large machine (the default copies).
    fn export_each(&self, each: &mut dyn FnMut(&[u8], &[u8])) {
        for (key, value) in self.export() {
            each(&key, &value);
        }
    }

    /// Checks the machine's invariants after a whole image was loaded (`load` checks one pair at
    /// a time, so cross-pair invariants such as "no dangling reference" are checked here).
    fn validate(&self) -> Result<(), LoadError>;
}
