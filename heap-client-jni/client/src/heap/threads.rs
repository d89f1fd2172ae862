//! What each application thread has open: the cluster locks it holds (with reentrancy counts) and
//! the changes it made under them, to be committed with the next release.

use std::collections::BTreeMap;

use proto::heap as pb;

/// Changes one thread may buffer under a lock before it must release it (one transaction).
pub const PENDING_OPS_MAX: usize = 10_000;

#[derive(Default)]
pub struct ThreadState {
    /// Lock name -> hold count.
    pub holds: BTreeMap<String, u32>,
    /// The highest grant log index of the locks this thread holds (reads must reflect it).
    pub grant_index: u64,
    /// Ops made under the held locks, not yet committed.
    pub ops: Vec<pb::Op>,
    /// This thread's view of the objects it changed: reads see its own uncommitted writes.
    pub overlay: BTreeMap<u64, pb::Object>,
    /// Objects created by `ops`: the hold table learns how their create ended at the commit.
    pub created: Vec<u64>,
}

impl ThreadState {
    pub fn holds_any(&self) -> bool {
        !self.holds.is_empty()
    }

    pub fn is_idle(&self) -> bool {
        self.holds.is_empty() && self.ops.is_empty() && self.overlay.is_empty() && self.created.is_empty()
    }
}
