//! Tests of `HoldTable` without I/O: what each pin, unpin, create, commit and answer makes due,
//! the batch bound, the table bound, and a long seeded run against a model of the server that
//! checks the two promises (a pinned object is held once the flusher is done; nothing unpinned
//! stays held).

use std::collections::BTreeSet;

use super::*;

fn held(missing: &[u64]) -> HoldAnswer {
    HoldAnswer::Held { missing: missing.to_vec() }
}

/// Sends and answers one request, checking it is `expected`.
fn exchange(table: &mut HoldTable, expected: HoldRequest, answer: HoldAnswer) {
    let request = table.next_request().expect("a request is due");
    assert_eq!(request, expected);
    table.answered(&request, &answer);
    table.validate().expect("valid after the answer");
}

#[test]
fn a_pinned_id_is_held_and_released_once_unpinned_then_forgotten() {
    let mut table = HoldTable::default();
    table.pin(7).expect("room");
    assert_eq!(table.state(7), Some((1, ServerHold::No)));
    exchange(&mut table, HoldRequest::Hold(vec![7]), held(&[]));
    assert_eq!(table.state(7), Some((1, ServerHold::Yes)));
    table.pin(7).expect("room");
    table.unpin(7).expect("pinned");
    assert_eq!(table.next_request(), None, "still pinned once: nothing to do");
    table.unpin(7).expect("pinned");
    exchange(&mut table, HoldRequest::Release(vec![7]), HoldAnswer::Released);
    assert!(table.is_empty(), "an unpinned, released id is forgotten");
    assert_eq!(table.next_request(), None);
}

#[test]
fn unpinning_what_is_not_pinned_is_refused() {
    let mut table = HoldTable::default();
    assert!(matches!(table.unpin(3), Err(HeapError::IllegalState(_))));
    table.pin(3).expect("room");
    table.unpin(3).expect("pinned");
    assert!(matches!(table.unpin(3), Err(HeapError::IllegalState(_))));
    assert!(table.is_empty(), "an id pinned and unpinned before any request is forgotten at once");
}

#[test]
fn a_lone_create_is_held_from_its_commit_and_released_when_unpinned() {
    let mut table = HoldTable::default();
    table.create(10).expect("room");
    table.unpin(10).expect("create pins once for the caller");
    assert_eq!(table.next_request(), None, "nothing is sent before the create commits");
    assert_eq!(table.state(10), Some((0, ServerHold::Uncommitted)), "kept until the commit is known");
    table.committed(&[10], ServerHold::Yes);
    exchange(&mut table, HoldRequest::Release(vec![10]), HoldAnswer::Released);
    assert!(table.is_empty());

    table.create(11).expect("room");
    table.committed(&[11], ServerHold::Yes);
    assert_eq!(table.next_request(), None, "a pinned creation hold needs no request");
}

#[test]
fn a_create_under_a_lock_is_held_after_its_commit_only_if_still_pinned() {
    let mut table = HoldTable::default();
    table.create(20).expect("room");
    table.create(21).expect("room");
    table.unpin(21).expect("pinned");
    table.committed(&[20, 21], ServerHold::Maybe);
    exchange(&mut table, HoldRequest::Release(vec![21]), HoldAnswer::Released);
    exchange(&mut table, HoldRequest::Hold(vec![20]), held(&[]));
    assert_eq!(table.state(20), Some((1, ServerHold::Yes)));
    assert_eq!(table.len(), 1);
}

#[test]
fn discarded_creates_send_nothing_and_are_forgotten_when_unpinned() {
    let mut table = HoldTable::default();
    table.create(30).expect("room");
    table.discarded(&[30]);
    assert!(table.is_discarded(30));
    assert_eq!(table.next_request(), None);
    table.unpin(30).expect("pinned");
    assert!(table.is_empty());
}

#[test]
fn missing_ids_are_marked_collected_and_never_sent_again() {
    let mut table = HoldTable::default();
    table.pin(40).expect("room");
    table.pin(41).expect("room");
    exchange(&mut table, HoldRequest::Hold(vec![40, 41]), held(&[41]));
    assert!(table.is_missing(41));
    assert!(!table.is_missing(40));
    table.pin(41).expect("room");
    assert_eq!(table.next_request(), None, "a collected object is not asked for again");
    table.unpin(41).expect("pinned");
    table.unpin(41).expect("pinned");
    assert_eq!(table.state(41), None, "forgotten once unused");
}

