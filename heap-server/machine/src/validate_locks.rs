//! The invariants of sessions, stored replies and locks, checked by `Heap::validate`.

use std::collections::{BTreeMap, BTreeSet};

use crate::command::{LockMode, SessionId, SESSION_ID_FIRST};
use crate::fencing::token_log_index;
use crate::heap::Heap;
use crate::index::Index;
use crate::limits::{
    HOLDERS_PER_LOCK_MAX, LOCKS_MAX, REENTRANT_HOLDS_MAX, REPLIES_PER_SESSION_MAX, SESSIONS_MAX,
    SESSIONS_PER_OWNER_MAX, SESSION_TTL_MS_MAX, SESSION_TTL_MS_MIN, WAITERS_PER_LOCK_MAX,
};
use crate::lock::Lock;
use crate::names::{check_name, NameKind};
use crate::reply::Reply;

impl Heap {
    /// Sessions: ids below `next_session_id`, TTLs in bounds, leases no longer than a TTL from
    /// now, valid client and owner names, each owner within its quota and the derived
    /// `sessions_per_owner` equal to a fresh count. Replies: of existing sessions, within the
    /// per-session bound, `Pending` exactly for the requests of waiters. Locks: see
    /// `validate_lock`. The derived index equals a fresh build.
    pub(crate) fn validate_sessions_and_locks(&self) -> Result<(), String> {
        if self.next_session_id < SESSION_ID_FIRST {
            return Err(format!("next_session_id {} is below the first id {SESSION_ID_FIRST}", self.next_session_id));
        }
        let open = self.sessions.len() as u64;
        if open > SESSIONS_MAX {
            return Err(format!("{open} sessions, over the limit of {SESSIONS_MAX}"));
        }
        for (id, session) in &self.sessions {
            if *id < SESSION_ID_FIRST || *id >= self.next_session_id {
                return Err(format!("session {id} is outside {SESSION_ID_FIRST}..{}", self.next_session_id));
            }
            if !(SESSION_TTL_MS_MIN..=SESSION_TTL_MS_MAX).contains(&session.ttl_ms) {
                return Err(format!("session {id} has ttl {} ms", session.ttl_ms));
            }
            if session.expires_at_ms > self.now_ms.saturating_add(session.ttl_ms) {
                return Err(format!(
                    "session {id} expires at {}, more than its ttl after now {}",
                    session.expires_at_ms, self.now_ms
                ));
            }
            check_name(NameKind::Client, &session.client).map_err(|error| format!("session {id}: {error}"))?;
            check_name(NameKind::Owner, &session.owner).map_err(|error| format!("session {id}: {error}"))?;
            let stored = self.replies.range((*id, 0)..=(*id, u64::MAX)).count() as u64;
            if stored > REPLIES_PER_SESSION_MAX {
                return Err(format!("session {id} stores {stored} replies, over {REPLIES_PER_SESSION_MAX}"));
            }
        }
        let mut per_owner: BTreeMap<String, u64> = BTreeMap::new();
        for session in self.sessions.values() {
            *per_owner.entry(session.owner.clone()).or_insert(0) += 1;
        }
        if let Some((owner, owned)) = per_owner.iter().find(|(_, owned)| **owned > SESSIONS_PER_OWNER_MAX) {
            return Err(format!("owner {owner:?} has {owned} sessions, over the limit of {SESSIONS_PER_OWNER_MAX}"));
        }
        if self.sessions_per_owner != per_owner {
            return Err(format!(
                "the sessions-per-owner count {:?} does not match the sessions {per_owner:?}",
                self.sessions_per_owner
            ));
        }
        let mut pending = BTreeSet::new();
        for ((id, sequence), reply) in &self.replies {
            if !self.sessions.contains_key(id) {
                return Err(format!("reply {sequence} of missing session {id}"));
            }
            // A final reply may sit below the acknowledged sequence: it was pending when the
            // client acknowledged past it, and goes at the session's next request.
            if *reply == Reply::Pending {
                pending.insert((*id, *sequence));
            }
        }

        let in_use = self.locks.len() as u64;
        if in_use > LOCKS_MAX {
            return Err(format!("{in_use} locks, over the limit of {LOCKS_MAX}"));
        }
        let mut waiting = BTreeSet::new();
        for (name, lock) in &self.locks {
            self.validate_lock(lock, &mut waiting).map_err(|error| format!("lock {name:?}: {error}"))?;
            check_name(NameKind::Lock, name).map_err(|error| format!("lock {name:?}: {error}"))?;
        }
        if pending != waiting {
            let orphan = pending.difference(&waiting).next();
            let unstored = waiting.difference(&pending).next();
            return Err(format!("pending replies without a waiter: {orphan:?}; waiters without one: {unstored:?}"));
        }
        if self.index != Index::build(self.sessions.iter(), self.locks.iter()) {
            return Err("the session and lock index does not match the state".to_string());
        }
        Ok(())
    }

