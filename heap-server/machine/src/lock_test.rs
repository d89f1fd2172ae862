//! Unit tests of cluster locks: one `Lock`'s bookkeeping (tokens, the grant loop, entry sizes),
//! then the lock commands through the heap: grants and tokens, reentrancy, FIFO, try-lock and
//! timeouts, commit-at-release, fences, Wait and Notify, and the lock limits.

#![allow(clippy::unwrap_used)]

use crate::codec::encoded_size_bytes;
use crate::command::{Command, Envelope, LockMode, Op, SessionCommand, Target, Transaction};
use crate::heap::Heap;
use crate::limits::{
    Limit, HOLDERS_PER_LOCK_MAX, LOCKS_MAX, LOCK_ENTRY_SIZE_BYTES_MAX, LOCK_TIMEOUT_MS_MAX, REENTRANT_HOLDS_MAX,
    TOKENS_PER_LOG_INDEX, WAITERS_PER_LOCK_MAX,
};
use crate::lock::{ConditionWaiter, Holder, Lock, Resume, Waiter};
use crate::lock_info::{HolderInfo, WaiterInfo};
use crate::object::ObjectKind;
use crate::reply::{Rejection, Reply};
use crate::session_info::OwnedRequestState;
use crate::test_support::{caller, create, final_reply, Driver, TEST_OWNER};
use crate::value::Value;

#[test]
fn tokens_count_grants_within_an_entry() {
    let mut lock = Lock::default();
    assert_eq!(lock.grant(3, 1, 0, LockMode::Read, 1), 3 * TOKENS_PER_LOG_INDEX);
    assert_eq!(lock.grant(3, 1, 1, LockMode::Read, 1), 3 * TOKENS_PER_LOG_INDEX + 1);
    assert_eq!(lock.grant(4, 1, 2, LockMode::Read, 1), 4 * TOKENS_PER_LOG_INDEX);
    assert_eq!(lock.mode(), Some(LockMode::Read));
}

#[test]
fn the_grant_loop_stops_at_a_writer() {
    let mut lock = Lock::default();
    lock.grant(1, 1, 0, LockMode::Write, 1);
    let waiter =
        |thread, mode| Waiter { session_id: 2, thread, mode, sequence: thread, deadline_ms: None, resume: None };
    lock.queue.extend([waiter(1, LockMode::Read), waiter(2, LockMode::Read), waiter(3, LockMode::Write)]);
    assert!(lock.grant_waiters(2).is_empty());
    lock.remove_session(1);
    let grants = lock.grant_waiters(5);
    let tokens: Vec<Reply> = grants.into_iter().map(|grant| grant.reply).collect();
    let base = 5 * TOKENS_PER_LOG_INDEX;
    assert_eq!(tokens, vec![Reply::LockGranted { token: base }, Reply::LockGranted { token: base + 1 }]);
    assert_eq!(lock.queue.len(), 1);
}

/// `LOCK_SIZE_BYTES_MAX` assumes every holder and waiter encodes within the entry bound.
#[test]
fn largest_entries_fit_the_entry_bound() {
    let holder =
        Holder { session_id: u64::MAX, thread: u64::MAX, mode: LockMode::Write, count: u64::MAX, token: u64::MAX };
    let waiter = Waiter {
        session_id: u64::MAX,
        thread: u64::MAX,
        mode: LockMode::Write,
        sequence: u64::MAX,
        deadline_ms: Some(u64::MAX),
        resume: Some(Resume { count: u64::MAX, notified: true }),
    };
    let condition_waiter = ConditionWaiter {
        session_id: u64::MAX,
        thread: u64::MAX,
        sequence: u64::MAX,
        deadline_ms: Some(u64::MAX),
        count: u64::MAX,
    };
    assert!(encoded_size_bytes(&holder) <= LOCK_ENTRY_SIZE_BYTES_MAX);
    assert!(encoded_size_bytes(&waiter) <= LOCK_ENTRY_SIZE_BYTES_MAX);
    assert!(encoded_size_bytes(&condition_waiter) <= LOCK_ENTRY_SIZE_BYTES_MAX);
}

fn lock_with_timeout(name: &str, thread: u64, mode: LockMode, timeout_ms: Option<u64>) -> SessionCommand {
    SessionCommand::Lock { name: name.to_string(), thread, mode, timeout_ms }
}