#[test]
fn the_missing_counter_counts_missing_entries_until_they_are_forgotten() {
    let mut table = HoldTable::default();
    let counter = table.missing_counter();
    table.pin(50).expect("room");
    table.pin(51).expect("room");
    exchange(&mut table, HoldRequest::Hold(vec![50, 51]), held(&[50, 51]));
    assert_eq!(counter.load(std::sync::atomic::Ordering::SeqCst), 2, "both answered missing");
    table.unpin(50).expect("pinned");
    assert_eq!(counter.load(std::sync::atomic::Ordering::SeqCst), 1, "50 forgotten, 51 still pinned");
    table.validate().expect("counter matches the entries");
    table.unpin(51).expect("pinned");
    assert_eq!(counter.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing missing is tracked");
}

#[test]
fn requests_carry_at_most_the_servers_bound_and_releases_go_first() {
    let mut table = HoldTable::default();
    let count = 2 * HOLD_REQUEST_IDS_MAX as u64 + 5;
    for id in 0..count {
        table.pin(id).expect("room");
    }
    table.create(count).expect("room");
    table.unpin(count).expect("pinned");
    table.committed(&[count], ServerHold::Yes);
    let release = table.next_request().expect("due");
    assert_eq!(release, HoldRequest::Release(vec![count]), "the release goes first");
    let mut sizes = Vec::new();
    let mut sent = BTreeSet::new();
    while let Some(request) = table.next_request() {
        assert!(matches!(request, HoldRequest::Hold(_)));
        sizes.push(request.ids().len());
        for id in request.ids() {
            assert!(sent.insert(*id), "id {id} sent twice while in flight");
        }
    }
    assert_eq!(sizes, vec![HOLD_REQUEST_IDS_MAX, HOLD_REQUEST_IDS_MAX, 5]);
    assert_eq!(sent.len() as u64, count);
    table.validate().expect("valid with everything in flight");
}

#[test]
fn pins_that_change_while_a_request_is_in_flight_make_the_id_due_again() {
    let mut table = HoldTable::default();
    table.pin(50).expect("room");
    let hold = table.next_request().expect("due");
    table.unpin(50).expect("pinned");
    assert_eq!(table.state(50), Some((0, ServerHold::No)), "not forgotten while its Hold is in flight");
    table.answered(&hold, &held(&[]));
    exchange(&mut table, HoldRequest::Release(vec![50]), HoldAnswer::Released);
    assert!(table.is_empty());

    table.pin(51).expect("room");
    exchange(&mut table, HoldRequest::Hold(vec![51]), held(&[]));
    table.unpin(51).expect("pinned");
    let release = table.next_request().expect("due");
    table.pin(51).expect("room");
    table.answered(&release, &HoldAnswer::Released);
    exchange(&mut table, HoldRequest::Hold(vec![51]), held(&[]));
    assert_eq!(table.state(51), Some((1, ServerHold::Yes)));
}

#[test]
fn a_lost_answer_leaves_the_hold_unknown_and_a_refusal_changes_nothing() {
    let mut table = HoldTable::default();
    table.pin(60).expect("room");
    exchange(&mut table, HoldRequest::Hold(vec![60]), held(&[]));
    table.unpin(60).expect("pinned");
    exchange(&mut table, HoldRequest::Release(vec![60]), HoldAnswer::Failed);
    assert_eq!(table.state(60), Some((0, ServerHold::Maybe)));
    // Re-pinned after a Release that may have been applied: it must be held again.
    table.pin(60).expect("room");
    exchange(&mut table, HoldRequest::Hold(vec![60]), HoldAnswer::Refused);
    assert_eq!(table.state(60), Some((1, ServerHold::Maybe)), "a refused Hold changed nothing");
    exchange(&mut table, HoldRequest::Hold(vec![60]), held(&[]));
    assert_eq!(table.state(60), Some((1, ServerHold::Yes)));
}

#[test]
fn the_table_is_bounded_for_new_ids_only() {
    let mut table = HoldTable::with_capacity(2);
    table.pin(1).expect("room");
    table.create(2).expect("room");
    assert!(matches!(table.pin(3), Err(HeapError::Rejected(message)) if message.contains("drop references")));
    assert!(matches!(table.create(3), Err(HeapError::Rejected(_))));
    table.pin(1).expect("an id already tracked pins at the bound");
    table.unpin(1).expect("pinned");
    table.unpin(1).expect("pinned");
    table.pin(3).expect("room again once 1 is forgotten");
    assert_eq!(table.len(), 2);
    assert!(matches!(table.create(3), Err(HeapError::Internal(_))), "an id is created once");
}

/// A small deterministic generator, so a failure names the seed that reproduces it.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// The server as the table sees it: which ids exist and which this session holds.
#[derive(Default)]
struct ServerModel {
    existing: BTreeSet<u64>,
    held: BTreeSet<u64>,
}

impl ServerModel {
    fn answer(&mut self, request: &HoldRequest) -> HoldAnswer {
        match request {
            HoldRequest::Hold(ids) => {
                let missing = ids.iter().copied().filter(|id| !self.existing.contains(id)).collect();
                self.held.extend(ids.iter().copied().filter(|id| self.existing.contains(id)));
                HoldAnswer::Held { missing }
            }
            HoldRequest::Release(ids) => {
                for id in ids {
                    self.held.remove(id);
                }
                HoldAnswer::Released
            }
        }
    }
}

#[test]
fn a_seeded_run_holds_every_pinned_object_and_releases_every_dropped_one() {
    const SEED: u64 = 0x5eed_0001;
    const STEPS: u32 = 20_000;
    const IDS: u64 = 64;
    let mut random = Lcg(SEED);
    let mut table = HoldTable::with_capacity(STEPS as usize);
    let mut server = ServerModel::default();
    let mut pins: Vec<u64> = Vec::new();
    let mut next_created = 1_000;
    // Creates made "under a lock": (id, whether the commit references them).
    let mut uncommitted: Vec<(u64, bool)> = Vec::new();
    server.existing.extend(0..IDS);
    let mut in_flight: Option<HoldRequest> = None;
    for step in 0..STEPS {
        match random.below(8) {
            0 | 1 => {
                let id = random.below(IDS);
                table.pin(id).expect("room");
                pins.push(id);
            }
            2 | 3 if !pins.is_empty() => {
                let id = pins.swap_remove(random.below(pins.len() as u64) as usize);
                table.unpin(id).expect("pinned");
            }
            4 => {
                next_created += 1;
                table.create(next_created).expect("room");
                pins.push(next_created);
                uncommitted.push((next_created, random.below(2) == 0));
            }
            5 if !uncommitted.is_empty() => {
                let lone = random.below(2) == 0;
                for (id, referenced) in uncommitted.drain(..) {
                    server.existing.insert(id);
                    if lone && !referenced {
                        server.held.insert(id);
                        table.committed(&[id], ServerHold::Yes);
                    } else {
                        if !referenced {
                            server.held.insert(id);
                        }
                        table.committed(&[id], ServerHold::Maybe);
                    }
                }
            }
            6 => match in_flight.take() {
                Some(request) => {
                    let answer = server.answer(&request);
                    table.answered(&request, &answer);
                }
                None => in_flight = table.next_request(),
            },
            _ => {
                // Another client detaches an object: it is collected if nothing holds it.
                let id = random.below(IDS);
                if !server.held.contains(&id) && !pins.contains(&id) {
                    server.existing.remove(&id);
                }
            }
        }
        table.validate().unwrap_or_else(|e| panic!("seed {SEED:#x} step {step}: {e}"));
    }
    // Quiesce: answer what is in flight, commit the pending creates, send everything due.
    if let Some(request) = in_flight.take() {
        let answer = server.answer(&request);
        table.answered(&request, &answer);
    }
    for (id, _) in uncommitted.drain(..) {
        server.existing.insert(id);
        table.committed(&[id], ServerHold::Maybe);
    }
    let drain = |table: &mut HoldTable, server: &mut ServerModel| {
        while let Some(request) = table.next_request() {
            let answer = server.answer(&request);
            table.answered(&request, &answer);
        }
    };
    drain(&mut table, &mut server);
    for id in &pins {
        if server.existing.contains(id) {
            assert!(server.held.contains(id), "seed {SEED:#x}: pinned object {id} is not held");
        }
    }
    for id in pins.drain(..) {
        table.unpin(id).expect("pinned");
    }
    drain(&mut table, &mut server);
    assert!(server.held.is_empty(), "seed {SEED:#x}: still held after every pin went: {:?}", server.held);
    assert!(table.is_empty(), "seed {SEED:#x}: the table forgot nothing");
}