    /// One lock: in use; holders compatible, within bounds, of existing sessions, with tokens
    /// increasing up to `last_token`, which comes from an applied entry; every thread at most
    /// once; the queue head not grantable (the grant loop ran). Adds the `(session, sequence)` of
    /// every waiter to `waiting`, each at most once.
    fn validate_lock(&self, lock: &Lock, waiting: &mut BTreeSet<(SessionId, u64)>) -> Result<(), String> {
        if lock.is_unused() {
            return Err("nobody holds it or waits for it, yet it was not removed".to_string());
        }
        let holders = lock.holders.len() as u64;
        if holders > HOLDERS_PER_LOCK_MAX {
            return Err(format!("{holders} holders, over {HOLDERS_PER_LOCK_MAX}"));
        }
        let writers = lock.holders.iter().filter(|holder| holder.mode == LockMode::Write).count();
        if writers > 1 {
            return Err(format!("{writers} write holders"));
        }
        if writers == 1 && holders > 1 {
            return Err("a write holder shares it with other holders".to_string());
        }
        if token_log_index(lock.last_token) > self.applied_index {
            return Err(format!("last token {} is not from an applied entry", lock.last_token));
        }
        let mut previous_token = None;
        let mut threads = BTreeSet::new();
        for holder in &lock.holders {
            if previous_token.is_some_and(|previous| holder.token <= previous) || holder.token > lock.last_token {
                return Err(format!("holder token {} out of order (last token {})", holder.token, lock.last_token));
            }
            previous_token = Some(holder.token);
            if !(1..=REENTRANT_HOLDS_MAX).contains(&holder.count) {
                return Err(format!("a holder has count {}", holder.count));
            }
            self.check_thread(holder.session_id, holder.thread, &mut threads)?;
        }
        let waiters = lock.waiter_count();
        if waiters > WAITERS_PER_LOCK_MAX {
            return Err(format!("{waiters} waiters, over {WAITERS_PER_LOCK_MAX}"));
        }
        for waiter in &lock.queue {
            self.check_thread(waiter.session_id, waiter.thread, &mut threads)?;
            if let Some(resume) = waiter.resume {
                if waiter.mode != LockMode::Write || waiter.deadline_ms.is_some() {
                    return Err("a woken Wait re-acquires other than for writing without limit".to_string());
                }
                if !(1..=REENTRANT_HOLDS_MAX).contains(&resume.count) {
                    return Err(format!("a woken Wait resumes with count {}", resume.count));
                }
            }
            if !waiting.insert((waiter.session_id, waiter.sequence)) {
                return Err(format!("request {} of session {} waits twice", waiter.sequence, waiter.session_id));
            }
        }
        for waiter in &lock.condition_waiters {
            self.check_thread(waiter.session_id, waiter.thread, &mut threads)?;
            if !(1..=REENTRANT_HOLDS_MAX).contains(&waiter.count) {
                return Err(format!("a condition waiter has count {}", waiter.count));
            }
            if !waiting.insert((waiter.session_id, waiter.sequence)) {
                return Err(format!("request {} of session {} waits twice", waiter.sequence, waiter.session_id));
            }
        }
        if lock.queue.front().is_some_and(|head| lock.admits(head.mode)) {
            return Err("the queue head could be granted but was not".to_string());
        }
        Ok(())
    }

