//! The greedy lock table's rules, one at a time: local hand-over without the cluster, FIFO among
//! local threads, read sharing, upgrades, recalls (bounded local grants, early recalls, a reset),
//! and the bound on idle locks (least recently used go back, never one a local thread wants).

use super::*;

const A: u64 = 1;
const B: u64 = 2;
const C: u64 = 3;

fn grant(mode: Mode, token: u64, grant_index: u64) -> Grant {
    Grant { mode, token, grant_index }
}

/// The table after `thread` acquired `name` from the cluster in `mode` and took it.
fn held_by(thread: u64, mode: Mode, grant_index: u64) -> (GreedyTable, Grant) {
    let mut table = GreedyTable::default();
    assert_eq!(table.try_take("L", thread, mode), Ok(Step::Acquire(mode)));
    let granted = grant(mode, 100 + grant_index, grant_index);
    table.acquired("L", granted);
    assert_eq!(table.try_take("L", thread, mode), Ok(Step::Taken(granted)));
    (table, granted)
}

#[test]
fn a_released_lock_stays_with_the_session_and_is_retaken_without_the_cluster() {
    let (mut table, granted) = held_by(A, Mode::Write, 10);
    assert_eq!(table.release_local("L", A), None, "not recalled: kept");
    assert_eq!(table.held_count(), 1);
    assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Taken(granted)), "same grant, same token");
    assert_eq!(table.grant_of("L", B), Some(granted));
    assert_eq!(table.grant_of("L", A), None);
}

#[test]
fn local_threads_queue_first_come_first_served_and_one_asks_the_cluster() {
    let mut table = GreedyTable::default();
    assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Acquire(Mode::Write)));
    assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Wait), "one acquisition at a time");
    assert_eq!(table.try_take("L", C, Mode::Write), Ok(Step::Wait));
    let granted = grant(Mode::Write, 7, 5);
    table.acquired("L", granted);
    assert_eq!(table.try_take("L", C, Mode::Write), Ok(Step::Wait), "C is behind B");
    assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Taken(granted)));
    assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Wait), "A has it");
    table.release_local("L", A);
    assert_eq!(table.try_take("L", C, Mode::Write), Ok(Step::Wait), "still behind B");
    assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Taken(granted)));
    table.release_local("L", B);
    assert_eq!(table.try_take("L", C, Mode::Write), Ok(Step::Taken(granted)));
}

#[test]
fn readers_share_a_read_hold_and_each_mode_is_given_back_for_the_other() {
    let (mut table, read) = held_by(A, Mode::Read, 3);
    assert_eq!(table.try_take("L", B, Mode::Read), Ok(Step::Taken(read)), "readers share");
    assert_eq!(table.try_take("L", C, Mode::Write), Ok(Step::Wait), "readers are in");
    table.release_local("L", A);
    table.release_local("L", B);
    assert_eq!(table.try_take("L", C, Mode::Write), Ok(Step::Release(read)), "a read hold cannot serve a writer");
    table.released("L");
    assert_eq!(table.try_take("L", C, Mode::Write), Ok(Step::Acquire(Mode::Write)));
    let write = grant(Mode::Write, 9, 8);
    table.acquired("L", write);
    assert_eq!(table.try_take("L", C, Mode::Write), Ok(Step::Taken(write)));
    table.release_local("L", C);
    assert_eq!(table.try_take("L", A, Mode::Read), Ok(Step::Release(write)), "a write hold is traded for a read hold");
}

#[test]
fn a_recall_of_an_idle_lock_gives_it_back_at_once() {
    let (mut table, granted) = held_by(A, Mode::Write, 10);
    table.release_local("L", A);
    table.recall("L", 11);
    assert_eq!(table.take_to_release(), vec![("L".to_string(), granted)]);
    assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Wait), "being given back");
    table.released("L");
    assert_eq!(table.held_count(), 0);
    assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Acquire(Mode::Write)), "asked for again, queued");
}