fn wait(name: &str, thread: u64, timeout_ms: Option<u64>) -> SessionCommand {
    SessionCommand::Wait { name: name.to_string(), thread, timeout_ms }
}

fn notify(name: &str, thread: u64, all: bool) -> SessionCommand {
    SessionCommand::Notify { name: name.to_string(), thread, all }
}

fn unlock_with(name: &str, thread: u64, commit: Transaction) -> SessionCommand {
    SessionCommand::Unlock { name: name.to_string(), thread, commit: Some(commit) }
}

fn transaction(fences: Vec<(&str, u64)>, ops: Vec<Op>) -> Transaction {
    let fences = fences.into_iter().map(|(name, token)| (name.to_string(), token)).collect();
    Transaction { expect: Vec::new(), fences, ops }
}

fn set_field(id: u64, value: i64) -> Op {
    Op::SetField { target: Target::Id(id), field: "n".to_string(), value: Value::Int(value) }
}

/// The token of the `ordinal`-th grant in the entry just applied.
fn token_now(driver: &Driver, ordinal: u64) -> u64 {
    driver.heap.applied_index() * TOKENS_PER_LOG_INDEX + ordinal
}

fn holders(driver: &Driver, name: &str) -> Vec<HolderInfo> {
    driver.heap.locks().into_iter().find(|lock| lock.name == name).map(|lock| lock.holders).unwrap_or_default()
}

#[test]
fn a_free_lock_is_granted_with_a_token_from_the_log_index() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    let token = driver.lock_now(session, "L", 1);
    assert_eq!(token, 2 * TOKENS_PER_LOG_INDEX);
    let lock = &driver.heap.locks()[0];
    assert_eq!(lock.mode, Some(LockMode::Write));
    assert_eq!(
        lock.holders,
        vec![HolderInfo { session_id: session, thread: 1, mode: LockMode::Write, token, count: 1 }]
    );
    assert_eq!(driver.unlock(session, "L", 1), Reply::Unlocked { commit: None });
    assert!(driver.heap.locks().is_empty(), "an unused lock is removed");
}

#[test]
fn locks_are_reentrant_and_released_as_often_as_acquired() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    let token = driver.lock_now(session, "L", 1);
    assert_eq!(driver.lock(session, "L", 1, LockMode::Write).1, Reply::LockGranted { token });
    assert_eq!(driver.lock(session, "L", 1, LockMode::Read).1, Reply::LockGranted { token }, "read under write");
    assert_eq!(holders(&driver, "L")[0].count, 3);
    for _ in 0..3 {
        assert_eq!(driver.unlock(session, "L", 1), Reply::Unlocked { commit: None });
    }
    assert_eq!(
        driver.unlock(session, "L", 1),
        Reply::Rejected(Rejection::NotHolder { lock: "L".to_string(), thread: 1 })
    );
}

#[test]
fn a_read_lock_is_reentrant_but_never_upgraded() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    let (_, granted) = driver.lock(session, "L", 1, LockMode::Read);
    assert_eq!(driver.lock(session, "L", 1, LockMode::Read).1, granted);
    assert_eq!(
        driver.lock(session, "L", 1, LockMode::Write).1,
        Reply::Rejected(Rejection::UpgradeRefused { lock: "L".to_string() })
    );
    assert_eq!(holders(&driver, "L")[0].count, 2);
    // Another thread of the same session is another owner: it shares the read lock.
    assert!(matches!(driver.lock(session, "L", 2, LockMode::Read).1, Reply::LockGranted { .. }));
}

#[test]
fn other_threads_queue_and_a_queued_thread_cannot_ask_again() {
    let mut driver = Driver::new();
    let first = driver.open(1_000);
    let second = driver.open(1_000);
    driver.lock_now(first, "L", 1);
    let (queued, reply) = driver.lock(first, "L", 2, LockMode::Write);
    assert_eq!(reply, Reply::Pending);
    assert_eq!(driver.state(first, queued), OwnedRequestState::Pending);
    assert_eq!(
        driver.lock(first, "L", 2, LockMode::Read).1,
        Reply::Rejected(Rejection::AlreadyWaiting { lock: "L".to_string(), thread: 2 })
    );
    assert_eq!(driver.lock(second, "L", 1, LockMode::Read).1, Reply::Pending);
    let waiters: Vec<(u64, u64)> =
        driver.heap.locks()[0].waiters.iter().map(|waiter| (waiter.session_id, waiter.thread)).collect();
    assert_eq!(waiters, vec![(first, 2), (second, 1)]);
}

