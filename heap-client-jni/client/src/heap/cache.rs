//! The client's object cache (L1): objects as last read, evicted when the change stream names
//! them or when the cache is full (least recently used first). It also remembers which objects
//! the stream named at which index, for the last `RECENT_CHANGES_MAX` of them, so a read answered
//! at an index the stream has already passed can still be cached when none of its objects changed
//! since (a prefetch of a thousand objects is not thrown away because a keep-alive was applied
//! while it was on the wire).
//!
//! Read-mostly: the client keeps it behind an `RwLock`, and `get` takes `&self` (objects are shared
//! `Arc`s, the recency stamp is atomic), so cached reads from many threads never wait for each
//! other, only for the change stream's evictions and for inserts.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::hash::BuildHasherDefault;
use std::hash::Hasher;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use proto::heap as pb;

/// Objects one client caches at most.
pub const CACHE_OBJECTS_MAX: usize = 100_000;
/// When full, this share of the least recently used objects is evicted at once (amortises the
/// sort over many inserts).
const EVICT_FRACTION_PERCENT: usize = 10;
/// Changed ids the cache remembers with their index (about 16 bytes each, twice): enough for the
/// changes applied while a read is on the wire (milliseconds) under a heavy write load.
pub const RECENT_CHANGES_MAX: usize = 10_000;

/// Hashes object ids with one multiply (Fibonacci hashing) instead of SipHash, which cost a
/// third of a cached read's time in the cache. Ids are issued by the cluster from leased ranges,
/// not chosen by whoever could want to collide them, so HashDoS resistance buys nothing here.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (the keys are u64); this keeps any other key type correct.
        for byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*byte)).wrapping_mul(ID_HASH_MULTIPLIER);
        }
    }

    fn write_u64(&mut self, id: u64) {
        // hashbrown takes its bucket index from the low bits and its tag from the top 7 bits:
        // the multiply spreads sequential ids over both.
        self.0 = (self.0 ^ id).wrapping_mul(ID_HASH_MULTIPLIER);
    }
}

/// 2^64 divided by the golden ratio, odd: consecutive ids land far apart.
const ID_HASH_MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

struct Entry {
    /// Shared with the readers that got it: a hit costs a reference count, not a copy.
    object: Arc<pb::Object>,
    /// The `clock` when last read or inserted. Reads stamp it without a write lock (relaxed: it
    /// only orders evictions, never what a reader sees).
    last_used: AtomicU64,
}

pub struct Cache {
    // Lookup only, never iterated for anything observable, so hash order does not matter.
    entries: IdMap<Entry>,
    /// Advanced by every insert (under the write lock); reads stamp entries with it, so recency is
    /// kept to the granularity of inserts, which is what eviction (triggered by inserts) needs.
    clock: u64,
    /// The applied index up to which the change stream has evicted changed objects.
    seen_index: u64,
    /// The last index at which the stream named each remembered id.
    changed_at: IdMap<u64>,
    /// (index, id) in the order the stream named them, to forget the oldest first.
    recent: VecDeque<(u64, u64)>,
    /// Every change after this index is in `changed_at` (older ones were forgotten, or happened
    /// before a reset or the stream's start).
    recent_from: u64,
}

impl Default for Cache {
    /// Empty, and knowing no change yet: the stream's first `advance` starts what it knows.
    fn default() -> Self {
        Cache {
            entries: IdMap::default(),
            clock: 0,
            seen_index: 0,
            changed_at: IdMap::default(),
            recent: VecDeque::new(),
            recent_from: u64::MAX,
        }
    }
}

impl Cache {
    /// The cached object `id`, stamped as used now.
    pub fn get(&self, id: u64) -> Option<&Arc<pb::Object>> {
        self.entries.get(&id).map(|entry| {
            entry.last_used.store(self.clock, Ordering::Relaxed);
            &entry.object
        })
    }

    /// The applied index the change stream has been read to.
    pub fn seen_index(&self) -> u64 {
        self.seen_index
    }

    /// The stream has evicted everything changed up to `applied_index`. After a `clear`, what it
    /// names from here on is known again.
    pub fn advance(&mut self, applied_index: u64) {
        self.seen_index = self.seen_index.max(applied_index);
        if self.recent_from == u64::MAX {
            self.recent_from = self.seen_index;
        }
    }

    /// The change stream named `id` as changed at `applied_index`: evicts it and remembers when.
    pub fn changed(&mut self, id: u64, applied_index: u64) {
        self.remove(id);
        self.changed_at.insert(id, applied_index);
        self.recent.push_back((applied_index, id));
        while self.recent.len() > RECENT_CHANGES_MAX {
            let Some((index, forgotten)) = self.recent.pop_front() else { break };
            if self.changed_at.get(&forgotten) == Some(&index) {
                self.changed_at.remove(&forgotten);
            }
            self.recent_from = self.recent_from.max(index);
        }
    }

    /// Caches `object` as read at `read_index`. When the change stream is already past that
    /// index, only if the cache knows every change since and none was to this object: otherwise a
    /// later change to it may have been evicted already, and caching it would keep a stale copy.
    /// (Changes after `read_index` that the stream has not reached yet evict it when they arrive.)
    pub fn insert_read_at(&mut self, object: impl Into<Arc<pb::Object>>, read_index: u64) -> bool {
        let object = object.into();
        if self.seen_index > read_index && !self.unchanged_since(object.id, read_index) {
            return false;
        }
        self.insert(object);
        true
    }

