//! The client's object cache (L1): objects as last read, evicted when the change stream names
//! them or when the cache is full (least recently used first).

use std::collections::HashMap;

use proto::heap as pb;

/// Objects one client caches at most.
pub const CACHE_OBJECTS_MAX: usize = 100_000;
/// When full, this share of the least recently used objects is evicted at once (amortises the
/// sort over many inserts).
const EVICT_FRACTION_PERCENT: usize = 10;

struct Entry {
    object: pb::Object,
    last_used: u64,
}

#[derive(Default)]
pub struct Cache {
    // Lookup only, never iterated for anything observable, so hash order does not matter.
    entries: HashMap<u64, Entry>,
    clock: u64,
    /// The applied index up to which the change stream has evicted changed objects.
    seen_index: u64,
}

impl Cache {
    pub fn get(&mut self, id: u64) -> Option<&pb::Object> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(&id).map(|entry| {
            entry.last_used = clock;
            &entry.object
        })
    }

    /// The applied index the change stream has been read to.
    pub fn seen_index(&self) -> u64 {
        self.seen_index
    }

    pub fn advance(&mut self, applied_index: u64) {
        self.seen_index = self.seen_index.max(applied_index);
    }

    /// Caches `object` as read at `read_index`, unless the change stream is already past that
    /// index: then a later change to it may have been evicted already, and caching it would keep
    /// a stale copy. (Changes after `read_index` that the stream has not reached yet evict it
    /// when they arrive.)
    pub fn insert_read_at(&mut self, object: pb::Object, read_index: u64) -> bool {
        if self.seen_index > read_index {
            return false;
        }
        self.insert(object);
        true
    }

    pub fn insert(&mut self, object: pb::Object) {
        if self.entries.len() >= CACHE_OBJECTS_MAX {
            self.evict();
        }
        self.clock += 1;
        self.entries.insert(object.id, Entry { object, last_used: self.clock });
    }

    pub fn remove(&mut self, id: u64) {
        self.entries.remove(&id);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn evict(&mut self) {
        let mut ages: Vec<(u64, u64)> = self.entries.iter().map(|(id, e)| (e.last_used, *id)).collect();
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
