//! Unit tests of sessions: opening, leases, exactly-once requests and the reply table, Tick,
//! Grace, Close and expiry.

#![allow(clippy::unwrap_used)]

use crate::command::{Command, Envelope, LockMode, SessionCommand, SessionRequest, Transaction};
use crate::heap::Heap;
use crate::image::{lock_key, reply_key, session_key};
use crate::limits::{
    Limit, REPLIES_PER_SESSION_MAX, SESSIONS_MAX, SESSIONS_PER_OWNER_MAX, SESSION_TTL_MS_MAX, SESSION_TTL_MS_MIN,
};
use crate::object::ObjectKind;
use crate::reply::{Rejection, Reply};
use crate::session::Session;
use crate::session_info::{OwnedRequestState, SessionInfo};
use crate::test_support::{admin, caller, create, final_reply, without_applied, Driver, TEST_OWNER};

fn open_session(client: &str, ttl_ms: u64) -> Command {
    Command::OpenSession { client: client.to_string(), ttl_ms, owner: TEST_OWNER.to_string() }
}

fn request(session_id: u64, sequence: u64, acknowledged_below: u64, command: SessionCommand) -> Command {
    Command::Session(SessionRequest { session_id, caller: caller(TEST_OWNER), sequence, acknowledged_below, command })
}

fn create_object() -> SessionCommand {
    SessionCommand::Transaction(Transaction {
        expect: Vec::new(),
        fences: Vec::new(),
        ops: vec![create(0, ObjectKind::Map)],
    })
}

#[test]
fn sessions_open_with_counted_ids_and_bounded_ttls() {
    let mut driver = Driver::new();
    driver.leader_time_ms = 1_000;
    assert_eq!(driver.apply(open_session("a", 2_000)), Reply::SessionOpened { session_id: 1, ttl_ms: 2_000 });
    assert_eq!(driver.apply(open_session("", SESSION_TTL_MS_MIN)), Reply::SessionOpened { session_id: 2, ttl_ms: 500 });
    for ttl_ms in [0, SESSION_TTL_MS_MIN - 1, SESSION_TTL_MS_MAX + 1] {
        assert_eq!(driver.apply(open_session("b", ttl_ms)), Reply::Rejected(Rejection::InvalidTtl { ttl_ms }));
    }
    assert!(matches!(driver.apply(open_session("bad\n", 1_000)), Reply::Rejected(Rejection::InvalidName { .. })));
    assert_eq!(
        driver.heap.sessions(),
        vec![
            SessionInfo {
                id: 1,
                client: "a".to_string(),
                owner: TEST_OWNER.to_string(),
                ttl_ms: 2_000,
                expires_at_ms: 3_000
            },
            SessionInfo {
                id: 2,
                client: String::new(),
                owner: TEST_OWNER.to_string(),
                ttl_ms: 500,
                expires_at_ms: 1_500
            },
        ]
    );
    assert_eq!(driver.heap.next_session_id(), 3);
    assert_eq!(driver.heap.next_deadline_ms(), Some(1_500));
}

#[test]
fn sessions_are_bounded() {
    let mut heap = Heap::new();
    // Spread over owners so that no owner reaches its own quota: the total is what is full.
    let owners = SESSIONS_MAX / SESSIONS_PER_OWNER_MAX + 1;
    for id in 1..=SESSIONS_MAX {
        let owner = format!("owner-{}", id % owners);
        let session =
            Session { client: String::new(), owner, ttl_ms: 1_000, expires_at_ms: 1_000, acknowledged_below: 0 };
        heap.insert_session(id, session);
    }
    let envelope = Envelope { leader_time_ms: 0, command: open_session("c", 1_000) };
    assert_eq!(
        heap.apply_command(1, &envelope, &mut Vec::new()),
        Reply::Rejected(Rejection::LimitExceeded {
            what: Limit::Sessions,
            limit: SESSIONS_MAX,
            actual: SESSIONS_MAX + 1
        })
    );
}