#[test]
fn a_try_lock_never_queues() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    driver.lock_now(session, "L", 1);
    let before = driver.heap.locks();
    let (sequence, reply) = driver.send(session, lock_with_timeout("L", 2, LockMode::Read, Some(0)));
    assert_eq!(reply, Reply::LockTimedOut);
    assert_eq!(driver.state(session, sequence), final_reply(Reply::LockTimedOut));
    assert_eq!(driver.heap.locks(), before);
    let (_, reply) = driver.send(session, lock_with_timeout("M", 2, LockMode::Read, Some(0)));
    assert!(matches!(reply, Reply::LockGranted { .. }), "a free lock is granted to a try-lock");
}

#[test]
fn nobody_jumps_the_queue_and_readers_at_the_head_are_granted_together() {
    let mut driver = Driver::new();
    let sessions: Vec<u64> = (0..5).map(|_| driver.open(1_000)).collect();
    let (_, reply) = driver.lock(sessions[0], "L", 1, LockMode::Read);
    assert!(matches!(reply, Reply::LockGranted { .. }));
    let (writer, reply) = driver.lock(sessions[1], "L", 1, LockMode::Write);
    assert_eq!(reply, Reply::Pending);
    // The lock is read-held, but a reader behind a queued writer waits (no writer starvation).
    let readers: Vec<u64> = (2..5).map(|i| driver.lock(sessions[i], "L", 1, LockMode::Read).0).collect();
    assert!(readers
        .iter()
        .zip(2..5)
        .all(|(sequence, i)| driver.state(sessions[i], *sequence) == OwnedRequestState::Pending));

    driver.unlock(sessions[0], "L", 1);
    assert_eq!(driver.state(sessions[1], writer), final_reply(Reply::LockGranted { token: token_now(&driver, 0) }));
    assert_eq!(driver.heap.locks()[0].waiters.len(), 3);

    driver.unlock(sessions[1], "L", 1);
    for (ordinal, (sequence, i)) in readers.iter().zip(2..5).enumerate() {
        let token = token_now(&driver, ordinal as u64);
        assert_eq!(driver.state(sessions[i], *sequence), final_reply(Reply::LockGranted { token }));
    }
    assert_eq!(holders(&driver, "L").len(), 3);
    assert_eq!(driver.heap.locks()[0].mode, Some(LockMode::Read));
}

#[test]
fn a_queued_lock_times_out_at_a_tick_and_the_queue_moves_on() {
    let mut driver = Driver::new();
    let holder = driver.open(10_000);
    let impatient = driver.open(10_000);
    let patient = driver.open(10_000);
    driver.lock(holder, "L", 1, LockMode::Read);
    let (timed, reply) = driver.send(impatient, lock_with_timeout("L", 1, LockMode::Write, Some(300)));
    assert_eq!(reply, Reply::Pending);
    let (reader, _) = driver.lock(patient, "L", 1, LockMode::Read);
    let waiter = &driver.heap.locks()[0].waiters[0];
    assert_eq!(
        *waiter,
        WaiterInfo {
            session_id: impatient,
            thread: 1,
            mode: LockMode::Write,
            sequence: timed,
            deadline_ms: Some(300),
            notified: None
        }
    );
    assert_eq!(driver.heap.next_deadline_ms(), Some(300));
    driver.tick_at(299);
    assert_eq!(driver.state(impatient, timed), OwnedRequestState::Pending);
    driver.tick_at(300);
    assert_eq!(driver.state(impatient, timed), final_reply(Reply::LockTimedOut));
    assert_eq!(driver.state(patient, reader), final_reply(Reply::LockGranted { token: token_now(&driver, 0) }));
    assert_eq!(driver.heap.next_deadline_ms(), Some(10_000), "only the leases are left");
}

#[test]
fn bad_lock_requests_are_rejected() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    let too_long = LOCK_TIMEOUT_MS_MAX + 1;
    assert_eq!(
        driver.send(session, lock_with_timeout("L", 1, LockMode::Write, Some(too_long))).1,
        Reply::Rejected(Rejection::InvalidTimeout { timeout_ms: too_long })
    );
    assert!(matches!(driver.lock(session, "", 1, LockMode::Write).1, Reply::Rejected(Rejection::InvalidName { .. })));
    assert!(matches!(
        driver.send(session, wait("L", 1, Some(too_long))).1,
        Reply::Rejected(Rejection::InvalidTimeout { .. })
    ));
    assert!(driver.heap.locks().is_empty());
}

