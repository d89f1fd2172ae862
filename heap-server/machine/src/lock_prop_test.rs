//! Property tests of sessions and locks: random interleavings of sessions, threads and a few
//! locks (Lock, Unlock with and without commits, Wait, Notify, KeepAlive, Close, Tick with a
//! leader clock that advances and sometimes lags, Grace, retries of earlier requests). After
//! every entry: mutual exclusion, FIFO grants, increasing tokens, every pending request on its
//! way to a final reply, retries answered from the reply table without changing the heap, plus
//! everything `Driver::apply` checks (validate, writes, snapshot round trip). Sessions belong to
//! two credentials; requests of one credential on the other's sessions (replayed with the
//! owner's sequences, as admin too) are refused and change nothing, and an admin's Close of
//! another credential's session ends it like expiry does. At the end every
//! wait has timed out and every session has ended, leaving no lock, waiter or reply behind, and
//! a replica fed the same log as bytes holds the same image.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::codec::{decode_reply, encode_envelope};
use crate::command::{Caller, Command, LockMode, SessionCommand, SessionId, SessionRequest, Transaction};
use crate::heap::Heap;
use crate::lock_info::LockInfo;
use crate::object::ObjectKind;
use crate::reply::{Rejection, Reply};
use crate::session_info::OwnedRequestState;
use crate::test_support::{create, without_applied, Driver};

const CASES: u32 = 128;
const LOCK_NAMES: [&str; 3] = ["a", "b", "c"];
/// The credentials that open sessions; each also plays the intruder on the other's sessions.
const OWNERS: [&str; 2] = ["p", "q"];
const THREADS: u64 = 3;
const TTL_MS_RANGE: std::ops::Range<u64> = 500..2_000;
/// Lock and Wait timeouts are below this, so the final phase knows when all have passed.
const TIMEOUT_MS_END: u64 = 400;
const ADVANCE_MS_END: u64 = 700;
/// How far a lagging leader's clock is behind.
const LAG_MS: u64 = 300;

#[derive(Debug, Clone)]
enum Action {
    Open {
        ttl_ms: u64,
        owner: Index,
    },
    Lock {
        session: Index,
        thread: u64,
        lock: Index,
        mode: LockMode,
        timeout_ms: Option<u64>,
    },
    /// `holder` picks a current holder when there is one; `commit` 0: none, 1: fenced with the
    /// holder's token, 2: fenced with a stale token (rejected, so the lock stays held).
    Unlock {
        holder: Index,
        commit: u8,
    },
    Wait {
        holder: Index,
        timeout_ms: Option<u64>,
    },
    Notify {
        holder: Index,
        all: bool,
    },
    KeepAlive {
        session: Index,
    },
    Close {
        session: Index,
    },
    Tick {
        advance_ms: u64,
    },
    Grace {
        advance_ms: u64,
    },
    /// Sends an earlier session request again, unchanged.
    Retry {
        request: Index,
    },
    /// Sends an earlier session request again as the other credential (an admin one if
    /// `admin`, with KeepAlive for Close): refused, changes nothing.
    Hijack {
        request: Index,
        admin: bool,
    },
    /// The other credential, an admin, closes the session.
    AdminClose {
        session: Index,
    },
}

#[derive(Debug, Clone)]
struct Step {
    action: Action,
    /// The client acknowledges every final reply it has received.
    acknowledge: bool,
    /// The entry carries a leader time behind the machine's clock.
    lagging: bool,
}

fn timeout() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![3 => Just(None), 1 => Just(Some(0)), 3 => (1..TIMEOUT_MS_END).prop_map(Some)]
}