#[test]
fn the_clock_never_goes_back() {
    let mut driver = Driver::new();
    driver.leader_time_ms = 100;
    driver.apply(Command::Tick);
    driver.leader_time_ms = 50;
    driver.apply(Command::Tick);
    assert_eq!(driver.heap.now_ms(), 100);
    let session = driver.open(1_000);
    assert_eq!(driver.heap.sessions()[0].expires_at_ms, 1_100, "leases count from the machine's clock");
    assert_eq!(driver.heap.request_state(session, 1).into_owned(), OwnedRequestState::NotApplied);
}

#[test]
fn requests_of_unknown_sessions_change_nothing() {
    let mut driver = Driver::new();
    let before = driver.heap.export();
    assert_eq!(
        driver.apply(request(7, 1, 0, SessionCommand::KeepAlive)),
        Reply::Rejected(Rejection::UnknownSession { session_id: 7 })
    );
    assert_eq!(without_applied(&before), without_applied(&driver.heap.export()));
    assert_eq!(driver.state(7, 1), OwnedRequestState::UnknownSession);
}

#[test]
fn a_retried_request_gets_the_first_reply_and_changes_nothing() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    let first = driver.apply(request(session, 1, 0, create_object()));
    assert_eq!(first, Reply::Committed { log_index: 2, created: vec![(0, 1)] });
    assert_eq!(driver.state(session, 1), final_reply(first.clone()));

    driver.leader_time_ms = 400;
    let before = driver.heap.export();
    assert_eq!(driver.apply(request(session, 1, 0, create_object())), first);
    assert_eq!(without_applied(&before), without_applied(&driver.heap.export()), "not even the lease is renewed");
    assert_eq!(driver.heap.object_count(), 1);

    // Dedup survives a snapshot.
    let image = driver.heap.export();
    driver.heap.clear();
    for (key, value) in &image {
        driver.heap.load(key, value).unwrap();
    }
    assert_eq!(driver.apply(request(session, 1, 0, create_object())), first);
    assert_eq!(driver.heap.object_count(), 1);
}

#[test]
fn rejected_requests_are_stored_too() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    let unlock = SessionCommand::Unlock { name: "L".to_string(), thread: 1, commit: None };
    let rejected = Reply::Rejected(Rejection::NotHolder { lock: "L".to_string(), thread: 1 });
    let (sequence, reply) = driver.send(session, unlock.clone());
    assert_eq!(reply, rejected);
    driver.lock_now(session, "L", 1);
    assert_eq!(driver.apply(request(session, sequence, 0, unlock)), rejected, "the retry does not unlock");
    assert_eq!(driver.heap.locks()[0].holders.len(), 1);
}

#[test]
fn acknowledged_replies_are_forgotten_but_pending_ones_stay() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    let other = driver.open(1_000);
    driver.lock_now(other, "L", 1);
    driver.apply(request(session, 1, 0, SessionCommand::KeepAlive));
    let lock = SessionCommand::Lock { name: "L".to_string(), thread: 1, mode: LockMode::Read, timeout_ms: None };
    assert_eq!(driver.apply(request(session, 2, 0, lock)), Reply::Pending);
    driver.apply(request(session, 3, 0, SessionCommand::KeepAlive));

    assert_eq!(driver.apply(request(session, 4, 4, SessionCommand::KeepAlive)), Reply::Done);
    assert_eq!(driver.state(session, 1), OwnedRequestState::NotApplied);
    assert_eq!(driver.state(session, 2), OwnedRequestState::Pending, "a pending reply is kept until final");
    assert_eq!(driver.state(session, 3), OwnedRequestState::NotApplied);
    assert_eq!(
        driver.apply(request(session, 3, 0, SessionCommand::KeepAlive)),
        Reply::Rejected(Rejection::SequenceTooOld { session_id: session, sequence: 3, acknowledged_below: 4 })
    );
    // A lower acknowledgment does not lower the watermark.
    assert!(matches!(
        driver.apply(request(session, 1, 0, SessionCommand::KeepAlive)),
        Reply::Rejected(Rejection::SequenceTooOld { .. })
    ));
    driver.unlock(other, "L", 1);
    assert_eq!(
        driver.state(session, 2),
        final_reply(Reply::LockGranted { token: driver.heap.applied_index() * 65_536 })
    );
    // A retry still finds the now final reply, until the next new request forgets it.
    assert!(matches!(driver.apply(request(session, 2, 0, SessionCommand::KeepAlive)), Reply::LockGranted { .. }));
    driver.apply(request(session, 5, 5, SessionCommand::KeepAlive));
    assert_eq!(driver.state(session, 2), OwnedRequestState::NotApplied);
}