    /// Whether the stream is known to have named `id` at no index after `read_index`.
    fn unchanged_since(&self, id: u64, read_index: u64) -> bool {
        read_index >= self.recent_from && self.changed_at.get(&id).is_none_or(|index| *index <= read_index)
    }

    pub fn insert(&mut self, object: impl Into<Arc<pb::Object>>) {
        let object = object.into();
        if self.entries.len() >= CACHE_OBJECTS_MAX {
            self.evict();
        }
        self.clock += 1;
        self.entries.insert(object.id, Entry { object, last_used: AtomicU64::new(self.clock) });
    }

    pub fn remove(&mut self, id: u64) {
        self.entries.remove(&id);
    }

    /// Drops every object, and what it knew of past changes: a read from before now cannot be
    /// checked against them any more.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.changed_at.clear();
        self.recent.clear();
        self.recent_from = u64::MAX;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn evict(&mut self) {
        let mut ages: Vec<(u64, u64)> =
            self.entries.iter().map(|(id, e)| (e.last_used.load(Ordering::Relaxed), *id)).collect();
        ages.sort_unstable();
        let count = (self.entries.len() * EVICT_FRACTION_PERCENT / 100).max(1);
        for (_, id) in ages.into_iter().take(count) {
            self.entries.remove(&id);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn object(id: u64) -> pb::Object {
        pb::Object { id, ..Default::default() }
    }

    #[test]
    fn a_read_the_stream_passed_is_cached_only_if_its_object_did_not_change_since() {
        let mut cache = Cache::default();
        cache.advance(10);
        cache.changed(1, 12);
        cache.changed(2, 14);
        cache.advance(15);
        assert!(cache.insert_read_at(object(3), 11), "3 did not change after 11");
        assert!(!cache.insert_read_at(object(1), 11), "1 changed at 12, after the read");
        assert!(cache.insert_read_at(object(1), 12), "the read at 12 has 1's change");
        assert!(!cache.insert_read_at(object(2), 13));
        assert!(cache.insert_read_at(object(4), 15), "a read at the stream's index is always fine");
        assert!(cache.get(1).is_some() && cache.get(3).is_some() && cache.get(2).is_none());
        assert!(!cache.insert_read_at(object(5), 9), "before what the cache knows of: refused");
    }

    #[test]
    fn after_a_clear_only_reads_from_the_next_index_on_are_checked() {
        let mut cache = Cache::default();
        cache.advance(20);
        cache.clear();
        assert!(!cache.insert_read_at(object(1), 19), "changes up to the clear are unknown");
        cache.advance(25);
        assert!(!cache.insert_read_at(object(1), 22), "changes between 20 and 25 were not named one by one");
        cache.changed(2, 27);
        cache.advance(27);
        assert!(cache.insert_read_at(object(1), 25));
        assert!(!cache.insert_read_at(object(2), 26));
    }

    #[test]
    fn the_oldest_changes_are_forgotten_and_reads_before_them_refused() {
        let mut cache = Cache::default();
        cache.advance(1);
        for index in 0..(RECENT_CHANGES_MAX as u64 + 10) {
            cache.changed(1_000_000 + index, 2 + index);
        }
        cache.advance(RECENT_CHANGES_MAX as u64 + 20);
        assert!(cache.recent.len() <= RECENT_CHANGES_MAX && cache.changed_at.len() <= RECENT_CHANGES_MAX);
        assert!(!cache.insert_read_at(object(7), 5), "changes after 5 were forgotten: cannot tell");
        assert!(cache.insert_read_at(object(7), 100));
        assert!(!cache.insert_read_at(object(1_000_000 + 200), 100), "changed at 202");
    }

    #[test]
    fn sequential_ids_hash_apart_in_the_low_and_the_high_bits() {
        let hash = |id: u64| {
            let mut hasher = IdHasher::default();
            hasher.write_u64(id);
            hasher.finish()
        };
        let low: std::collections::BTreeSet<u64> = (0..1_024u64).map(|id| hash(id) & 1_023).collect();
        let high: std::collections::BTreeSet<u64> = (0..1_024u64).map(|id| hash(id) >> 57).collect();
        assert!(low.len() > 600, "{} distinct low 10-bit buckets of 1,024 ids", low.len());
        assert_eq!(high.len(), 128, "every 7-bit tag is used");
    }

    #[test]
    fn least_recently_used_objects_go_first() {
        let mut cache = Cache::default();
        for id in 0..CACHE_OBJECTS_MAX as u64 {
            cache.insert(object(id));
        }
        assert!(cache.get(0).is_some(), "touch object 0");
        cache.insert(object(u64::MAX));
        assert!(cache.len() < CACHE_OBJECTS_MAX);
        assert!(cache.get(0).is_some(), "recently used object 0 survived");
        assert!(cache.get(1).is_none(), "the oldest untouched object was evicted");
        assert!(cache.get(u64::MAX).is_some());
    }
}
