//! Waiting for the state machine's lock without stalling the async runtime.
//!
//! A node runs on a tokio runtime with one worker per core (two here). A snapshot of a large heap
//! holds the machine's read lock for seconds while it is encoded; an apply batch waiting for the
//! write lock, and every read queued behind that writer, used to block their worker thread for as
//! long. With both workers blocked nothing else ran: no heartbeats left the leader, the followers
//! started elections (seen at 10 million objects with no fault injected). So a lock that is not
//! free at once is waited for in `block_in_place`, which hands the worker's other tasks to another
//! thread first; the free case, nearly every call, costs one `try_*`.

use std::sync::LockResult;
use std::sync::RwLock;
use std::sync::RwLockReadGuard;
use std::sync::RwLockWriteGuard;
use std::sync::TryLockError;
use std::sync::TryLockResult;

use tokio::runtime::Handle;
use tokio::runtime::RuntimeFlavor;

/// Runs `wait`, which may block for long, without keeping a runtime worker from its other tasks.
/// On a current-thread runtime (tests) there is no other worker to hand them to: it just runs.
pub(crate) fn blocking_wait<R>(wait: impl FnOnce() -> R) -> R {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(wait),
        _ => wait(),
    }
}

/// `lock.read()`, waiting off the runtime when a writer has it or waits for it.
pub(crate) fn read<T>(lock: &RwLock<T>) -> LockResult<RwLockReadGuard<'_, T>> {
    untried(lock.try_read()).unwrap_or_else(|| blocking_wait(|| lock.read()))
}

/// `lock.write()`, waiting off the runtime when anyone has it.
pub(crate) fn write<T>(lock: &RwLock<T>) -> LockResult<RwLockWriteGuard<'_, T>> {
    untried(lock.try_write()).unwrap_or_else(|| blocking_wait(|| lock.write()))
}

/// The attempt's outcome, or `None` when the lock was taken and must be waited for.
fn untried<G>(attempt: TryLockResult<G>) -> Option<LockResult<G>> {
    match attempt {
        Ok(guard) => Some(Ok(guard)),
        Err(TryLockError::Poisoned(poisoned)) => Some(Err(poisoned)),
        Err(TryLockError::WouldBlock) => None,
    }
}