fn mode() -> impl Strategy<Value = LockMode> {
    prop_oneof![Just(LockMode::Read), Just(LockMode::Write)]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        1 => (TTL_MS_RANGE, any::<Index>()).prop_map(|(ttl_ms, owner)| Action::Open { ttl_ms, owner }),
        8 => (any::<Index>(), 0..THREADS, any::<Index>(), mode(), timeout())
            .prop_map(|(session, thread, lock, mode, timeout_ms)| Action::Lock { session, thread, lock, mode, timeout_ms }),
        6 => (any::<Index>(), 0u8..3).prop_map(|(holder, commit)| Action::Unlock { holder, commit }),
        2 => (any::<Index>(), timeout().prop_map(|t| t.filter(|t| *t > 0)))
            .prop_map(|(holder, timeout_ms)| Action::Wait { holder, timeout_ms }),
        2 => (any::<Index>(), any::<bool>()).prop_map(|(holder, all)| Action::Notify { holder, all }),
        1 => any::<Index>().prop_map(|session| Action::KeepAlive { session }),
        1 => any::<Index>().prop_map(|session| Action::Close { session }),
        3 => (0..ADVANCE_MS_END).prop_map(|advance_ms| Action::Tick { advance_ms }),
        1 => (0..ADVANCE_MS_END).prop_map(|advance_ms| Action::Grace { advance_ms }),
        2 => any::<Index>().prop_map(|request| Action::Retry { request }),
        // Rare enough that sessions still live long enough to be notified while they wait.
        1 => prop_oneof![
            3 => (any::<Index>(), any::<bool>())
                .prop_map(|(request, admin)| Action::Hijack { request, admin }),
            1 => any::<Index>().prop_map(|session| Action::AdminClose { session }),
        ],
    ]
}

fn steps() -> impl Strategy<Value = (Vec<Step>, bool)> {
    let step = (action(), proptest::bool::weighted(0.7), proptest::bool::weighted(0.1))
        .prop_map(|(action, acknowledge, lagging)| Step { action, acknowledge, lagging });
    let opening = (TTL_MS_RANGE, any::<Index>()).prop_map(|(ttl_ms, owner)| Step {
        action: Action::Open { ttl_ms, owner },
        acknowledge: false,
        lagging: false,
    });
    (vec(opening, 3), vec(step, 0..48), any::<bool>()).prop_map(|(mut opening, rest, close_at_end)| {
        opening.extend(rest);
        (opening, close_at_end)
    })
}

/// What a pending request waits for, to check its final reply is of the right kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Lock,
    Wait,
}

/// A new session request and the lock it names, if any.
type NewRequest = (SessionRequest, Option<String>);

/// The client side of the test: sessions, sequences, requests sent, replies still pending.
struct Run {
    driver: Driver,
    /// Every session opened, alive or not, in order.
    sessions: Vec<SessionId>,
    /// The owner of every session opened.
    owners: BTreeMap<SessionId, String>,
    /// The owner of the session the `OpenSession` being applied opens.
    opening_owner: Option<String>,
    next_sequence: BTreeMap<SessionId, u64>,
    sent: Vec<SessionRequest>,
    pending: BTreeMap<(SessionId, u64), (String, Waiting)>,
    /// Every token seen per lock name, over the whole run.
    tokens: BTreeMap<String, BTreeSet<u64>>,
    /// The kinds of reply and outcome seen, to check the generator reaches them all.
    seen: BTreeSet<String>,
}

fn reply_kind(reply: &Reply) -> String {
    match reply {
        Reply::Rejected(rejection) => {
            let name = format!("{rejection:?}");
            let kind = name.split([' ', '(', '{']).next().unwrap_or("").to_string();
            match rejection {
                Rejection::LimitExceeded { what, .. } => format!("LimitExceeded {what:?}"),
                _ => kind,
            }
        }
        Reply::WaitDone { notified, .. } => format!("WaitDone notified={notified}"),
        Reply::Unlocked { commit } => format!("Unlocked commit={}", commit.is_some()),
        other => format!("{other:?}").split([' ', '(', '{']).next().unwrap_or("").to_string(),
    }
}

impl Run {
    fn new() -> Self {
        Run {
            driver: Driver::new(),
            sessions: Vec::new(),
            owners: BTreeMap::new(),
            opening_owner: None,
            next_sequence: BTreeMap::new(),
            sent: Vec::new(),
            pending: BTreeMap::new(),
            tokens: BTreeMap::new(),
            seen: BTreeSet::new(),
        }
    }

