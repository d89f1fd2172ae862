//! `Registry`: open clients by handle. Java holds a `long` handle, never a pointer: a handle that
//! was closed (or never existed) is refused instead of being dereferenced, so double close and
//! use after close are errors, not memory corruption, and each client is dropped exactly once.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::PoisonError;
use std::sync::RwLock;

/// Open clients per JVM. A web application needs one or a few; thousands mean a leak (clients
/// opened per request and never closed), which is better refused than left to exhaust threads.
pub const HANDLES_MAX: usize = 4_096;

/// Handles of open values, each an `Arc` so a call in flight keeps its client alive while another
/// thread closes it; the last `Arc` to go drops it.
pub struct Registry<T> {
    entries: RwLock<BTreeMap<u64, Arc<T>>>,
    next_handle: AtomicU64,
}

impl<T> Registry<T> {
    pub const fn new() -> Self {
        Self { entries: RwLock::new(BTreeMap::new()), next_handle: AtomicU64::new(1) }
    }

    /// Registers `value` and returns its handle (never 0, never reused), or gives the value back
    /// when `HANDLES_MAX` are open.
    pub fn insert(&self, value: T) -> Result<u64, T> {
        // A panic never happens while the lock is held (only map operations run under it), so
        // a poisoned lock still holds a consistent map.
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= HANDLES_MAX {
            return Err(value);
        }
        let handle = self.next_handle.fetch_add(1, Ordering::Relaxed);
        assert!(handle != 0, "handle counter wrapped");
        let previous = entries.insert(handle, Arc::new(value));
        assert!(previous.is_none(), "handle {handle} issued twice");
        Ok(handle)
    }

    /// The value behind `handle`, if it is open.
    pub fn get(&self, handle: u64) -> Option<Arc<T>> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).get(&handle).cloned()
    }

    /// `f` of the value behind `handle`, if it is open, run under the registry's read lock instead
    /// of on a clone of its `Arc` (two atomic operations fewer): only for calls that do no I/O,
    /// such as a cached read, since `insert` and `remove` wait for them.
    pub fn with<R>(&self, handle: u64, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).get(&handle).map(|value| f(value))
    }

    /// Unregisters `handle`; only the first call for a handle gets the value.
    pub fn remove(&self, handle: u64) -> Option<Arc<T>> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner).remove(&handle)
    }

    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_distinct_and_never_zero() {
        let registry = Registry::new();
        let a = registry.insert("a").expect("room");
        let b = registry.insert("b").expect("room");
        assert_ne!(a, 0);
        assert_ne!(a, b);
        assert_eq!(registry.get(a).as_deref(), Some(&"a"));
        assert_eq!(registry.get(b).as_deref(), Some(&"b"));
        assert_eq!(registry.len(), 2);
    }

    #[test]
    fn only_the_first_remove_gets_the_value() {
        let registry = Registry::new();
        let handle = registry.insert(String::from("client")).expect("room");
        assert!(registry.remove(handle).is_some());
        assert!(registry.remove(handle).is_none());
        assert!(registry.get(handle).is_none());
        assert!(registry.is_empty());
    }

    #[test]
    fn with_runs_on_open_values_only() {
        let registry = Registry::new();
        let handle = registry.insert(String::from("client")).expect("room");
        assert_eq!(registry.with(handle, |value| value.len()), Some(6));
        registry.remove(handle).expect("first remove");
        assert_eq!(registry.with(handle, |value| value.len()), None);
    }

    #[test]
    fn unknown_handles_are_refused() {
        let registry: Registry<u8> = Registry::new();
        assert!(registry.get(0).is_none());
        assert!(registry.get(u64::MAX).is_none());
        assert!(registry.remove(7).is_none());
    }

    #[test]
    fn a_call_in_flight_keeps_the_value_alive_past_remove() {
        let registry = Registry::new();
        let handle = registry.insert(vec![1u8, 2, 3]).expect("room");
        let in_flight = registry.get(handle).expect("open");
        let removed = registry.remove(handle).expect("first remove");
        assert_eq!(Arc::strong_count(&in_flight), 2);
        drop(removed);
        assert_eq!(*in_flight, vec![1, 2, 3]);
        assert_eq!(Arc::strong_count(&in_flight), 1);
    }

    #[test]
    fn the_number_of_open_values_is_bounded() {
        let registry = Registry::new();
        for i in 0..HANDLES_MAX {
            registry.insert(i).expect("below the bound");
        }
        assert_eq!(registry.insert(usize::MAX), Err(usize::MAX));
        assert_eq!(registry.len(), HANDLES_MAX);
    }
}