#[test]
fn commit_at_release_applies_before_the_release_in_one_entry() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    let other = driver.open(1_000);
    let token = driver.lock_now(session, "L", 1);
    let (queued, _) = driver.lock(other, "L", 1, LockMode::Read);
    let commit = transaction(vec![("L", token)], vec![create(4, ObjectKind::Fields)]);
    let (_, reply) = driver.send(session, unlock_with("L", 1, commit));
    let log_index = driver.heap.applied_index();
    assert_eq!(reply, Reply::Unlocked { commit: Some((log_index, vec![(4, 1)])) });
    assert_eq!(driver.heap.get(1).unwrap().version, log_index);
    // The next holder's grant is in the same entry as the commit, so it sees the commit.
    assert_eq!(driver.state(other, queued), final_reply(Reply::LockGranted { token: token_now(&driver, 0) }));
}

#[test]
fn a_rejected_commit_rejects_the_unlock_and_keeps_the_lock() {
    let mut driver = Driver::new();
    let session = driver.open(1_000);
    driver.lock_now(session, "L", 1);
    let (_, reply) = driver.send(session, unlock_with("L", 1, transaction(Vec::new(), vec![set_field(99, 1)])));
    assert_eq!(reply, Reply::Rejected(Rejection::UnknownObject { id: 99 }));
    assert_eq!(holders(&driver, "L")[0].count, 1);
    assert_eq!(driver.heap.object_count(), 0);
}

#[test]
fn fences_admit_only_the_current_holders_token() {
    let mut driver = Driver::new();
    let first = driver.open(1_000);
    let second = driver.open(1_000);
    let old = driver.lock_now(first, "L", 1);
    let setup = transaction(vec![("L", old)], vec![create(0, ObjectKind::Fields)]);
    assert!(matches!(driver.apply(Command::Transaction(setup)), Reply::Committed { .. }));
    let write = |token| Command::Transaction(transaction(vec![("L", token)], vec![set_field(1, 7)]));
    let stale = |token| Reply::Rejected(Rejection::StaleFence { lock: "L".to_string(), token });

    // Released: the old token is stale.
    driver.unlock(first, "L", 1);
    assert_eq!(driver.apply(write(old)), stale(old));
    // Regranted to someone else: still stale, and the new token works.
    let new = driver.lock_now(second, "L", 1);
    assert!(new > old);
    assert_eq!(driver.apply(write(old)), stale(old));
    assert!(matches!(driver.apply(write(new)), Reply::Committed { .. }));
    // Fences are checked before version preconditions, and need a valid lock name.
    let mut both = transaction(vec![("L", old)], vec![set_field(1, 8)]);
    both.expect = vec![(1, 0)];
    assert_eq!(driver.apply(Command::Transaction(both)), stale(old));
    let unnamed = transaction(vec![("", new)], vec![set_field(1, 8)]);
    assert!(matches!(driver.apply(Command::Transaction(unnamed)), Reply::Rejected(Rejection::InvalidName { .. })));
}

#[test]
fn wait_releases_the_lock_and_notify_wakes_the_first_waiter() {
    let mut driver = Driver::new();
    let waiter = driver.open(10_000);
    let notifier = driver.open(10_000);
    driver.lock_now(waiter, "L", 1);
    driver.lock_now(waiter, "L", 1);
    let (waiting, reply) = driver.send(waiter, wait("L", 1, None));
    assert_eq!(reply, Reply::Pending);
    let lock = &driver.heap.locks()[0];
    assert_eq!(lock.mode, None, "a waiting thread holds nothing");
    assert_eq!(lock.condition_waiters.len(), 1);

    driver.lock_now(notifier, "L", 1);
    assert_eq!(driver.send(notifier, notify("L", 1, false)).1, Reply::Done);
    let lock = &driver.heap.locks()[0];
    assert!(lock.condition_waiters.is_empty());
    assert_eq!(lock.waiters[0].notified, Some(true));
    assert_eq!(driver.state(waiter, waiting), OwnedRequestState::Pending, "it needs the lock back first");

    driver.unlock(notifier, "L", 1);
    let token = token_now(&driver, 0);
    assert_eq!(driver.state(waiter, waiting), final_reply(Reply::WaitDone { token, notified: true }));
    assert_eq!(
        holders(&driver, "L"),
        vec![HolderInfo { session_id: waiter, thread: 1, mode: LockMode::Write, token, count: 2 }]
    );
}

