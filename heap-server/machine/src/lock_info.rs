//! What operators, tests and the change feed see of the locks in use: `Heap::locks` and
//! `Heap::lock_is_contended`.

use serde::{Deserialize, Serialize};

use crate::command::{LockMode, SessionId};
use crate::heap::Heap;
use crate::lock::{ConditionWaiter, Waiter};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub name: String,
    /// `None` when nobody holds it (only condition waiters are left).
    pub mode: Option<LockMode>,
    /// In grant order.
    pub holders: Vec<HolderInfo>,
    /// The FIFO queue, head first.
    pub waiters: Vec<WaiterInfo>,
    /// Threads in `Wait`, in the order they called it.
    pub condition_waiters: Vec<WaiterInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderInfo {
    pub session_id: SessionId,
    pub thread: u64,
    pub mode: LockMode,
    pub token: u64,
    /// Reentrant holds.
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiterInfo {
    pub session_id: SessionId,
    pub thread: u64,
    /// `Write` for condition waiters and woken Waits: they re-acquire the write lock.
    pub mode: LockMode,
    /// The request that gets the final reply.
    pub sequence: u64,
    /// In the machine's clock; `None` waits without limit.
    pub deadline_ms: Option<u64>,
    /// For a woken Wait in the queue: whether it was notified (false: timed out). `None` for a
    /// Lock and for condition waiters.
    pub notified: Option<bool>,
}

impl From<&Waiter> for WaiterInfo {
    fn from(waiter: &Waiter) -> Self {
        WaiterInfo {
            session_id: waiter.session_id,
            thread: waiter.thread,
            mode: waiter.mode,
            sequence: waiter.sequence,
            deadline_ms: waiter.deadline_ms,
            notified: waiter.resume.map(|resume| resume.notified),
        }
    }
}

impl From<&ConditionWaiter> for WaiterInfo {
    fn from(waiter: &ConditionWaiter) -> Self {
        WaiterInfo {
            session_id: waiter.session_id,
            thread: waiter.thread,
            mode: LockMode::Write,
            sequence: waiter.sequence,
            deadline_ms: waiter.deadline_ms,
            notified: None,
        }
    }
}

impl Heap {
    /// Every lock in use, sorted by name.
    pub fn locks(&self) -> Vec<LockInfo> {
        self.locks
            .iter()
            .map(|(name, lock)| LockInfo {
                name: name.clone(),
                mode: lock.mode(),
                holders: lock
                    .holders
                    .iter()
                    .map(|holder| HolderInfo {
                        session_id: holder.session_id,
                        thread: holder.thread,
                        mode: holder.mode,
                        token: holder.token,
                        count: holder.count,
                    })
                    .collect(),
                waiters: lock.queue.iter().map(WaiterInfo::from).collect(),
                condition_waiters: lock.condition_waiters.iter().map(WaiterInfo::from).collect(),
            })
            .collect()
    }

    /// Whether someone holds the lock `name` while a Lock or a woken Wait is queued behind them:
    /// a client keeping the lock greedily (after its threads released it) should give it back.
    /// Condition waiters do not count: they wait for a Notify, not for the lock.
    pub fn lock_is_contended(&self, name: &str) -> bool {
        self.locks.get(name).is_some_and(|lock| !lock.holders.is_empty() && !lock.queue.is_empty())
    }
}

#[cfg(test)]
#[path = "lock_info_test.rs"]
mod tests;
