//! Adapts the pure heap (`heap_machine::Heap`) to raft-store's `Machine` contract, and publishes
//! which objects each applied entry changed (the feed behind the `Watch` RPC that clients use to
//! invalidate their caches).

use std::sync::Arc;
use std::time::Instant;

use heap_machine::is_collected_reply;
use heap_machine::object_id_of_key;
use heap_machine::Heap;
use raft_store::ChangeSet;
use raft_store::LoadError;
use raft_store::Machine;
use tokio::sync::broadcast;

use crate::gc::stats::GcStats;
use crate::thread_cpu::thread_cpu_time;

/// Feed events buffered per subscriber; a subscriber that falls further behind gets a reset.
pub const CHANGE_FEED_CAPACITY: usize = 4096;

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    /// The entry at `log_index` changed these objects.
    Changed { log_index: u64, ids: Vec<u64> },
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
}

impl Machine for HeapMachine {
    fn apply(&mut self, log_index: u64, command: &[u8], changes: &mut ChangeSet) -> Vec<u8> {
        let written_before = changes.writes.len();
        // Ids from here up were never handed out before this entry: no client can have cached
        // them, so creations need no invalidation (a bulk create would otherwise fill the feed's
        // buffer with ids nobody caches: 8 KB per 1,000-object transaction, 4,096 events deep).
        let first_new_id = self.heap.next_id();
        let started = Instant::now();
        let started_cpu = thread_cpu_time();
        let reply = self.heap.apply(log_index, command, &mut changes.writes);
        if is_collected_reply(&reply) {
            let freed = match heap_machine::decode_reply(&reply) {
                Ok(heap_machine::Reply::Collected { freed, .. }) => freed,
                _ => 0,
            };
            self.gc_stats.record_step(started.elapsed(), thread_cpu_time().saturating_sub(started_cpu), freed);
        }
        let ids: Vec<u64> = changes.writes[written_before..]
            .iter()
            .filter_map(|(key, _)| object_id_of_key(key))
            .filter(|id| *id < first_new_id)
            .collect();
        if !ids.is_empty() {
            // No subscriber is fine: nobody caches anything.
            let _ = self.feed.send(FeedEvent::Changed { log_index, ids });
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
        assert_eq!(events.try_recv().unwrap(), FeedEvent::Changed { log_index: 8, ids: vec![hm::OBJECT_ID_FIRST] });
        machine.apply(9, b"garbage", &mut ChangeSet::default());
        assert!(events.try_recv().is_err(), "an entry that changed no object publishes nothing");
        machine.clear();
        assert_eq!(events.try_recv().unwrap(), FeedEvent::Reset);
    }
}