    /// A thread of an existing session, seen once per lock.
    fn check_thread(
        &self,
        session_id: SessionId,
        thread: u64,
        threads: &mut BTreeSet<(SessionId, u64)>,
    ) -> Result<(), String> {
        if !self.sessions.contains_key(&session_id) {
            return Err(format!("thread {thread} of missing session {session_id}"));
        }
        if !threads.insert((session_id, thread)) {
            return Err(format!("thread {thread} of session {session_id} appears twice"));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::command::LockMode;
    use crate::heap::Heap;
    use crate::lock::{Holder, Waiter};
    use crate::reply::Reply;
    use crate::test_support::Driver;

    /// Session 1 holds "L" for writing; session 2 waits for it with request 1.
    fn heap_with_a_queue() -> Heap {
        let mut driver = Driver::new();
        let holder = driver.open(1_000);
        let waiter = driver.open(1_000);
        driver.lock_now(holder, "L", 1);
        driver.lock(waiter, "L", 1, LockMode::Read);
        driver.heap
    }

    fn corrupt(change: impl FnOnce(&mut Heap)) -> String {
        let mut heap = heap_with_a_queue();
        change(&mut heap);
        heap.validate().unwrap_err()
    }

    fn lock(heap: &mut Heap) -> &mut crate::lock::Lock {
        heap.locks.get_mut("L").unwrap()
    }

    #[test]
    fn each_broken_lock_invariant_is_found() {
        let second_writer = |heap: &mut Heap| {
            let token = lock(heap).last_token;
            lock(heap).holders.push(Holder { session_id: 2, thread: 9, mode: LockMode::Write, count: 1, token });
        };
        assert!(corrupt(second_writer).contains("2 write holders"));
        assert!(corrupt(|h| lock(h).holders[0].session_id = 7).contains("missing session 7"));
        assert!(corrupt(|h| lock(h).holders[0].count = 0).contains("count 0"));
        assert!(corrupt(|h| lock(h).last_token = u64::MAX).contains("not from an applied entry"));
        assert!(corrupt(|h| lock(h).holders.clear()).contains("could be granted"));
        assert!(corrupt(|h| {
            lock(h).queue.clear();
        })
        .contains("pending replies without a waiter"));
        assert!(corrupt(|h| {
            h.replies.insert((2, 1), Reply::Done);
        })
        .contains("waiters without one"));
        assert!(corrupt(|h| {
            let waiter =
                Waiter { session_id: 1, thread: 1, mode: LockMode::Read, sequence: 9, deadline_ms: None, resume: None };
            lock(h).queue.push_back(waiter);
        })
        .contains("appears twice"));
        assert!(corrupt(|h| h.sessions.get_mut(&1).unwrap().ttl_ms = 1).contains("ttl 1 ms"));
        assert!(corrupt(|h| h.sessions.get_mut(&1).unwrap().expires_at_ms = u64::MAX).contains("more than its ttl"));
        assert!(corrupt(|h| h.next_session_id = 2).contains("outside"));
        assert!(corrupt(|h| h.sessions.get_mut(&1).unwrap().owner = "x".to_string()).contains("sessions-per-owner"));
        assert!(corrupt(|h| {
            h.sessions_per_owner.insert("test".to_string(), 5);
        })
        .contains("sessions-per-owner"));
        assert!(corrupt(|h| h.sessions_per_owner.clear()).contains("sessions-per-owner"));
        assert!(corrupt(|h| {
            h.sessions.get_mut(&1).unwrap().owner = String::new();
            h.sessions_per_owner.insert(String::new(), 1);
            h.sessions_per_owner.insert("test".to_string(), 1);
        })
        .contains("owner"));
        assert!(corrupt(|h| {
            h.locks.get_mut("L").unwrap().queue[0].deadline_ms = Some(5);
        })
        .contains("index does not match"));
    }
}