#[test]
fn the_reply_table_is_bounded_until_the_client_acknowledges() {
    let mut heap = Heap::new();
    let mut index = 0;
    let mut apply = |heap: &mut Heap, command: Command| {
        index += 1;
        heap.apply_command(index, &Envelope { leader_time_ms: 0, command }, &mut Vec::new())
    };
    apply(&mut heap, open_session("c", 1_000));
    // Notify of a lock the session does not hold: a stored (rejected) reply each time.
    let notify = || SessionCommand::Notify { name: "L".to_string(), thread: 1, all: false };
    for sequence in 1..=REPLIES_PER_SESSION_MAX {
        assert!(matches!(
            apply(&mut heap, request(1, sequence, 0, notify())),
            Reply::Rejected(Rejection::NotHolder { .. })
        ));
    }
    let full = REPLIES_PER_SESSION_MAX + 1;
    assert_eq!(
        apply(&mut heap, request(1, full, 0, notify())),
        Reply::Rejected(Rejection::LimitExceeded {
            what: Limit::PendingReplies,
            limit: REPLIES_PER_SESSION_MAX,
            actual: full
        })
    );
    assert_eq!(heap.request_state(1, full).into_owned(), OwnedRequestState::NotApplied, "not stored");
    // Keep-alives are never stored, so a full table does not stop them.
    assert_eq!(apply(&mut heap, request(1, full + 1, 0, SessionCommand::KeepAlive)), Reply::Done);
    assert_eq!(apply(&mut heap, request(1, full, full, SessionCommand::KeepAlive)), Reply::Done);
    heap.validate().unwrap();
}

#[test]
fn requests_renew_the_lease_and_tick_expires_sessions_whose_lease_ran_out() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    let idle = driver.open(2_000);
    driver.leader_time_ms = 900;
    assert_eq!(driver.send(session, SessionCommand::KeepAlive).1, Reply::Done);
    assert_eq!(driver.heap.sessions()[0].expires_at_ms, 1_900);
    assert_eq!(driver.heap.next_deadline_ms(), Some(1_900));
    driver.tick_at(1_899);
    assert_eq!(driver.heap.sessions().len(), 2);
    driver.tick_at(1_900);
    assert_eq!(driver.heap.sessions().iter().map(|info| info.id).collect::<Vec<_>>(), vec![idle]);
    assert_eq!(
        driver.send(session, SessionCommand::KeepAlive).1,
        Reply::Rejected(Rejection::UnknownSession { session_id: session })
    );
    assert_eq!(driver.heap.next_deadline_ms(), Some(2_000));
}

#[test]
fn grace_renews_every_lease_so_a_failover_expires_nobody() {
    let mut driver = Driver::new();
    let short = driver.open(1_000);
    let long = driver.open(5_000);
    driver.leader_time_ms = 2_000;
    driver.send(long, SessionCommand::KeepAlive); // expires at 7_000
                                                  // A new leader takes over at 4_000: the short session's lease ran out during the election.
    driver.leader_time_ms = 4_000;
    assert_eq!(driver.apply(Command::Grace), Reply::Done);
    let expiries: Vec<u64> = driver.heap.sessions().iter().map(|info| info.expires_at_ms).collect();
    assert_eq!(expiries, vec![5_000, 9_000], "renewed from now, never shortened");
    driver.tick_at(4_000);
    assert_eq!(driver.heap.sessions().len(), 2);
    driver.tick_at(5_000);
    assert_eq!(driver.heap.sessions().iter().map(|info| info.id).collect::<Vec<_>>(), vec![long]);
    assert_eq!(driver.state(short, 1), OwnedRequestState::UnknownSession);
}

