//! Adapts the pure heap (`heap_machine::Heap`) to raft-store's `Machine` contract, and publishes
//! which objects each applied entry changed and which locks it left contended (the feed behind the
//! `Watch` RPC that clients use to invalidate their caches and give back greedily held locks).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use heap_machine::is_collect_envelope;
use heap_machine::lock_name_of_key;
use heap_machine::object_id_of_key;
use heap_machine::Heap;
use raft_store::ChangeSet;
use raft_store::LoadError;
use raft_store::Machine;
use tokio::sync::broadcast;

use crate::gc::stats::GcStats;
use crate::thread_cpu::thread_cpu_time;
use crate::thread_usage::ThreadUsage;

/// Feed events buffered per subscriber; a subscriber that falls further behind gets a reset.
pub const CHANGE_FEED_CAPACITY: usize = 4096;
/// A Collect apply longer than this (wall) is logged with what the thread went through, so
/// the collector's bound (~10 ms an entry, issue 11) can be traced when a node misses it.
pub const SLOW_COLLECT_APPLY_US: u64 = 10_000;

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    /// The entry at `log_index` changed these objects, and left these locks (each written by the
    /// entry, sorted by name) held with a non-empty queue: greedy holders should release them.
    Changed { log_index: u64, ids: Vec<u64>, contended_locks: Vec<String> },
    /// The whole state was replaced (a snapshot was installed): every cached object is suspect.
    Reset,
}

/// The heap as raft-store drives it.
pub struct HeapMachine {
    pub heap: Heap,
    feed: broadcast::Sender<FeedEvent>,
    /// Where the apply time of each Collect entry is recorded.
    gc_stats: Arc<GcStats>,
}

impl HeapMachine {
    pub fn new(feed: broadcast::Sender<FeedEvent>, gc_stats: Arc<GcStats>) -> Self {
        Self { heap: Heap::default(), feed, gc_stats }
    }

    /// Applies a Collect entry and records its time (wall and thread CPU); a slow one is logged
    /// with the thread's faults and context switches. Other entries are not timed: the clocks
    /// are system calls.
    fn apply_timed_collect(&mut self, log_index: u64, command: &[u8], changes: &mut ChangeSet) -> Vec<u8> {
        let started = Instant::now();
        let started_cpu = thread_cpu_time();
        let started_usage = ThreadUsage::now();
        let reply = self.heap.apply(log_index, command, &mut changes.writes);
        let (wall, cpu) = (started.elapsed(), thread_cpu_time().saturating_sub(started_cpu));
        let freed = match heap_machine::decode_reply(&reply) {
            Ok(heap_machine::Reply::Collected { freed, .. }) => freed,
            _ => 0,
        };
        self.gc_stats.record_step(wall, cpu, freed);
        if wall.as_micros() as u64 > SLOW_COLLECT_APPLY_US {
            let usage = ThreadUsage::now().since(&started_usage);
            tracing::info!(
                log_index,
                freed,
                wall_us = wall.as_micros() as u64,
                cpu_us = cpu.as_micros() as u64,
                minor_faults = usage.minor_faults,
                major_faults = usage.major_faults,
                voluntary_switches = usage.voluntary_switches,
                involuntary_switches = usage.involuntary_switches,
                "slow Collect apply"
            );
        }
        reply
    }

    /// The locks among an entry's `written` keys that are contended now that it is applied, once
    /// each and sorted by name (so every replica publishes the same list). Only written locks:
    /// a lock becomes contended only by an entry that changes it, and that entry writes its key.
    fn contended_locks(&self, written: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<String> {
        let names: BTreeSet<&str> = written
            .iter()
            .filter_map(|(key, _)| lock_name_of_key(key))
            .filter(|name| self.heap.lock_is_contended(name))
            .collect();
        names.into_iter().map(str::to_string).collect()
    }
}

impl Machine for HeapMachine {
    fn apply(&mut self, log_index: u64, command: &[u8], changes: &mut ChangeSet) -> Vec<u8> {
        let written_before = changes.writes.len();
        // Ids from here up were never handed out before this entry: no client can have cached
        // them, so creations need no invalidation (a bulk create would otherwise fill the feed's
        // buffer with ids nobody caches: 8 KB per 1,000-object transaction, 4,096 events deep).
        let first_new_id = self.heap.next_id();
        let reply = if is_collect_envelope(command) {
            self.apply_timed_collect(log_index, command, changes)
        } else {
            self.heap.apply(log_index, command, &mut changes.writes)
        };
        let written = &changes.writes[written_before..];
        let ids: Vec<u64> =
            written.iter().filter_map(|(key, _)| object_id_of_key(key)).filter(|id| *id < first_new_id).collect();
        let contended_locks = self.contended_locks(written);
        if !ids.is_empty() || !contended_locks.is_empty() {
            // No subscriber is fine: nobody caches anything or holds a lock greedily.
            let _ = self.feed.send(FeedEvent::Changed { log_index, ids, contended_locks });
        }
        reply
    }

