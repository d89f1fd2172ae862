//! `Endpoints`: the node addresses clients use, shared by the nemesis (which changes them when a
//! member is added or leaves) and the workers (which rebuild their client when they change), so
//! no client depends on a removed node or misses a new one.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::RwLock;

pub struct Endpoints {
    addrs: RwLock<Vec<String>>,
    /// Bumped on every change: a worker compares it with the one its client was built for.
    generation: AtomicU64,
}

impl Endpoints {
    pub fn new(addrs: Vec<String>) -> Self {
        Self { addrs: RwLock::new(addrs), generation: AtomicU64::new(0) }
    }

    /// The addresses now, and their generation.
    pub fn current(&self) -> (Vec<String>, u64) {
        // A writer cannot panic while holding the lock (it only swaps a Vec), so a poisoned lock
        // still holds a whole list.
        let addrs = self.addrs.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        (addrs.clone(), self.generation.load(Ordering::SeqCst))
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Replaces the addresses (ignored when empty or unchanged: a client needs at least one).
    pub fn set(&self, new_addrs: Vec<String>) {
        let mut addrs = self.addrs.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if new_addrs.is_empty() || *addrs == new_addrs {
            return;
        }
        *addrs = new_addrs;
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}
