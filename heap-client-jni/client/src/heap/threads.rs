//! What each application thread has open: the cluster locks it holds (with reentrancy counts and
//! how each is held) and the changes it made under them, to be committed with the next release.

use std::collections::BTreeMap;

use proto::heap as pb;

/// Reentrant holds of one lock by one thread (counted locally; the cluster sees one hold).
pub const REENTRANT_HOLDS_MAX: u32 = 1 << 20;
/// Changes one thread may buffer under a lock before it must release it (one transaction).
pub const PENDING_OPS_MAX: usize = 10_000;

/// How a thread holds a cluster lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldKind {
    /// Locally, under the session's greedy hold (`greedy.rs`); commits are fenced with its token.
    Greedy { token: u64, read: bool },
    /// On the cluster as the thread itself: what a `wait` on a greedy lock comes back with.
    Direct,
}

#[derive(Default)]
pub struct ThreadState {
    /// Lock name -> hold count (reentrancy is counted here, never on the cluster).
    pub holds: BTreeMap<String, u32>,
    /// Lock name -> how it is held (the same names as `holds`).
    pub kinds: BTreeMap<String, HoldKind>,
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

    /// The fences of every lock this thread holds greedily: what a commit of its changes carries.
    pub fn greedy_fences(&self) -> Vec<(String, u64)> {
        self.kinds
            .iter()
            .filter_map(|(name, kind)| match kind {
                HoldKind::Greedy { token, .. } => Some((name.clone(), *token)),
                HoldKind::Direct => None,
            })
            .collect()
    }

    pub fn is_idle(&self) -> bool {
        self.holds.is_empty() && self.ops.is_empty() && self.overlay.is_empty() && self.created.is_empty()
    }
}