    fn session(&self, pick: &Index) -> Option<SessionId> {
        (!self.sessions.is_empty()).then(|| self.sessions[pick.index(self.sessions.len())])
    }

    /// `(lock, session, thread, token)` of a current holder, a write holder if `writers` and
    /// there is one.
    fn holder(&self, pick: &Index, writers: bool) -> Option<(String, SessionId, u64, u64)> {
        let all: Vec<(String, SessionId, u64, u64, LockMode)> = self
            .driver
            .heap
            .locks()
            .iter()
            .flat_map(|lock| lock.holders.iter().map(|h| (lock.name.clone(), h.session_id, h.thread, h.token, h.mode)))
            .collect();
        let preferred: Vec<_> = all.iter().filter(|h| !writers || h.4 == LockMode::Write).cloned().collect();
        let candidates = if preferred.is_empty() { all } else { preferred };
        (!candidates.is_empty()).then(|| {
            let (name, session, thread, token, _) = candidates[pick.index(candidates.len())].clone();
            (name, session, thread, token)
        })
    }

    fn request(&mut self, session_id: SessionId, acknowledge: bool, command: SessionCommand) -> SessionRequest {
        let sequence = *self.next_sequence.entry(session_id).and_modify(|next| *next += 1).or_insert(1);
        let oldest_pending =
            self.pending.keys().filter(|(id, _)| *id == session_id).map(|(_, sequence)| *sequence).min();
        let acknowledged_below = if acknowledge { oldest_pending.unwrap_or(sequence).min(sequence) } else { 0 };
        let caller = Caller { name: self.owner(session_id).to_string(), admin: false };
        SessionRequest { session_id, caller, sequence, acknowledged_below, command }
    }

    fn owner(&self, session_id: SessionId) -> &str {
        self.owners.get(&session_id).map(String::as_str).expect("requests go to sessions the run opened")
    }

    /// The credential that does not own the session.
    fn intruder(&self, session_id: SessionId) -> String {
        let owner = self.owner(session_id);
        OWNERS.iter().find(|name| **name != owner).expect("there are two owners").to_string()
    }

    /// The command for `step`, and the request it is if it is a session request.
    fn command(&mut self, step: &Step) -> Option<(Command, Option<NewRequest>)> {
        let session = |run: &mut Run, pick: &Index, command: SessionCommand, lock: Option<String>| {
            let id = run.session(pick)?;
            let request = run.request(id, step.acknowledge, command);
            Some((Command::Session(request.clone()), Some((request, lock))))
        };
        let holder_command =
            |run: &mut Run, pick: &Index, writers: bool, build: &dyn Fn(&str, u64, u64) -> SessionCommand| {
                let (name, id, thread, token) = run.holder(pick, writers)?;
                let request = run.request(id, step.acknowledge, build(&name, thread, token));
                Some((Command::Session(request.clone()), Some((request, Some(name)))))
            };
        match &step.action {
            Action::Open { ttl_ms, owner } => {
                let owner = OWNERS[owner.index(OWNERS.len())].to_string();
                self.opening_owner = Some(owner.clone());
                Some((Command::OpenSession { client: "c".to_string(), ttl_ms: *ttl_ms, owner }, None))
            }
            Action::Lock { session: pick, thread, lock, mode, timeout_ms } => {
                let name = LOCK_NAMES[lock.index(LOCK_NAMES.len())].to_string();
                let command =
                    SessionCommand::Lock { name: name.clone(), thread: *thread, mode: *mode, timeout_ms: *timeout_ms };
                session(self, pick, command, Some(name))
            }
            Action::Unlock { holder, commit } => holder_command(self, holder, false, &|name, thread, token| {
                let fence_token = if *commit == 2 { token.saturating_sub(1) } else { token };
                let transaction = Transaction {
                    expect: Vec::new(),
                    fences: vec![(name.to_string(), fence_token)],
                    ops: vec![create(0, ObjectKind::Map)],
                };
                let commit = (*commit > 0).then_some(transaction);
                SessionCommand::Unlock { name: name.to_string(), thread, commit }
            }),
            Action::Wait { holder, timeout_ms } => holder_command(self, holder, true, &|name, thread, _| {
                SessionCommand::Wait { name: name.to_string(), thread, timeout_ms: *timeout_ms }
            }),
            Action::Notify { holder, all } => holder_command(self, holder, false, &|name, thread, _| {
                SessionCommand::Notify { name: name.to_string(), thread, all: *all }
            }),
            Action::KeepAlive { session: pick } => session(self, pick, SessionCommand::KeepAlive, None),
            Action::Close { session: pick } => session(self, pick, SessionCommand::Close, None),
            Action::Tick { advance_ms } => {
                self.driver.leader_time_ms += advance_ms;
                Some((Command::Tick, None))
            }
            Action::Grace { advance_ms } => {
                self.driver.leader_time_ms += advance_ms;
                Some((Command::Grace, None))
            }
            Action::Retry { request } => {
                if self.sent.is_empty() {
                    return None;
                }
                let request = self.sent[request.index(self.sent.len())].clone();
                Some((Command::Session(request), None))
            }
            // Handled by `intrude`.
            Action::Hijack { .. } | Action::AdminClose { .. } => None,
        }
    }