#[test]
fn a_recalled_lock_goes_back_when_its_last_local_holder_leaves() {
    let (mut table, granted) = held_by(A, Mode::Write, 10);
    table.recall("L", 12);
    assert!(table.take_to_release().is_empty(), "A still has it");
    assert_eq!(table.release_local("L", A), Some(granted), "the last holder gives it back");
}

#[test]
fn after_a_recall_local_threads_get_a_bounded_number_of_grants() {
    let (mut table, granted) = held_by(A, Mode::Write, 10);
    table.recall("L", 12);
    // Local threads keep coming: each release finds one waiting, until the bound.
    let mut holder = A;
    for round in 0..LOCAL_GRANTS_AFTER_RECALL_MAX {
        let next = 100 + u64::from(round);
        assert_eq!(table.try_take("L", next, Mode::Write), Ok(Step::Wait));
        assert_eq!(table.release_local("L", holder), None, "round {round}: a local thread waits");
        assert_eq!(table.try_take("L", next, Mode::Write), Ok(Step::Taken(granted)));
        holder = next;
    }
    assert_eq!(table.try_take("L", 999, Mode::Write), Ok(Step::Wait));
    assert_eq!(table.release_local("L", holder), Some(granted), "out of local grants: back to the cluster");
    assert_eq!(table.try_take("L", 999, Mode::Write), Ok(Step::Wait), "being given back");
}

#[test]
fn a_recall_that_arrives_before_its_grant_is_known_still_counts() {
    let mut table = GreedyTable::default();
    assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Acquire(Mode::Write)));
    table.recall("L", 20);
    let granted = grant(Mode::Write, 5, 20);
    table.acquired("L", granted);
    assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Taken(granted)));
    assert_eq!(table.release_local("L", A), Some(granted), "contended at its own grant: recalled");

    // A recall from before the grant (someone else's queue, ours among it) does not count.
    let mut table = GreedyTable::default();
    assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Acquire(Mode::Write)));
    table.recall("L", 29);
    table.acquired("L", grant(Mode::Write, 6, 30));
    assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Taken(grant(Mode::Write, 6, 30))));
    assert_eq!(table.release_local("L", A), None);
}

#[test]
fn a_stream_reset_recalls_every_lock_and_grants_it_covered() {
    let (mut table, granted) = held_by(A, Mode::Write, 10);
    table.release_local("L", A);
    table.recall_all(15);
    assert_eq!(table.take_to_release(), vec![("L".to_string(), granted)]);
    table.released("L");
    assert_eq!(table.try_take("M", A, Mode::Write), Ok(Step::Acquire(Mode::Write)));
    table.acquired("M", grant(Mode::Write, 1, 14));
    assert_eq!(table.try_take("M", A, Mode::Write), Ok(Step::Taken(grant(Mode::Write, 1, 14))));
    assert!(table.release_local("M", A).is_some(), "granted at or below the reset's index: recalled");
}

#[test]
fn a_waiting_writer_hands_the_sessions_hold_to_its_condition() {
    let (mut table, granted) = held_by(A, Mode::Write, 10);
    assert_eq!(table.begin_wait("L", B), None, "only the local writer may wait");
    assert_eq!(table.begin_wait("L", A), Some(granted));
    assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Wait), "until the WaitAs is applied");
    table.released("L");
    assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Acquire(Mode::Write)));
}

#[test]
fn a_thread_that_gives_up_leaves_the_queue_and_an_unused_lock_is_forgotten() {
    let (mut table, granted) = held_by(A, Mode::Write, 10);
    assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Wait));
    assert_eq!(table.try_take("L", C, Mode::Write), Ok(Step::Wait));
    table.leave_queue("L", B);
    table.release_local("L", A);
    assert_eq!(table.try_take("L", C, Mode::Write), Ok(Step::Taken(granted)), "B no longer ahead");

    let mut table = GreedyTable::default();
    assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Acquire(Mode::Write)));
    table.acquire_failed("L", A);
    assert!(table.locks.is_empty(), "nothing left for a lock nobody holds or wants");
}

