//! Lock commands within one entry: Lock, Unlock (with commit-at-release), Wait and Notify, the
//! grant loop and timeouts. Every command checks everything before it changes anything.

use crate::command::{LockMode, SessionId, Transaction};
use crate::limits::{Limit, LOCKS_MAX, LOCK_TIMEOUT_MS_MAX, REENTRANT_HOLDS_MAX, WAITERS_PER_LOCK_MAX};
use crate::lock::{Lock, Waiter};
use crate::names::{check_name, NameKind};
use crate::reply::{Rejection, Reply};
use crate::step::Step;

impl Step<'_> {
    /// The deadline of a Lock or Wait with `timeout_ms`, in the machine's clock.
    fn deadline_ms(&self, timeout_ms: Option<u64>) -> Result<Option<u64>, Rejection> {
        match timeout_ms {
            None => Ok(None),
            Some(timeout_ms) if timeout_ms > LOCK_TIMEOUT_MS_MAX => Err(Rejection::InvalidTimeout { timeout_ms }),
            Some(timeout_ms) => Ok(Some(self.heap.now_ms.saturating_add(timeout_ms))),
        }
    }

    fn check_waiters(lock: &Lock) -> Result<(), Rejection> {
        let waiters = lock.waiter_count();
        if waiters >= WAITERS_PER_LOCK_MAX {
            return Err(Rejection::LimitExceeded {
                what: Limit::Waiters,
                limit: WAITERS_PER_LOCK_MAX,
                actual: waiters + 1,
            });
        }
        Ok(())
    }

    pub fn lock(
        &mut self,
        session_id: SessionId,
        sequence: u64,
        name: &str,
        thread: u64,
        mode: LockMode,
        timeout_ms: Option<u64>,
    ) -> Result<Reply, Rejection> {
        check_name(NameKind::Lock, name)?;
        let deadline_ms = self.deadline_ms(timeout_ms)?;
        if let Some(lock) = self.heap.locks.get_mut(name) {
            if let Some(position) = lock.holder_position(session_id, thread) {
                let holder = &mut lock.holders[position];
                // Two readers upgrading at once would each wait for the other forever.
                if holder.mode == LockMode::Read && mode == LockMode::Write {
                    return Err(Rejection::UpgradeRefused { lock: name.to_string() });
                }
                if holder.count >= REENTRANT_HOLDS_MAX {
                    return Err(Rejection::LimitExceeded {
                        what: Limit::ReentrantHolds,
                        limit: REENTRANT_HOLDS_MAX,
                        actual: holder.count + 1,
                    });
                }
                // Reentrant: a holder never queues behind others for a lock it has.
                holder.count += 1;
                let token = holder.token;
                self.lock_changed(name);
                return Ok(Reply::LockGranted { token });
            }
            if lock.is_waiting(session_id, thread) {
                return Err(Rejection::AlreadyWaiting { lock: name.to_string(), thread });
            }
        }
        match self.heap.locks.get_mut(name) {
            None => {
                let in_use = self.heap.locks.len() as u64;
                if in_use >= LOCKS_MAX {
                    return Err(Rejection::LimitExceeded { what: Limit::Locks, limit: LOCKS_MAX, actual: in_use + 1 });
                }
                let mut lock = Lock::default();
                let token = lock.grant(self.log_index, session_id, thread, mode, 1);
                self.heap.locks.insert(name.to_string(), lock);
                self.lock_changed(name);
                Ok(Reply::LockGranted { token })
            }
            Some(lock) if lock.grantable_now(mode) => {
                let token = lock.grant(self.log_index, session_id, thread, mode, 1);
                self.lock_changed(name);
                Ok(Reply::LockGranted { token })
            }
            Some(_) if timeout_ms == Some(0) => Ok(Reply::LockTimedOut),
            Some(lock) => {
                Self::check_waiters(lock)?;
                lock.queue.push_back(Waiter { session_id, thread, mode, sequence, deadline_ms, resume: None });
                self.lock_changed(name);
                Ok(Reply::Pending)
            }
        }
    }

    /// Releases one hold; `commit` applies first, in this entry, under the same rules as any
    /// transaction (fences included). If it is rejected the Unlock is too and the lock stays held.
    pub fn unlock(
        &mut self,
        session_id: SessionId,
        name: &str,
        thread: u64,
        commit: Option<&Transaction>,
    ) -> Result<Reply, Rejection> {
        check_name(NameKind::Lock, name)?;
        let not_holder = || Rejection::NotHolder { lock: name.to_string(), thread };
        let position = self
            .heap
            .locks
            .get(name)
            .and_then(|lock| lock.holder_position(session_id, thread))
            .ok_or_else(not_holder)?;
        let commit = match commit {
            Some(transaction) => Some((self.log_index, self.transaction(transaction, Some(session_id))?)),
            None => None,
        };
        // The transaction changed objects and roots only, so the holder is where it was.
        let lock = self.heap.locks.get_mut(name).expect("the holder was found above");
        let holder = &mut lock.holders[position];
        holder.count -= 1;
        if holder.count == 0 {
            lock.holders.remove(position);
            self.grant_waiters(name);
        }
        self.lock_changed(name);
        Ok(Reply::Unlocked { commit })
    }

    /// Releases the write lock `holder` holds entirely and makes `thread` (the same thread for a
    /// plain Wait; another of the session's threads for WaitAs) wait on its condition; the final
    /// reply comes when `thread` re-acquires the lock after a Notify or the timeout.
    pub fn wait(
        &mut self,
        session_id: SessionId,
        sequence: u64,
        name: &str,
        holder: u64,
        thread: u64,
        timeout_ms: Option<u64>,
    ) -> Result<Reply, Rejection> {
        check_name(NameKind::Lock, name)?;
        let deadline_ms = self.deadline_ms(timeout_ms)?;
        let not_holder = || Rejection::NotHolder { lock: name.to_string(), thread: holder };
        let lock = self.heap.locks.get_mut(name).ok_or_else(not_holder)?;
        let position = lock
            .holder_position(session_id, holder)
            .filter(|position| lock.holders[*position].mode == LockMode::Write)
            .ok_or_else(not_holder)?;
        // The waiter must not hold or wait for the lock by itself too: it would be in the lock twice.
        if holder != thread
            && (lock.holder_position(session_id, thread).is_some() || lock.is_waiting(session_id, thread))
        {
            return Err(Rejection::AlreadyWaiting { lock: name.to_string(), thread });
        }
        Self::check_waiters(lock)?;
        lock.begin_wait(position, thread, sequence, deadline_ms);
        self.grant_waiters(name);
        self.lock_changed(name);
        Ok(Reply::Pending)
    }

    pub fn notify(&mut self, session_id: SessionId, name: &str, thread: u64, all: bool) -> Result<Reply, Rejection> {
        check_name(NameKind::Lock, name)?;
        let not_holder = || Rejection::NotHolder { lock: name.to_string(), thread };
        let lock = self.heap.locks.get_mut(name).ok_or_else(not_holder)?;
        lock.holder_position(session_id, thread).ok_or_else(not_holder)?;
        lock.notify(all);
        // The notifier still holds the lock, so this grants nothing today; it keeps "the queue
        // head is never grantable" true without reasoning about it.
        self.grant_waiters(name);
        self.lock_changed(name);
        Ok(Reply::Done)
    }

    /// Grants the lock's queue from the head and gives each granted request its final reply.
    pub fn grant_waiters(&mut self, name: &str) {
        let Some(lock) = self.heap.locks.get_mut(name) else {
            return;
        };
        for grant in lock.grant_waiters(self.log_index) {
            self.finish_reply(grant.session_id, grant.sequence, grant.reply);
        }
    }

    /// Times out the lock's due Locks (final reply `LockTimedOut`) and moves its due Waits to
    /// the queue, then grants the queue: its head may have changed.
    pub fn expire_waits(&mut self, name: &str) {
        let now_ms = self.heap.now_ms;
        let lock = self.heap.locks.get_mut(name).expect("the index lists only locks in use");
        for (session_id, sequence) in lock.expire_waits(now_ms) {
            self.finish_reply(session_id, sequence, Reply::LockTimedOut);
        }
        self.grant_waiters(name);
        self.lock_changed(name);
    }
}