    /// Another credential's request on a session: `Hijack` is refused and changes nothing but
    /// the bookkeeping; `AdminClose` ends the session (checked like every entry by
    /// `apply_checked`, and at the end that nothing of it is left behind).
    fn intrude(&mut self, step: &Step) -> Result<(), TestCaseError> {
        let (request, refused) = match &step.action {
            Action::Hijack { request, admin } => {
                if self.sent.is_empty() {
                    return Ok(());
                }
                let mut request = self.sent[request.index(self.sent.len())].clone();
                request.caller = Caller { name: self.intruder(request.session_id), admin: *admin };
                if *admin && request.command == SessionCommand::Close {
                    request.command = SessionCommand::KeepAlive;
                }
                (request, true)
            }
            Action::AdminClose { session } => {
                let Some(session_id) = self.session(session) else {
                    return Ok(());
                };
                let caller = Caller { name: self.intruder(session_id), admin: true };
                // Sequence 1 and a huge acknowledgment: the owner's sequences must not matter.
                let command = SessionCommand::Close;
                (SessionRequest { session_id, caller, sequence: 1, acknowledged_below: u64::MAX, command }, false)
            }
            _ => return Ok(()),
        };
        let session_id = request.session_id;
        let open = self.driver.heap.sessions().iter().any(|info| info.id == session_id);
        let image_before = self.driver.heap.export();
        let reply = self.apply_checked(Command::Session(request.clone()), None, None, step.lagging)?;
        let expected = match (open, refused) {
            (false, _) => Reply::Rejected(Rejection::UnknownSession { session_id }),
            (true, true) => Reply::Rejected(Rejection::NotSessionOwner { session_id, caller: request.caller.name }),
            (true, false) => Reply::Done,
        };
        prop_assert_eq!(&reply, &expected);
        if refused || !open {
            prop_assert_eq!(without_applied(&image_before), without_applied(&self.driver.heap.export()));
        } else {
            self.seen.insert("admin closed another credential's session".to_string());
            let state = self.driver.heap.request_state(session_id, 1).into_owned();
            prop_assert_eq!(state, OwnedRequestState::UnknownSession);
        }
        Ok(())
    }

    fn run_step(&mut self, step: &Step) -> Result<(), TestCaseError> {
        if matches!(step.action, Action::Hijack { .. } | Action::AdminClose { .. }) {
            return self.intrude(step);
        }
        let Some((command, session_request)) = self.command(step) else {
            return Ok(());
        };
        let retried = match (&step.action, &command) {
            (Action::Retry { .. }, Command::Session(request)) => Some(request.clone()),
            _ => None,
        };
        self.apply_checked(command, session_request, retried, step.lagging).map(|_| ())
    }