/// A new leader's `ResumeLeases` gives each lease back the time the clock skipped since the
/// entry before (nobody could renew then), never more than a full lease from now: a session
/// whose client is gone still ends, however often leaders change.
#[test]
fn resume_leases_gives_back_the_leaderless_time_only() {
    let mut driver = Driver::new();
    let gone = driver.open(1_000); // expires at 1_000; its client never renews
    let live = driver.open(5_000);
    driver.leader_time_ms = 900;
    driver.send(live, SessionCommand::KeepAlive); // expires at 5_900
                                                  // No leader from 900 to 1_300: the gone session's deadline fell inside the gap.
    driver.leader_time_ms = 1_300;
    assert_eq!(driver.apply(Command::ResumeLeases), Reply::Done);
    let expiries: Vec<u64> = driver.heap.sessions().iter().map(|info| info.expires_at_ms).collect();
    assert_eq!(expiries, vec![1_400, 6_300], "each extended by the 400 ms gap");
    // Leaders keep changing every 300 ms: each gives back only its own gap, 100 ms here.
    for leader_time_ms in [1_350, 1_450] {
        driver.leader_time_ms = leader_time_ms;
        driver.apply(Command::ResumeLeases);
    }
    assert_eq!(driver.heap.sessions()[0].expires_at_ms, 1_550, "50 + 100 ms more, not a fresh lease");
    driver.tick_at(1_550);
    let left: Vec<u64> = driver.heap.sessions().iter().map(|info| info.id).collect();
    assert_eq!(left, vec![live], "session {gone} ended");
    // A long gap (an idle cluster, then a failover) gives back all of it: 6_450 + 58_450.
    driver.leader_time_ms = 60_000;
    driver.apply(Command::ResumeLeases);
    assert_eq!(driver.heap.sessions()[0].expires_at_ms, 64_900);
    // Never past a full lease from now: renewed at 60_000, then a gap of 10 s.
    driver.send(live, SessionCommand::KeepAlive);
    driver.leader_time_ms = 70_000;
    driver.apply(Command::ResumeLeases);
    assert_eq!(
        driver.heap.sessions()[0].expires_at_ms,
        75_000,
        "65_000 + 10_000, which is a full lease from now: the most it may be"
    );
}

#[test]
fn expiry_releases_locks_grants_waiters_and_ends_pending_requests() {
    let mut driver = Driver::new();
    let dying = driver.open(1_000);
    let living = driver.open(10_000);
    driver.lock_now(dying, "A", 1);
    driver.lock_now(living, "B", 1);
    let (waiting_for_a, reply) = driver.lock(living, "A", 1, LockMode::Write);
    assert_eq!(reply, Reply::Pending);
    let (waiting_for_b, reply) = driver.lock(dying, "B", 2, LockMode::Read);
    assert_eq!(reply, Reply::Pending);

    driver.tick_at(1_000);
    let token = driver.heap.applied_index() * 65_536;
    assert_eq!(driver.state(living, waiting_for_a), final_reply(Reply::LockGranted { token }));
    assert_eq!(driver.state(dying, waiting_for_b), OwnedRequestState::UnknownSession);
    let locks = driver.heap.locks();
    assert_eq!(locks.len(), 2);
    assert!(locks.iter().all(|lock| lock.waiters.is_empty() && lock.holders[0].session_id == living));
    assert_eq!(driver.heap.sessions().len(), 1);
}

