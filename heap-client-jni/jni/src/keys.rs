//! `KeyTable`: field and map keys interned to small ids, once per JVM, so a hot read
//! (`Native.getLongById`, ...) crosses JNI with an `int` instead of a `String`: no UTF-8
//! conversion, no allocation per call. Append-only: an id, once issued, names the same key until
//! the process ends, so Java may cache it for good and a lookup needs no lock (each slot is
//! written once, before its id is handed out).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::PoisonError;

use crate::failure::Failure;

/// Keys one JVM interns at most. Field names are few (classes times fields); map keys can be
/// unbounded, so past this bound `intern` says no and Java reads those keys by `String`, as before
/// the fast path. 16,384 slots cost 384 KB of slots up front, and the keys themselves.
pub const KEYS_MAX: usize = 16_384;
/// Longest key interned, in UTF-8 bytes; longer keys (rare, and never hot field names) take the
/// `String` path. With `KEYS_MAX` it bounds the table's text to 16 MB. Java asks only for keys
/// of at most 256 UTF-16 chars (`Keys.KEY_CHARS_MAX`), at most 4 bytes per char, so from Java
/// `intern` fails only when the table is full.
pub const KEY_BYTES_MAX: usize = 1_024;

const _: () = assert!(KEYS_MAX <= i32::MAX as usize, "ids travel as Java ints");

pub struct KeyTable {
    /// Slot `id` holds the key issued as `id`; written once, under `ids`' mutex, before the id
    /// is returned to anyone.
    slots: Vec<OnceLock<Box<str>>>,
    /// Key to id, for `intern` (the slow path, once per key).
    ids: Mutex<HashMap<Box<str>, u32>>,
}

impl KeyTable {
    /// A table of at most `keys_max` keys (tests use small bounds).
    pub fn with_capacity(keys_max: usize) -> Self {
        assert!(keys_max <= KEYS_MAX, "a key table holds at most KEYS_MAX keys");
        Self { slots: (0..keys_max).map(|_| OnceLock::new()).collect(), ids: Mutex::new(HashMap::new()) }
    }

    /// The id of `key`, issued on its first call; None when the table is full or the key is
    /// longer than `KEY_BYTES_MAX` (read it by name instead).
    pub fn intern(&self, key: &str) -> Option<u32> {
        // Only map operations and a OnceLock set run under the lock, none of which leaves the
        // map inconsistent if it panics, so a poisoned lock is still usable.
        let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(id) = ids.get(key) {
            return Some(*id);
        }
        if key.len() > KEY_BYTES_MAX || ids.len() >= self.slots.len() {
            return None;
        }
        let id = ids.len();
        let stored = self.slots[id].set(Box::from(key));
        assert!(stored.is_ok(), "key slot {id} was written twice");
        ids.insert(Box::from(key), id as u32);
        Some(id as u32)
    }

    /// The key issued as `id`, without a lock; an id never issued is an `UnknownKey` failure.
    pub fn key(&self, id: i32) -> Result<&str, Failure> {
        let slot = usize::try_from(id).ok().and_then(|index| self.slots.get(index));
        slot.and_then(OnceLock::get).map(|key| &**key).ok_or(Failure::UnknownKey(id))
    }
}

/// The table of this process (every client shares it: a key id says nothing about a client).
pub fn keys() -> &'static KeyTable {
    static KEYS: OnceLock<KeyTable> = OnceLock::new();
    KEYS.get_or_init(|| KeyTable::with_capacity(KEYS_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_one_id_and_the_id_names_it() {
        let table = KeyTable::with_capacity(8);
        let balance = table.intern("balance").expect("room");
        let owner = table.intern("owner").expect("room");
        assert_ne!(balance, owner);
        assert_eq!(table.intern("balance"), Some(balance), "interning again returns the same id");
        assert_eq!(table.key(balance as i32).expect("issued"), "balance");
        assert_eq!(table.key(owner as i32).expect("issued"), "owner");
    }

    #[test]
    fn ids_never_issued_are_unknown_key_failures() {
        let table = KeyTable::with_capacity(8);
        table.intern("a").expect("room");
        for id in [-1, 1, 7, 8, i32::MAX, i32::MIN] {
            assert!(matches!(table.key(id), Err(Failure::UnknownKey(bad)) if bad == id), "id {id}");
        }
    }

    #[test]
    fn a_full_table_refuses_new_keys_but_keeps_the_old_ones() {
        let table = KeyTable::with_capacity(2);
        let a = table.intern("a").expect("room");
        let b = table.intern("b").expect("room");
        assert_eq!(table.intern("c"), None, "full");
        assert_eq!(table.intern("a"), Some(a), "known keys still answer");
        assert_eq!(table.key(b as i32).expect("issued"), "b");
    }

    #[test]
    fn overlong_keys_are_not_interned_and_unicode_keys_are() {
        let table = KeyTable::with_capacity(4);
        assert_eq!(table.intern(&"x".repeat(KEY_BYTES_MAX + 1)), None);
        assert!(table.intern(&"x".repeat(KEY_BYTES_MAX)).is_some(), "the bound itself is allowed");
        let id = table.intern("prénom€𝄞").expect("room");
        assert_eq!(table.key(id as i32).expect("issued"), "prénom€𝄞");
    }

    #[test]
    fn threads_interning_the_same_keys_agree_on_their_ids() {
        let table = KeyTable::with_capacity(64);
        let ids: Vec<Vec<u32>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| (0..32).map(|k| table.intern(&format!("k{k}")).expect("room")).collect()))
                .collect();
            workers.into_iter().map(|worker| worker.join().expect("no panic")).collect()
        });
        assert!(ids.iter().all(|mine| *mine == ids[0]), "{ids:?}");
        for (k, id) in ids[0].iter().enumerate() {
            assert_eq!(table.key(*id as i32).expect("issued"), format!("k{k}"));
        }
    }
}