    /// Applies `command` (a new session request if `session_request`, a retry if `retried`)
    /// and checks every property that holds after each entry.
    fn apply_checked(
        &mut self,
        command: Command,
        session_request: Option<NewRequest>,
        retried: Option<SessionRequest>,
        lagging: bool,
    ) -> Result<Reply, TestCaseError> {
        let expected_retry = retried
            .as_ref()
            .map(|request| self.driver.heap.request_state(request.session_id, request.sequence).into_owned());
        let locks_before = self.driver.heap.locks();
        let image_before = self.driver.heap.export();

        let leader_time_ms = self.driver.leader_time_ms;
        if lagging {
            self.driver.leader_time_ms = leader_time_ms.saturating_sub(LAG_MS);
        }
        let reply = self.driver.apply(command);
        self.driver.leader_time_ms = leader_time_ms;
        self.seen.insert(reply_kind(&reply));

        if let (Some(request), Some(expected)) = (&retried, expected_retry) {
            self.check_retry(request, expected, &reply, &image_before)?;
        }
        let opening_owner = self.opening_owner.take();
        if let Reply::SessionOpened { session_id, .. } = reply {
            self.sessions.push(session_id);
            let owner = opening_owner.expect("only an OpenSession opens a session");
            self.owners.insert(session_id, owner);
        }
        let mut new_tokens: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        if let Some((request, lock)) = session_request {
            self.sent.push(request.clone());
            let waiting = match request.command {
                SessionCommand::Wait { .. } => Waiting::Wait,
                _ => Waiting::Lock,
            };
            match (&reply, lock) {
                (Reply::Pending, Some(lock)) => {
                    self.pending.insert((request.session_id, request.sequence), (lock, waiting));
                }
                (Reply::LockGranted { token }, Some(lock)) => {
                    Self::check_direct_grant(&locks_before, &request, &lock)?;
                    new_tokens.entry(lock).or_default().push(*token);
                }
                _ => {}
            }
        }
        let granted = self.collect_finished(&mut new_tokens)?;
        self.check_exclusion()?;
        self.check_fifo(&locks_before, &granted)?;
        self.check_tokens(new_tokens)?;
        Ok(reply)
    }

    /// A retry gets what the reply table held, and changes nothing but the bookkeeping.
    fn check_retry(
        &self,
        request: &SessionRequest,
        expected: OwnedRequestState,
        reply: &Reply,
        image_before: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), TestCaseError> {
        match expected {
            OwnedRequestState::UnknownSession => {
                let unknown = Reply::Rejected(Rejection::UnknownSession { session_id: request.session_id });
                prop_assert_eq!(reply, &unknown);
            }
            OwnedRequestState::Pending => prop_assert_eq!(reply, &Reply::Pending),
            OwnedRequestState::Final(stored) => prop_assert_eq!(reply, &stored),
            OwnedRequestState::NotApplied if matches!(request.command, SessionCommand::KeepAlive) => {
                // Keep-alives are never stored: a retry renews the lease again (or is too old).
                let expected = matches!(reply, Reply::Done | Reply::Rejected(Rejection::SequenceTooOld { .. }));
                prop_assert!(expected, "retried keep-alive got {:?}", reply);
                return Ok(());
            }
            OwnedRequestState::NotApplied => {
                // Refused the first time or forgotten after an acknowledgment: either way below
                // the watermark now.
                let too_old = matches!(reply, Reply::Rejected(Rejection::SequenceTooOld { .. }));
                prop_assert!(too_old, "retry of a forgotten request got {:?}", reply);
                return Ok(());
            }
        }
        prop_assert_eq!(without_applied(image_before), without_applied(&self.driver.heap.export()));
        Ok(())
    }