fn wait_as(name: &str, holder: u64, thread: u64) -> SessionCommand {
    SessionCommand::WaitAs { name: name.to_string(), holder, thread, timeout_ms: None }
}

/// A client's greedy hold (thread `G`, shared by its threads locally) turns into one thread's
/// condition wait: the hold ends, the thread waits as itself and comes back holding the lock as
/// itself with the holder's count; the holder's session may take the lock again meanwhile.
#[test]
fn wait_as_turns_a_session_level_hold_into_one_threads_wait() {
    const G: u64 = u64::MAX;
    let mut driver = Driver::new();
    let session = driver.open(10_000);
    let other = driver.open(10_000);
    driver.lock_now(session, "L", G);
    let (waiting, reply) = driver.send(session, wait_as("L", G, 7));
    assert_eq!(reply, Reply::Pending);
    let lock = &driver.heap.locks()[0];
    assert_eq!(lock.mode, None, "the greedy hold ended");
    assert_eq!(lock.condition_waiters.iter().map(|w| w.thread).collect::<Vec<_>>(), vec![7]);

    // The same session takes it again as G while thread 7 waits, and notifies as G.
    driver.lock_now(session, "L", G);
    assert_eq!(driver.send(session, notify("L", G, false)).1, Reply::Done);
    driver.unlock(session, "L", G);
    let token = token_now(&driver, 0);
    assert_eq!(driver.state(session, waiting), final_reply(Reply::WaitDone { token, notified: true }));
    assert_eq!(
        holders(&driver, "L"),
        vec![HolderInfo { session_id: session, thread: 7, mode: LockMode::Write, token, count: 1 }]
    );

    // Only the holder's own session's hold can be handed over, and only to a thread not in the lock.
    let not_holder = Reply::Rejected(Rejection::NotHolder { lock: "L".to_string(), thread: G });
    assert_eq!(driver.send(other, wait_as("L", G, 8)).1, not_holder);
    driver.unlock(session, "L", 7);
    driver.lock_now(session, "L", G);
    assert_eq!(driver.send(session, lock_with_timeout("L", 7, LockMode::Write, None)).1, Reply::Pending);
    let (_, reply) = driver.send(session, wait_as("L", G, 7));
    assert_eq!(reply, Reply::Rejected(Rejection::AlreadyWaiting { lock: "L".to_string(), thread: 7 }));
}

#[test]
fn notify_all_wakes_every_waiter_in_order() {
    let mut driver = Driver::new();
    let session = driver.open(10_000);
    let mut waits = Vec::new();
    for thread in 1..=3 {
        driver.lock_now(session, "L", thread);
        waits.push(driver.send(session, wait("L", thread, None)).0);
    }
    driver.lock_now(session, "L", 9);
    assert_eq!(driver.send(session, notify("L", 9, true)).1, Reply::Done);
    let threads: Vec<u64> = driver.heap.locks()[0].waiters.iter().map(|waiter| waiter.thread).collect();
    assert_eq!(threads, vec![1, 2, 3]);
    driver.unlock(session, "L", 9);
    let token = token_now(&driver, 0);
    assert_eq!(driver.state(session, waits[0]), final_reply(Reply::WaitDone { token, notified: true }));
    assert_eq!(driver.state(session, waits[1]), OwnedRequestState::Pending, "writers wake one at a time");
}

#[test]
fn a_wait_times_out_and_reacquires_the_lock() {
    let mut driver = Driver::new();
    let session = driver.open(10_000);
    driver.lock_now(session, "L", 1);
    let (waiting, _) = driver.send(session, wait("L", 1, Some(50)));
    assert_eq!(driver.heap.next_deadline_ms(), Some(50));
    driver.tick_at(50);
    let token = token_now(&driver, 0);
    assert_eq!(driver.state(session, waiting), final_reply(Reply::WaitDone { token, notified: false }));
}