#[test]
fn after_a_recall_the_next_holds_go_back_eagerly_with_their_commit_then_greed_returns() {
    let (mut table, granted) = held_by(A, Mode::Write, 10);
    assert_eq!(table.release_local_if_last("L", A), None, "not recalled: kept, and A still holds it");
    table.recall("L", 11);
    assert_eq!(table.release_local_if_last("L", A), Some(granted), "recalled: released with the commit");
    table.released("L");
    for hold in 0..EAGER_HOLDS_AFTER_RECALL {
        assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Acquire(Mode::Write)));
        let next = grant(Mode::Write, 20 + u64::from(hold), 20 + u64::from(hold));
        table.acquired("L", next);
        assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Taken(next)));
        assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Wait));
        assert_eq!(table.release_local_if_last("L", A), None, "eager, but B waits locally: kept for B");
        assert_eq!(table.release_local("L", A), None, "A leaves after its commit; B is next");
        assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Taken(next)));
        assert_eq!(table.release_local_if_last("L", B), Some(next), "hold {hold}: eager, nobody local waits");
        table.released("L");
    }
    assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Acquire(Mode::Write)));
    table.acquired("L", grant(Mode::Write, 99, 99));
    assert_eq!(table.try_take("L", A, Mode::Write), Ok(Step::Taken(grant(Mode::Write, 99, 99))));
    assert_eq!(table.release_local_if_last("L", A), None, "no recall since: greedy again");
}

#[test]
fn a_lock_under_an_unkept_prefix_goes_back_with_its_commit_from_its_first_hold_and_others_stay_greedy() {
    let mut table = GreedyTable::default();
    assert_eq!(table.set_kept("ui:", false), Ok(()));
    for (index, name) in ["ui:1", "ui:2"].into_iter().enumerate() {
        assert_eq!(table.try_take(name, A, Mode::Write), Ok(Step::Acquire(Mode::Write)));
        let granted = grant(Mode::Write, 10 + index as u64, 10 + index as u64);
        table.acquired(name, granted);
        assert_eq!(table.try_take(name, A, Mode::Write), Ok(Step::Taken(granted)));
        assert_eq!(table.release_local_if_last(name, A), Some(granted), "{name}: never kept, no recall needed");
        table.released(name);
    }
    assert_eq!(table.held_count(), 0, "nothing under the prefix stays held");
    let kept = take_new_and_release(&mut table, "cart:1", A, 30);
    assert_eq!(table.try_take("cart:1", B, Mode::Write), Ok(Step::Taken(kept)), "other names stay greedy");
    assert_eq!(table.set_kept("ui:", true), Ok(()));
    let again = take_new_and_release(&mut table, "ui:3", A, 40);
    assert_eq!(table.try_take("ui:3", B, Mode::Write), Ok(Step::Taken(again)), "kept again once set back");
}

#[test]
fn unkept_prefixes_are_bounded() {
    let mut table = GreedyTable::default();
    for index in 0..UNKEPT_PREFIXES_MAX {
        assert_eq!(table.set_kept(&format!("p{index}:"), false), Ok(()));
    }
    assert_eq!(table.set_kept("one-more:", false), Err(GreedyError::TooManyUnkeptPrefixes));
    assert_eq!(table.set_kept("p0:", false), Ok(()), "setting one already set again is no new entry");
    assert_eq!(table.set_kept("p0:", true), Ok(()));
    assert_eq!(table.set_kept("one-more:", false), Ok(()), "room again after one was set back");
}