#[test]
fn close_releases_everything_and_forgets_the_session() {
    let mut driver = Driver::new();
    let closing = driver.open(1_000);
    let other = driver.open(1_000);
    driver.send(closing, create_object());
    driver.lock_now(closing, "L", 1);
    driver.lock_now(closing, "L", 1);
    let (queued, _) = driver.lock(other, "L", 7, LockMode::Read);
    let (close, reply) = driver.send(closing, SessionCommand::Close);
    assert_eq!(reply, Reply::Done);
    let token = driver.heap.applied_index() * 65_536;
    assert_eq!(driver.state(other, queued), final_reply(Reply::LockGranted { token }));
    assert_eq!(driver.state(closing, close), OwnedRequestState::UnknownSession);
    assert_eq!(driver.heap.object_count(), 1, "objects outlive sessions");
    assert!(driver.heap.export().iter().all(|(key, _)| !key.starts_with(&session_key(closing))));
    assert_eq!(
        driver.send(closing, SessionCommand::KeepAlive).1,
        Reply::Rejected(Rejection::UnknownSession { session_id: closing })
    );
}

#[test]
fn the_image_holds_sessions_replies_locks_and_the_clock() {
    let mut driver = Driver::new();
    driver.leader_time_ms = 5;
    let session = driver.open(1_000);
    driver.lock_now(session, "L", 3);
    let keys: Vec<Vec<u8>> = driver.heap.export().into_iter().map(|(key, _)| key).collect();
    assert!(keys.contains(&lock_key("L")));
    assert!(keys.contains(&session_key(session)));
    assert!(keys.contains(&reply_key(session, 1)));
    let now = driver.heap.export().into_iter().find(|(key, _)| key == b"m/now_ms").unwrap().1;
    assert_eq!(now, 5u64.to_be_bytes().to_vec());
}

#[test]
fn sessions_need_a_valid_owner() {
    let mut driver = Driver::new();
    let open_as = |owner: String| Command::OpenSession { client: "c".to_string(), ttl_ms: 1_000, owner };
    let too_long = "o".repeat(crate::limits::NAME_LENGTH_BYTES_MAX as usize + 1);
    for owner in [String::new(), "app\n".to_string(), too_long] {
        let reply = driver.apply(open_as(owner.clone()));
        assert!(
            matches!(&reply, Reply::Rejected(Rejection::InvalidName { what, .. }) if what.contains("owner")),
            "owner {owner:?} gave {reply:?}"
        );
    }
    assert!(driver.heap.sessions().is_empty());
    let longest = "o".repeat(crate::limits::NAME_LENGTH_BYTES_MAX as usize);
    assert!(matches!(driver.apply(open_as(longest.clone())), Reply::SessionOpened { .. }));
    assert_eq!(driver.heap.sessions()[0].owner, longest, "the largest session header still fits its decode bound");
}

