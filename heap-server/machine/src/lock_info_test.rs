//! Unit tests of `Heap::lock_is_contended`, the signal the change feed sends to greedy lock
//! holders: a holder with a Lock or a woken Wait queued behind it is contended; a holder alone,
//! or with only condition waiters, is not; nor is a lock nobody uses.

use crate::command::{LockMode, SessionCommand};
use crate::reply::Reply;
use crate::test_support::Driver;

fn wait(name: &str, thread: u64) -> SessionCommand {
    SessionCommand::Wait { name: name.to_string(), thread, timeout_ms: None }
}

fn notify(name: &str, thread: u64) -> SessionCommand {
    SessionCommand::Notify { name: name.to_string(), thread, all: false }
}

#[test]
fn a_held_lock_with_a_queued_lock_is_contended() {
    let mut driver = Driver::new();
    let holder = driver.open(10_000);
    let other = driver.open(10_000);
    driver.lock_now(holder, "L", 1);
    assert!(!driver.heap.lock_is_contended("L"), "a holder alone is not contended");
    assert_eq!(driver.lock(other, "L", 1, LockMode::Write).1, Reply::Pending);
    assert!(driver.heap.lock_is_contended("L"));
    assert!(!driver.heap.lock_is_contended("M"), "only the lock waited for");
    driver.unlock(holder, "L", 1);
    assert!(!driver.heap.lock_is_contended("L"), "the waiter got it and nobody waits behind it");
}

#[test]
fn readers_queued_behind_a_writer_contend_it() {
    let mut driver = Driver::new();
    let writer = driver.open(10_000);
    let reader = driver.open(10_000);
    driver.lock_now(writer, "L", 1);
    assert_eq!(driver.lock(reader, "L", 1, LockMode::Read).1, Reply::Pending);
    assert!(driver.heap.lock_is_contended("L"));
}

#[test]
fn condition_waiters_alone_do_not_contend_a_lock() {
    let mut driver = Driver::new();
    let waiter = driver.open(10_000);
    let holder = driver.open(10_000);
    driver.lock_now(waiter, "L", 1);
    assert_eq!(driver.send(waiter, wait("L", 1)).1, Reply::Pending);
    assert!(!driver.heap.lock_is_contended("L"), "a condition waiter with no holder");
    driver.lock_now(holder, "L", 1);
    assert!(!driver.heap.lock_is_contended("L"), "a condition waiter waits for a Notify, not the lock");
    assert_eq!(driver.send(holder, notify("L", 1)).1, Reply::Done);
    assert!(driver.heap.lock_is_contended("L"), "a notified Wait queues for the lock");
}

#[test]
fn an_unknown_lock_is_not_contended() {
    let driver = Driver::new();
    assert!(!driver.heap.lock_is_contended("L"));
    assert!(!driver.heap.lock_is_contended(""));
}