/// Thread `thread` takes `name` (a grant from the cluster at `grant_index`) and releases it: the
/// session keeps it idle. Returns the grant.
fn take_new_and_release(table: &mut GreedyTable, name: &str, thread: u64, grant_index: u64) -> Grant {
    assert_eq!(table.try_take(name, thread, Mode::Write), Ok(Step::Acquire(Mode::Write)), "{name} is new");
    let granted = grant(Mode::Write, 1_000 + grant_index, grant_index);
    table.acquired(name, granted);
    assert_eq!(table.try_take(name, thread, Mode::Write), Ok(Step::Taken(granted)));
    assert_eq!(table.release_local(name, thread), None, "{name} not recalled: kept");
    granted
}

fn session_lock(index: usize) -> String {
    format!("session-{index}")
}

/// Takes and releases `count` new locks `session-{first}..`, each once, from thread A.
fn churn(table: &mut GreedyTable, first: usize, count: usize) -> Vec<(String, Grant)> {
    (first..first + count)
        .map(|index| {
            let name = session_lock(index);
            let granted = take_new_and_release(table, &name, A, index as u64 + 1);
            (name, granted)
        })
        .collect()
}

#[test]
fn past_the_idle_bound_the_least_recently_used_locks_go_back_oldest_first() {
    const EXTRA: usize = 200;
    const _: () = assert!(EXTRA < EVICTIONS_PENDING_MAX, "no new grant waits for the releaser here");
    let mut table = GreedyTable::default();
    let taken = churn(&mut table, 0, GREEDY_IDLE_LOCKS_MAX);
    assert!(table.take_to_release().is_empty(), "at the bound: nothing goes back");
    assert_eq!(table.idle_count(), GREEDY_IDLE_LOCKS_MAX);

    let more = churn(&mut table, GREEDY_IDLE_LOCKS_MAX, EXTRA);
    table.validate().expect("valid after the churn");
    assert_eq!(table.idle_count(), GREEDY_IDLE_LOCKS_MAX, "the bound held");
    assert_eq!(table.held_count(), GREEDY_IDLE_LOCKS_MAX, "the evicted ones are being given back");
    let evicted = table.take_to_release();
    assert_eq!(evicted, taken[..EXTRA].to_vec(), "the {EXTRA} least recently used, oldest first, with their grants");

    for (name, _) in &evicted {
        table.released(name);
    }
    table.validate().expect("valid after the give-backs");
    assert_eq!(table.locks.len(), GREEDY_IDLE_LOCKS_MAX, "given back and forgotten: the table is bounded too");
    let kept: Vec<String> = table.locks.keys().cloned().collect();
    let mut newest: Vec<String> = taken[EXTRA..].iter().chain(&more).map(|(name, _)| name.clone()).collect();
    newest.sort();
    assert_eq!(kept, newest, "the most recently used stay");
    assert_eq!(
        table.try_take(&session_lock(0), B, Mode::Write),
        Ok(Step::Acquire(Mode::Write)),
        "an evicted lock is simply granted again"
    );
}

#[test]
fn a_lock_taken_again_is_no_longer_the_least_recently_used() {
    let mut table = GreedyTable::default();
    let taken = churn(&mut table, 0, GREEDY_IDLE_LOCKS_MAX);
    let (oldest, oldest_grant) = &taken[0];
    assert_eq!(table.try_take(oldest, B, Mode::Write), Ok(Step::Taken(*oldest_grant)), "kept: taken locally");
    assert_eq!(table.release_local(oldest, B), None);
    churn(&mut table, GREEDY_IDLE_LOCKS_MAX, 1);
    assert_eq!(table.take_to_release(), vec![taken[1].clone()], "the second oldest went, not the one just used");
    table.validate().expect("valid");
}