#[test]
fn a_timed_out_wait_queues_behind_the_holder() {
    let mut driver = Driver::new();
    let session = driver.open(10_000);
    let other = driver.open(10_000);
    driver.lock_now(session, "L", 1);
    let (waiting, _) = driver.send(session, wait("L", 1, Some(50)));
    driver.lock_now(other, "L", 1);
    driver.tick_at(60);
    assert_eq!(driver.heap.locks()[0].waiters[0].notified, Some(false));
    assert_eq!(driver.state(session, waiting), OwnedRequestState::Pending);
    driver.unlock(other, "L", 1);
    assert!(matches!(
        driver.state(session, waiting),
        OwnedRequestState::Final(Reply::WaitDone { notified: false, .. })
    ));
}

#[test]
fn wait_and_notify_need_the_lock() {
    let mut driver = Driver::new();
    let session = driver.open(10_000);
    let not_holder = |thread| Reply::Rejected(Rejection::NotHolder { lock: "L".to_string(), thread });
    assert_eq!(driver.send(session, wait("L", 1, None)).1, not_holder(1));
    assert_eq!(driver.send(session, notify("L", 1, false)).1, not_holder(1));
    driver.lock(session, "L", 1, LockMode::Read);
    assert_eq!(driver.send(session, wait("L", 1, None)).1, not_holder(1), "Wait needs the write lock");
    assert_eq!(driver.send(session, notify("L", 2, true)).1, not_holder(2));
    assert_eq!(driver.send(session, notify("L", 1, true)).1, Reply::Done, "readers may notify");
}

/// Applies one session command at log index 2 to a heap whose state the test built directly.
fn apply_to(heap: &mut Heap, command: SessionCommand) -> Reply {
    let open = Command::OpenSession { client: String::new(), ttl_ms: 1_000, owner: TEST_OWNER.to_string() };
    heap.apply_command(1, &Envelope { leader_time_ms: 0, command: open }, &mut Vec::new());
    let caller = caller(TEST_OWNER);
    let request = crate::command::SessionRequest { session_id: 1, caller, sequence: 1, acknowledged_below: 0, command };
    heap.apply_command(2, &Envelope { leader_time_ms: 0, command: Command::Session(request) }, &mut Vec::new())
}

#[test]
fn lock_limits_hold() {
    let holder = |thread, mode, count| Holder { session_id: 9, thread, mode, count, token: 1 };

    let mut heap = Heap::new();
    heap.locks.insert(
        "L".to_string(),
        Lock { holders: vec![holder(1, LockMode::Write, REENTRANT_HOLDS_MAX)], ..Lock::default() },
    );
    heap.locks.get_mut("L").unwrap().holders[0].session_id = 1;
    let reply = apply_to(&mut heap, lock_with_timeout("L", 1, LockMode::Write, None));
    assert!(matches!(reply, Reply::Rejected(Rejection::LimitExceeded { what: Limit::ReentrantHolds, .. })));

    let mut heap = Heap::new();
    let condition_waiter =
        |thread| ConditionWaiter { session_id: 9, thread, sequence: thread, deadline_ms: None, count: 1 };
    let mut lock = Lock { holders: vec![holder(0, LockMode::Write, 1)], ..Lock::default() };
    lock.condition_waiters.extend((1..=WAITERS_PER_LOCK_MAX).map(condition_waiter));
    heap.locks.insert("L".to_string(), lock);
    let reply = apply_to(&mut heap, lock_with_timeout("L", 1, LockMode::Write, None));
    assert!(matches!(reply, Reply::Rejected(Rejection::LimitExceeded { what: Limit::Waiters, .. })));

    // Readers beyond the holder limit queue instead of being refused.
    let mut heap = Heap::new();
    let readers = (1..=HOLDERS_PER_LOCK_MAX).map(|thread| holder(thread, LockMode::Read, 1)).collect();
    heap.locks.insert("L".to_string(), Lock { holders: readers, ..Lock::default() });
    assert_eq!(apply_to(&mut heap, lock_with_timeout("L", 1, LockMode::Read, None)), Reply::Pending);

    let mut heap = Heap::new();
    for number in 0..LOCKS_MAX {
        heap.locks.insert(format!("{number}"), Lock::default());
    }
    let reply = apply_to(&mut heap, lock_with_timeout("new", 1, LockMode::Read, None));
    assert!(matches!(reply, Reply::Rejected(Rejection::LimitExceeded { what: Limit::Locks, .. })));
}