/// Every request of another credential on a session, with each session command and even with
/// a sequence the owner used, is refused and changes nothing: not the lease, not the
/// acknowledgment watermark, not the reply table, not a lock, not an object.
#[test]
fn another_credential_cannot_use_a_session() {
    let mut driver = Driver::new();
    let alice = caller("alice");
    let session = driver.open_as("alice", 1_000);
    let (_, granted) = driver.send_as(
        alice.clone(),
        session,
        SessionCommand::Lock { name: "L".to_string(), thread: 1, mode: LockMode::Write, timeout_ms: None },
    );
    let Reply::LockGranted { token } = granted else { panic!("lock not granted: {granted:?}") };
    driver.leader_time_ms = 600;

    let fenced = Transaction {
        expect: Vec::new(),
        fences: vec![("L".to_string(), token)],
        ops: vec![create(0, ObjectKind::Map)],
    };
    let commands = vec![
        SessionCommand::Lock { name: "L".to_string(), thread: 2, mode: LockMode::Write, timeout_ms: None },
        SessionCommand::Lock { name: "M".to_string(), thread: 1, mode: LockMode::Write, timeout_ms: None },
        SessionCommand::Unlock { name: "L".to_string(), thread: 1, commit: Some(fenced.clone()) },
        SessionCommand::Wait { name: "L".to_string(), thread: 1, timeout_ms: None },
        SessionCommand::Notify { name: "L".to_string(), thread: 1, all: true },
        SessionCommand::KeepAlive,
        SessionCommand::Close,
        SessionCommand::Transaction(fenced),
    ];
    let refused =
        |name: &str| Reply::Rejected(Rejection::NotSessionOwner { session_id: session, caller: name.to_string() });
    for command in commands {
        // An admin may only close another credential's session, so it is refused the rest too.
        let mut intruders = vec![caller("mallory")];
        if command != SessionCommand::Close {
            intruders.push(admin("root"));
        }
        for intruder in intruders {
            let before = driver.heap.export();
            for (sequence, acknowledged_below) in [(1, 0), (99, 99)] {
                let request = SessionRequest {
                    session_id: session,
                    caller: intruder.clone(),
                    sequence,
                    acknowledged_below,
                    command: command.clone(),
                };
                assert_eq!(driver.apply(Command::Session(request)), refused(&intruder.name), "{command:?}");
                assert_eq!(
                    without_applied(&before),
                    without_applied(&driver.heap.export()),
                    "{command:?} changed state"
                );
            }
            assert_eq!(driver.state(session, 99), OwnedRequestState::NotApplied, "no reply stored");
        }
    }
    assert_eq!(driver.heap.sessions()[0].expires_at_ms, 1_000, "the lease was not renewed");
    assert_eq!(driver.heap.object_count(), 0);

    // The owner still has its session, lock and stored reply.
    assert_eq!(driver.state(session, 1), final_reply(Reply::LockGranted { token }));
    let unlock = SessionCommand::Unlock { name: "L".to_string(), thread: 1, commit: None };
    assert_eq!(driver.send_as(alice, session, unlock).1, Reply::Unlocked { commit: None });
    // An unknown session is still reported as unknown, whoever asks.
    assert_eq!(
        driver.send_as(caller("mallory"), 77, SessionCommand::KeepAlive).1,
        Reply::Rejected(Rejection::UnknownSession { session_id: 77 })
    );
}

#[test]
fn an_admin_closes_another_credentials_session_and_its_locks_are_released() {
    let mut driver = Driver::new();
    let victim = driver.open_as("alice", 1_000);
    let other = driver.open_as("bob", 1_000);
    let lock = |thread| SessionCommand::Lock { name: "L".to_string(), thread, mode: LockMode::Write, timeout_ms: None };
    assert!(matches!(driver.send_as(caller("alice"), victim, lock(1)).1, Reply::LockGranted { .. }));
    let (queued, reply) = driver.send_as(caller("bob"), other, lock(1));
    assert_eq!(reply, Reply::Pending);

    // Sequence 1 is the victim's stored Lock: the admin's Close must not be answered from the
    // victim's reply table, nor acknowledge its replies; it closes the session.
    let close = SessionRequest {
        session_id: victim,
        caller: admin("root"),
        sequence: 1,
        acknowledged_below: u64::MAX,
        command: SessionCommand::Close,
    };
    assert_eq!(driver.apply(Command::Session(close.clone())), Reply::Done);
    let token = driver.heap.applied_index() * 65_536;
    assert_eq!(driver.state(other, queued), final_reply(Reply::LockGranted { token }));
    assert_eq!(driver.state(victim, 1), OwnedRequestState::UnknownSession);
    assert!(driver.heap.export().iter().all(|(key, _)| !key.starts_with(&session_key(victim))));
    assert_eq!(driver.heap.sessions_owned_by("alice"), 0);
    assert_eq!(driver.heap.sessions_owned_by("bob"), 1);
    // A retried admin Close finds the session gone, as a retried Close does.
    assert_eq!(
        driver.apply(Command::Session(close)),
        Reply::Rejected(Rejection::UnknownSession { session_id: victim })
    );
}