#[test]
fn a_lock_a_local_thread_holds_or_waits_for_is_never_evicted() {
    let mut table = GreedyTable::default();
    // The oldest locks the table knows, each wanted locally in a different way.
    assert_eq!(table.try_take("held", B, Mode::Write), Ok(Step::Acquire(Mode::Write)));
    let held = grant(Mode::Write, 1, 1);
    table.acquired("held", held);
    assert_eq!(table.try_take("held", B, Mode::Write), Ok(Step::Taken(held)));
    assert_eq!(table.try_take("read", B, Mode::Read), Ok(Step::Acquire(Mode::Read)));
    let read = grant(Mode::Read, 2, 2);
    table.acquired("read", read);
    assert_eq!(table.try_take("read", B, Mode::Read), Ok(Step::Taken(read)));
    // "handed": its holder left and the next local thread is about to take it (it waits).
    let handed = take_new_and_release(&mut table, "handed", B, 3);
    assert_eq!(table.try_take("handed", B, Mode::Write), Ok(Step::Taken(handed)));
    assert_eq!(table.try_take("handed", C, Mode::Write), Ok(Step::Wait));
    assert_eq!(table.release_local("handed", B), None, "kept for C");
    assert_eq!(table.try_take("asked", C, Mode::Write), Ok(Step::Acquire(Mode::Write)), "a grant in flight");

    // Past the bound by fewer than `EVICTIONS_PENDING_MAX`, so no new grant has to wait.
    const EXTRA: usize = EVICTIONS_PENDING_MAX - 1;
    let churned = churn(&mut table, 0, GREEDY_IDLE_LOCKS_MAX + EXTRA);
    table.validate().expect("valid after the churn");
    let evicted: Vec<String> = table.take_to_release().into_iter().map(|(name, _)| name).collect();
    let expected: Vec<String> = churned[..EXTRA].iter().map(|(name, _)| name.clone()).collect();
    assert_eq!(evicted, expected, "only idle locks went, however old the wanted ones");
    assert_eq!(table.grant_of("held", B), Some(held), "still held by its thread");
    assert_eq!(table.grant_of("read", B), Some(read), "still read by its thread");
    assert_eq!(table.try_take("handed", C, Mode::Write), Ok(Step::Taken(handed)), "C gets it without the cluster");
    table.acquired("asked", grant(Mode::Write, 4, 4_000));
    assert_eq!(table.try_take("asked", C, Mode::Write), Ok(Step::Taken(grant(Mode::Write, 4, 4_000))));
    table.validate().expect("valid");
}

#[test]
fn with_too_many_evictions_not_yet_given_back_a_new_grant_waits_but_a_kept_lock_does_not() {
    let mut table = GreedyTable::default();
    let taken = churn(&mut table, 0, GREEDY_IDLE_LOCKS_MAX + EVICTIONS_PENDING_MAX);
    let evicted = table.take_to_release();
    assert_eq!(evicted.len(), EVICTIONS_PENDING_MAX);
    let new_lock = session_lock(GREEDY_IDLE_LOCKS_MAX + EVICTIONS_PENDING_MAX);
    assert_eq!(table.try_take(&new_lock, A, Mode::Write), Ok(Step::Wait), "the releaser is behind");
    let (kept, kept_grant) = taken.last().expect("churned some");
    assert_eq!(table.try_take(kept, B, Mode::Write), Ok(Step::Taken(*kept_grant)), "no grant needed");
    table.released(&evicted[0].0);
    assert_eq!(table.try_take(&new_lock, A, Mode::Write), Ok(Step::Acquire(Mode::Write)), "one went back");
    table.validate().expect("valid");
}

#[test]
fn a_recalled_lock_goes_back_when_its_last_local_waiter_gives_up() {
    let (mut table, granted) = held_by(A, Mode::Write, 10);
    assert_eq!(table.try_take("L", B, Mode::Write), Ok(Step::Wait));
    table.recall("L", 11);
    assert_eq!(table.release_local("L", A), None, "kept for B, within the local grants");
    table.leave_queue("L", B);
    assert_eq!(table.take_to_release(), vec![("L".to_string(), granted)], "nobody local wants it: back");
    table.validate().expect("valid");
}