    fn clear(&mut self) {
        self.heap.clear();
        let _ = self.feed.send(FeedEvent::Reset);
    }

    fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), LoadError> {
        self.heap.load(key, value).map_err(|e| LoadError { key: key.to_vec(), reason: e.to_string() })
    }

    fn export(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.heap.export()
    }

    fn export_len(&self) -> usize {
        self.heap.export_len()
    }

    fn export_each(&self, each: &mut dyn FnMut(&[u8], &[u8])) {
        self.heap.export_each(each);
    }

    fn validate(&self) -> Result<(), LoadError> {
        self.heap.validate().map_err(|reason| LoadError { key: Vec::new(), reason })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use heap_machine as hm;

    use super::*;

    #[test]
    fn applied_changes_are_published_with_their_log_index() {
        let (feed, mut events) = broadcast::channel(16);
        let mut machine = HeapMachine::new(feed, Arc::default());
        let envelope = hm::Envelope {
            leader_time_ms: 0,
            command: hm::Command::Transaction(hm::Transaction {
                expect: vec![],
                fences: vec![],
                ops: vec![hm::Op::Create { handle: 0, class: "C".into(), kind: hm::ObjectKind::Map }],
            }),
        };
        machine.apply(7, &hm::encode_envelope(&envelope), &mut ChangeSet::default());
        assert!(events.try_recv().is_err(), "a new object is in nobody's cache: nothing to invalidate");
        let set =
            hm::Op::MapPut { target: hm::Target::Id(hm::OBJECT_ID_FIRST), key: "k".into(), value: hm::Value::Int(1) };
        let envelope = hm::Envelope {
            leader_time_ms: 0,
            command: hm::Command::Transaction(hm::Transaction { expect: vec![], fences: vec![], ops: vec![set] }),
        };
        machine.apply(8, &hm::encode_envelope(&envelope), &mut ChangeSet::default());
        assert_eq!(
            events.try_recv().unwrap(),
            FeedEvent::Changed { log_index: 8, ids: vec![hm::OBJECT_ID_FIRST], contended_locks: vec![] }
        );
        machine.apply(9, b"garbage", &mut ChangeSet::default());
        assert!(events.try_recv().is_err(), "an entry that changed no object publishes nothing");
        machine.clear();
        assert_eq!(events.try_recv().unwrap(), FeedEvent::Reset);
    }

    fn apply_envelope(machine: &mut HeapMachine, log_index: u64, command: hm::Command) -> hm::Reply {
        let envelope = hm::Envelope { leader_time_ms: 0, command };
        let reply = machine.apply(log_index, &hm::encode_envelope(&envelope), &mut ChangeSet::default());
        hm::decode_reply(&reply).unwrap()
    }

    fn open_session(machine: &mut HeapMachine, log_index: u64) -> hm::SessionId {
        let open = hm::Command::OpenSession { client: "c".into(), ttl_ms: 10_000, owner: "app".into() };
        match apply_envelope(machine, log_index, open) {
            hm::Reply::SessionOpened { session_id, .. } => session_id,
            other => panic!("OpenSession gave {other:?}"),
        }
    }

    fn lock(session_id: hm::SessionId, name: &str) -> hm::Command {
        hm::Command::Session(hm::SessionRequest {
            session_id,
            caller: hm::Caller { name: "app".into(), admin: false },
            sequence: 1,
            acknowledged_below: 0,
            command: hm::SessionCommand::Lock {
                name: name.into(),
                thread: 1,
                mode: hm::LockMode::Write,
                timeout_ms: None,
            },
        })
    }

    #[test]
    fn a_lock_with_a_queue_behind_its_holder_is_published_as_contended() {
        let (feed, mut events) = broadcast::channel(16);
        let mut machine = HeapMachine::new(feed, Arc::default());
        let first = open_session(&mut machine, 1);
        let second = open_session(&mut machine, 2);
        assert!(events.try_recv().is_err(), "opening sessions changes no object and no lock");

        assert!(matches!(apply_envelope(&mut machine, 3, lock(first, "L")), hm::Reply::LockGranted { .. }));
        assert!(events.try_recv().is_err(), "a grant to the only requester leaves nobody waiting");

        assert_eq!(apply_envelope(&mut machine, 4, lock(second, "L")), hm::Reply::Pending);
        assert_eq!(
            events.try_recv().unwrap(),
            FeedEvent::Changed { log_index: 4, ids: vec![], contended_locks: vec!["L".to_string()] }
        );
        assert!(events.try_recv().is_err(), "one event per entry");
    }
}