    /// Moves pending requests that finished to their outcome; returns the granted ones as
    /// `(lock, session, sequence)`, adding their tokens to `new_tokens`.
    fn collect_finished(
        &mut self,
        new_tokens: &mut BTreeMap<String, Vec<u64>>,
    ) -> Result<Vec<(String, SessionId, u64)>, TestCaseError> {
        let mut granted = Vec::new();
        let pending = std::mem::take(&mut self.pending);
        for ((session_id, sequence), (lock, waiting)) in pending {
            match self.driver.heap.request_state(session_id, sequence).into_owned() {
                OwnedRequestState::Pending => {
                    self.pending.insert((session_id, sequence), (lock, waiting));
                }
                OwnedRequestState::UnknownSession => {
                    self.seen.insert("pending request of an ended session".to_string());
                }
                OwnedRequestState::NotApplied => {
                    return Err(TestCaseError::fail(format!("pending request {sequence} of {session_id} forgotten")));
                }
                OwnedRequestState::Final(reply) => {
                    self.seen.insert(format!("final {}", reply_kind(&reply)));
                    let token = match (waiting, &reply) {
                        (Waiting::Lock, Reply::LockGranted { token })
                        | (Waiting::Wait, Reply::WaitDone { token, .. }) => Some(*token),
                        (Waiting::Lock, Reply::LockTimedOut) => None,
                        _ => return Err(TestCaseError::fail(format!("a {waiting:?} ended with {reply:?}"))),
                    };
                    if let Some(token) = token {
                        new_tokens.entry(lock.clone()).or_default().push(token);
                        granted.push((lock, session_id, sequence));
                    }
                }
            }
        }
        Ok(granted)
    }

    fn check_exclusion(&self) -> Result<(), TestCaseError> {
        for lock in self.driver.heap.locks() {
            let writers = lock.holders.iter().filter(|holder| holder.mode == LockMode::Write).count();
            prop_assert!(writers <= 1, "two write holders of {}", lock.name);
            prop_assert!(writers == 0 || lock.holders.len() == 1, "a writer shares {}", lock.name);
            let tokens: BTreeSet<u64> = lock.holders.iter().map(|holder| holder.token).collect();
            prop_assert_eq!(tokens.len(), lock.holders.len(), "holders of {} share a token", lock.name);
        }
        Ok(())
    }

    /// A Lock granted at once was reentrant or found nobody queued: it jumped no queue.
    fn check_direct_grant(before: &[LockInfo], request: &SessionRequest, name: &str) -> Result<(), TestCaseError> {
        let SessionCommand::Lock { thread, .. } = request.command else {
            return Ok(());
        };
        let Some(lock) = before.iter().find(|lock| lock.name == name) else {
            return Ok(());
        };
        let reentrant = lock.holders.iter().any(|h| h.session_id == request.session_id && h.thread == thread);
        prop_assert!(reentrant || lock.waiters.is_empty(), "thread {} jumped the queue of {}", thread, name);
        Ok(())
    }

    /// A request granted from the queue had no earlier waiter of its lock (queued, or on the
    /// condition and moved behind the queue) still queued after the entry.
    fn check_fifo(&self, before: &[LockInfo], granted: &[(String, SessionId, u64)]) -> Result<(), TestCaseError> {
        let after = self.driver.heap.locks();
        for (name, session_id, sequence) in granted {
            let lock = before.iter().find(|lock| &lock.name == name);
            let order: Vec<(SessionId, u64)> = lock
                .map(|lock| {
                    lock.waiters.iter().chain(&lock.condition_waiters).map(|w| (w.session_id, w.sequence)).collect()
                })
                .unwrap_or_default();
            let position = order.iter().position(|waiter| *waiter == (*session_id, *sequence));
            prop_assert!(position.is_some(), "request {} of {} granted without waiting", sequence, session_id);
            let still_queued: BTreeSet<(SessionId, u64)> = after
                .iter()
                .filter(|lock| &lock.name == name)
                .flat_map(|lock| lock.waiters.iter().map(|w| (w.session_id, w.sequence)))
                .collect();
            for earlier in &order[..position.unwrap_or(0)] {
                prop_assert!(
                    !still_queued.contains(earlier),
                    "{:?} granted before {:?} on {}",
                    (session_id, sequence),
                    earlier,
                    name
                );
            }
        }
        Ok(())
    }

    /// Every token not seen before is larger than every token seen before for its lock.
    fn check_tokens(&mut self, mut new_tokens: BTreeMap<String, Vec<u64>>) -> Result<(), TestCaseError> {
        for lock in self.driver.heap.locks() {
            new_tokens.entry(lock.name.clone()).or_default().extend(lock.holders.iter().map(|h| h.token));
        }
        for (name, tokens) in new_tokens {
            let seen = self.tokens.entry(name.clone()).or_default();
            let largest = seen.last().copied();
            let fresh: BTreeSet<u64> = tokens.into_iter().filter(|token| !seen.contains(token)).collect();
            if let (Some(largest), Some(smallest)) = (largest, fresh.first()) {
                prop_assert!(*smallest > largest, "lock {} token {} after {}", name, smallest, largest);
            }
            seen.extend(fresh);
        }
        Ok(())
    }

