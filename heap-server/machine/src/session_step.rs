//! Session commands within one entry: opening sessions, exactly-once requests (the reply
//! table), leases, `Tick` and `Grace`, and ending sessions (Close or expiry).

use std::collections::BTreeSet;

use crate::command::{SessionCommand, SessionId, SessionRequest};
use crate::limits::{
    Limit, REPLIES_PER_SESSION_MAX, SESSIONS_MAX, SESSIONS_PER_OWNER_MAX, SESSION_TTL_MS_MAX, SESSION_TTL_MS_MIN,
};
use crate::names::{check_name, NameKind};
use crate::reply::{Rejection, Reply};
use crate::session::Session;
use crate::step::Step;

impl Step<'_> {
    /// Opens a session owned by the credential `owner`, within the total and per-owner quotas.
    pub fn open_session(&mut self, client: &str, ttl_ms: u64, owner: &str) -> Result<Reply, Rejection> {
        check_name(NameKind::Client, client)?;
        check_name(NameKind::Owner, owner)?;
        if !(SESSION_TTL_MS_MIN..=SESSION_TTL_MS_MAX).contains(&ttl_ms) {
            return Err(Rejection::InvalidTtl { ttl_ms });
        }
        // The per-owner quota first: a client that floods sessions hits its own quota and is
        // told so, long before the total is reached (SESSIONS_PER_OWNER_MAX < SESSIONS_MAX).
        let owned = self.heap.sessions_owned_by(owner);
        if owned >= SESSIONS_PER_OWNER_MAX {
            return Err(Rejection::LimitExceeded {
                what: Limit::SessionsPerOwner,
                limit: SESSIONS_PER_OWNER_MAX,
                actual: owned + 1,
            });
        }
        let open = self.heap.sessions.len() as u64;
        if open >= SESSIONS_MAX {
            return Err(Rejection::LimitExceeded { what: Limit::Sessions, limit: SESSIONS_MAX, actual: open + 1 });
        }
        let id = self.heap.next_session_id;
        // At most one session per log entry, and log indexes fit in u64.
        self.heap.next_session_id = id.checked_add(1).expect("one session id per log entry cannot run out");
        self.next_session_id_changed = true;
        let session = Session {
            client: client.to_string(),
            owner: owner.to_string(),
            ttl_ms,
            expires_at_ms: self.heap.now_ms.saturating_add(ttl_ms),
            acknowledged_below: 0,
        };
        let previous = self.heap.insert_session(id, session);
        assert!(previous.is_none(), "session id {id} handed out twice");
        self.session_changed(id);
        Ok(Reply::SessionOpened { session_id: id, ttl_ms })
    }

    /// Applies a session request exactly once: a retry of a stored `(session, sequence)` gets
    /// the stored reply (the final one once a pending request finished) and changes nothing.
    ///
    /// Only the session's owner may use it, checked before anything else: a request from
    /// another credential is refused with `NotSessionOwner` and changes nothing (no lease
    /// renewal, no acknowledgment, no stored reply, no dedup lookup that could hand it the
    /// owner's replies). The one exception is an admin's `Close`, which ends the session at once
    /// without touching its reply table: the admin's sequence numbers are not the owner's, so
    /// they must not be matched against, or stored among, the owner's replies. A retried admin
    /// Close finds `UnknownSession`, as a retried Close does.
    pub fn session_request(&mut self, request: &SessionRequest) -> Reply {
        let id = request.session_id;
        let sequence = request.sequence;
        let Some(owner) = self.heap.sessions.get(&id).map(|session| session.owner.as_str()) else {
            return Reply::Rejected(Rejection::UnknownSession { session_id: id });
        };
        if owner != request.caller.name {
            if request.caller.admin && matches!(request.command, SessionCommand::Close) {
                self.end_sessions(&[id]);
                return Reply::Done;
            }
            return Reply::Rejected(Rejection::NotSessionOwner { session_id: id, caller: request.caller.name.clone() });
        }
        let session = self.heap.sessions.get_mut(&id).expect("the session was found just above");
        if let Some(stored) = self.heap.replies.get(&(id, sequence)) {
            return stored.clone();
        }
        if request.acknowledged_below > session.acknowledged_below {
            session.acknowledged_below = request.acknowledged_below;
            self.session_changed(id);
        }
        self.forget_acknowledged(id);
        // Any new request shows the client is alive, even one refused below.
        self.renew_lease(id);
        let acknowledged_below = self.heap.sessions.get(&id).map_or(0, |session| session.acknowledged_below);
        if sequence < acknowledged_below {
            return Reply::Rejected(Rejection::SequenceTooOld { session_id: id, sequence, acknowledged_below });
        }
        // A keep-alive is idempotent and its answer carries nothing: it is never stored, so a
        // session whose lock request waits for a long time does not fill its reply table with
        // keep-alives (the acknowledgement watermark cannot pass the waiting request).
        let stored_reply = !matches!(request.command, SessionCommand::KeepAlive);
        let stored = self.replies_of(id).len() as u64;
        if stored_reply && stored >= REPLIES_PER_SESSION_MAX {
            return Reply::Rejected(Rejection::LimitExceeded {
                what: Limit::PendingReplies,
                limit: REPLIES_PER_SESSION_MAX,
                actual: stored + 1,
            });
        }
        let reply = self.session_command(id, sequence, &request.command);
        // Close deletes the session with its reply table; a retried Close gets UnknownSession.
        if stored_reply && self.heap.sessions.contains_key(&id) {
            self.store_reply(id, sequence, reply.clone());
        }
        reply
    }

    fn session_command(&mut self, id: SessionId, sequence: u64, command: &SessionCommand) -> Reply {
        let outcome = match command {
            SessionCommand::Transaction(transaction) => self
                .transaction(transaction, Some(id))
                .map(|created| Reply::Committed { log_index: self.log_index, created }),
            SessionCommand::KeepAlive => Ok(Reply::Done),
            SessionCommand::Close => {
                self.end_sessions(&[id]);
                Ok(Reply::Done)
            }
            SessionCommand::Lock { name, thread, mode, timeout_ms } => {
                self.lock(id, sequence, name, *thread, *mode, *timeout_ms)
            }
            SessionCommand::Unlock { name, thread, commit } => self.unlock(id, name, *thread, commit.as_ref()),
            SessionCommand::Wait { name, thread, timeout_ms } => {
                self.wait(id, sequence, name, *thread, *thread, *timeout_ms)
            }
            SessionCommand::WaitAs { name, holder, thread, timeout_ms } => {
                self.wait(id, sequence, name, *holder, *thread, *timeout_ms)
            }
            SessionCommand::Notify { name, thread, all } => self.notify(id, name, *thread, *all),
            SessionCommand::Hold { ids } => self.hold(id, ids),
            SessionCommand::Release { ids } => self.release(id, ids),
        };
        outcome.unwrap_or_else(Reply::Rejected)
    }

    /// The sequences of every reply the session has stored, ascending.
    fn replies_of(&self, id: SessionId) -> Vec<u64> {
        self.heap.replies.range((id, 0)..=(id, u64::MAX)).map(|((_, sequence), _)| *sequence).collect()
    }

    /// Forgets final replies below the session's acknowledged sequence. Pending ones stay:
    /// their final reply is still to come and the waiter needs somewhere to put it; once final
    /// it goes at the session's next new request.
    fn forget_acknowledged(&mut self, id: SessionId) {
        let acknowledged_below = self.heap.sessions.get(&id).map_or(0, |session| session.acknowledged_below);
        let acknowledged: Vec<u64> = self
            .heap
            .replies
            .range((id, 0)..(id, acknowledged_below))
            .filter(|(_, reply)| **reply != Reply::Pending)
            .map(|((_, sequence), _)| *sequence)
            .collect();
        for sequence in acknowledged {
            self.forget_reply(id, sequence);
        }
    }

    fn renew_lease(&mut self, id: SessionId) {
        let now_ms = self.heap.now_ms;
        if let Some(session) = self.heap.sessions.get_mut(&id) {
            let renewed = now_ms.saturating_add(session.ttl_ms).max(session.expires_at_ms);
            if renewed != session.expires_at_ms {
                session.expires_at_ms = renewed;
                self.session_changed(id);
            }
        }
    }

    /// Expires every session whose lease has run out, then times out due Lock and Wait
    /// requests, in lock-name order.
    pub fn tick(&mut self) -> Reply {
        let now_ms = self.heap.now_ms;
        let expired = self.heap.index.sessions_due(now_ms);
        self.end_sessions(&expired);
        for name in self.heap.index.locks_due(now_ms) {
            self.expire_waits(&name);
        }
        // Otherwise the leader would propose Tick after Tick for a deadline that never clears.
        assert!(
            self.heap.index.next_deadline_ms().is_none_or(|deadline_ms| deadline_ms > now_ms),
            "a deadline at or before {now_ms} survived a Tick"
        );
        Reply::Done
    }

    /// Renews every lease from now: the time a new leader took to be elected does not count
    /// against the clients, which could not reach anyone meanwhile.
    pub fn grace(&mut self) -> Reply {
        let ids: Vec<SessionId> = self.heap.sessions.keys().copied().collect();
        for id in ids {
            self.renew_lease(id);
        }
        Reply::Done
    }

    /// Extends every session's lease by `gap_ms` (the time no leader could renew it), at most to
    /// a full lease from now, never shortening one.
    pub fn resume_leases(&mut self, gap_ms: u64) -> Reply {
        let now_ms = self.heap.now_ms;
        let ids: Vec<SessionId> = self.heap.sessions.keys().copied().collect();
        for id in ids {
            let Some(session) = self.heap.sessions.get_mut(&id) else { continue };
            let resumed = session.expires_at_ms.saturating_add(gap_ms).min(now_ms.saturating_add(session.ttl_ms));
            if resumed > session.expires_at_ms {
                session.expires_at_ms = resumed;
                self.session_changed(id);
            }
        }
        Reply::Done
    }

    /// Ends sessions (Close or expiry) together: their holds are released and their waits
    /// dropped on every lock first, then each lock grants its queue, so nothing is granted to a
    /// session that is ending. Then the sessions and their reply tables are deleted; a request
    /// that was pending finds `UnknownSession`, which the server reports as `SessionExpired`.
    /// Their object holds end: `Command::Collect` drops them in bounded batches, after which
    /// objects nothing else references or holds are collected.
    pub fn end_sessions(&mut self, ids: &[SessionId]) {
        let mut names = BTreeSet::new();
        for id in ids {
            names.extend(self.heap.index.locks_of(*id));
        }
        for name in &names {
            let lock = self.heap.locks.get_mut(name).expect("the index lists only locks in use");
            for id in ids {
                lock.remove_session(*id);
            }
            self.grant_waiters(name);
            self.lock_changed(name);
        }
        for id in ids {
            for sequence in self.replies_of(*id) {
                self.forget_reply(*id, sequence);
            }
            self.heap.remove_session(*id);
            self.session_changed(*id);
        }
    }
}