#[test]
fn the_per_owner_count_follows_open_close_and_expiry() {
    let mut driver = Driver::new();
    let first = driver.open_as("alice", 1_000);
    driver.open_as("alice", 5_000);
    driver.open_as("bob", 1_000);
    assert_eq!(driver.heap.sessions_owned_by("alice"), 2);
    assert_eq!(driver.heap.sessions_owned_by("bob"), 1);
    assert_eq!(driver.heap.sessions_owned_by("carol"), 0);
    assert_eq!(driver.send_as(caller("alice"), first, SessionCommand::Close).1, Reply::Done);
    assert_eq!(driver.heap.sessions_owned_by("alice"), 1);
    driver.tick_at(1_000);
    assert_eq!(driver.heap.sessions_owned_by("alice"), 1);
    assert!(!driver.heap.sessions_per_owner.contains_key("bob"), "an owner without sessions has no entry");
    driver.tick_at(5_000);
    assert!(driver.heap.sessions_per_owner.is_empty());
    // Driver::apply checked after every entry that validate() agrees and that load rebuilt the
    // same count from the image.
}

#[test]
fn loading_an_image_rebuilds_the_per_owner_count() {
    let mut driver = Driver::new();
    driver.open_as("alice", 1_000);
    driver.open_as("alice", 1_000);
    driver.open_as("bob", 1_000);
    let image = driver.heap.export();
    let mut loaded = Heap::new();
    for (key, value) in &image {
        loaded.load(key, value).unwrap();
    }
    // Loading a session key again replaces the session and does not count it twice.
    let (key, value) = image.iter().find(|(key, _)| *key == session_key(1)).unwrap();
    loaded.load(key, value).unwrap();
    loaded.validate().unwrap();
    assert_eq!(loaded.sessions_owned_by("alice"), 2);
    assert_eq!(loaded.sessions_owned_by("bob"), 1);
    assert_eq!(loaded, driver.heap);
}

/// One credential that opens sessions in a loop fills its own quota; everyone else can still
/// open sessions, and the flooder can again once one of its sessions ends.
#[test]
fn one_owner_cannot_take_every_session() {
    let mut heap = Heap::new();
    let mut index = 0;
    let mut apply = |heap: &mut Heap, leader_time_ms: u64, command: Command| {
        index += 1;
        heap.apply_command(index, &Envelope { leader_time_ms, command }, &mut Vec::new())
    };
    let open_as =
        |owner: &str, ttl_ms| Command::OpenSession { client: String::new(), ttl_ms, owner: owner.to_string() };
    for _ in 0..SESSIONS_PER_OWNER_MAX - 1 {
        assert!(matches!(apply(&mut heap, 0, open_as("flood", 1_000)), Reply::SessionOpened { .. }));
    }
    let last = match apply(&mut heap, 0, open_as("flood", 2_000)) {
        Reply::SessionOpened { session_id, .. } => session_id,
        other => panic!("the last session within the quota gave {other:?}"),
    };
    let rejection = Rejection::LimitExceeded {
        what: Limit::SessionsPerOwner,
        limit: SESSIONS_PER_OWNER_MAX,
        actual: SESSIONS_PER_OWNER_MAX + 1,
    };
    assert!(rejection.to_string().contains("this credential has too many open sessions"));
    let over = Reply::Rejected(rejection);
    assert_eq!(apply(&mut heap, 0, open_as("flood", 1_000)), over);
    assert_eq!(heap.sessions_owned_by("flood"), SESSIONS_PER_OWNER_MAX);
    assert!(matches!(apply(&mut heap, 0, open_as("honest", 1_000)), Reply::SessionOpened { .. }));
    heap.validate().unwrap();

    let close = SessionRequest {
        session_id: last,
        caller: caller("flood"),
        sequence: 1,
        acknowledged_below: 0,
        command: SessionCommand::Close,
    };
    assert_eq!(apply(&mut heap, 0, Command::Session(close)), Reply::Done);
    assert!(matches!(apply(&mut heap, 0, open_as("flood", 1_000)), Reply::SessionOpened { .. }));
    assert_eq!(apply(&mut heap, 0, open_as("flood", 1_000)), over);

    // Expiry frees the quota too.
    apply(&mut heap, 1_000, Command::Tick);
    assert_eq!(heap.sessions_owned_by("flood"), 0);
    assert!(heap.sessions_per_owner.is_empty());
    assert!(matches!(apply(&mut heap, 1_000, open_as("flood", 1_000)), Reply::SessionOpened { .. }));
    heap.validate().unwrap();
}