    /// Lets every timed wait pass while the sessions live, then ends every session, checking
    /// that nothing waits without end and nothing is left behind.
    fn finish(&mut self, close: bool) -> Result<(), TestCaseError> {
        self.run_step(&Step { action: Action::Grace { advance_ms: 0 }, acknowledge: false, lagging: false })?;
        self.run_step(&Step {
            action: Action::Tick { advance_ms: TIMEOUT_MS_END },
            acknowledge: false,
            lagging: false,
        })?;
        prop_assert_eq!(self.driver.heap.sessions().len(), self.live_sessions().len());
        for lock in self.driver.heap.locks() {
            let timed = lock.waiters.iter().chain(&lock.condition_waiters).find(|w| w.deadline_ms.is_some());
            prop_assert!(timed.is_none(), "a wait outlived its timeout: {:?}", timed);
        }
        if close {
            for session_id in self.live_sessions() {
                let request = self.request(session_id, false, SessionCommand::Close);
                let reply =
                    self.apply_checked(Command::Session(request.clone()), Some((request, None)), None, false)?;
                prop_assert_eq!(reply, Reply::Done);
            }
        } else {
            let far = crate::limits::SESSION_TTL_MS_MAX + 1;
            self.run_step(&Step { action: Action::Tick { advance_ms: far }, acknowledge: false, lagging: false })?;
        }
        prop_assert!(self.driver.heap.sessions().is_empty());
        prop_assert!(self.driver.heap.locks().is_empty());
        prop_assert!(self.driver.heap.replies.is_empty());
        prop_assert_eq!(self.driver.heap.next_deadline_ms(), None);
        prop_assert!(self.pending.is_empty(), "requests left pending: {:?}", self.pending);
        Ok(())
    }

    fn live_sessions(&self) -> Vec<SessionId> {
        self.driver.heap.sessions().iter().map(|info| info.id).collect()
    }
}

fn run(steps: &[Step], close_at_end: bool) -> Result<Run, TestCaseError> {
    let mut run = Run::new();
    for step in steps {
        run.run_step(step)?;
    }
    run.finish(close_at_end)?;
    Ok(run)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn locks_stay_exclusive_fair_and_finite((steps, close_at_end) in steps()) {
        let run = run(&steps, close_at_end)?;
        // Same log, same state: replaying the entries as bytes gives the same replies and image.
        let mut replica = Heap::new();
        for (position, (envelope, reply)) in run.driver.log.iter().enumerate() {
            let bytes = replica.apply(position as u64 + 1, &encode_envelope(envelope), &mut Vec::new());
            prop_assert_eq!(&decode_reply(&bytes).unwrap(), reply);
        }
        prop_assert_eq!(replica.export(), run.driver.heap.export());
    }
}

/// Guards the generator: the properties above say little unless runs reach these outcomes.
#[test]
fn generated_runs_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut seen = BTreeSet::new();
    for _ in 0..64 {
        let (steps, close_at_end) = steps().new_tree(&mut runner).unwrap().current();
        seen.extend(run(&steps, close_at_end).unwrap().seen);
    }
    for kind in [
        "LockGranted",
        "Pending",
        "LockTimedOut",
        "Done",
        "Unlocked commit=true",
        "Unlocked commit=false",
        "StaleFence",
        "UpgradeRefused",
        "AlreadyWaiting",
        "SequenceTooOld",
        "UnknownSession",
        "final LockGranted",
        "final LockTimedOut",
        "final WaitDone notified=true",
        "final WaitDone notified=false",
        "pending request of an ended session",
        "NotSessionOwner",
        "admin closed another credential's session",
    ] {
        assert!(seen.contains(kind), "no generated run reached {kind}; seen: {seen:?}");
    }
}
