//! The persisted image of the heap as key/value pairs: how keys and values are encoded, and
//! `Heap::export` / `Heap::load`, which must round-trip exactly.
//!
//! Keys: `o/` + id (8 bytes big-endian) -> encoded object; `r/` + root name -> id (8 bytes BE);
//! `l/` + lock name -> encoded lock state; `s/` + session id (8 bytes BE) -> encoded session
//! header; `s/` + session id + sequence (8 bytes BE each) -> encoded stored reply;
//! `h/` + session id + object id (8 bytes BE each) -> empty (the session holds the object);
//! `d/` + id (8 bytes BE) + chunk (4 bytes BE) -> a chunk of the references a freed object
//! still has to have decremented, 8 bytes BE each (see `dying.rs`);
//! `m/next_id`, `m/next_session_id`, `m/now_ms` and `m/applied` (the applied log index) -> 8
//! bytes BE. Big-endian numbers make key order equal numeric order, so a store's range scan sees
//! objects in id order and a session's header just before its replies in sequence order.
//!
//! Each reply has its own key so that renewing a lease or storing one reply writes a few bytes,
//! not the session's whole reply table. `export` always lists the `m/` keys; a missing one
//! loads as its initial value, as in `Heap::new()`.

use crate::codec::{
    decode_lock, decode_object, decode_reply, decode_session, encode_lock, encode_reply, encode_session,
};
use crate::command::{SessionId, SESSION_ID_FIRST};
use crate::dying::{decode_references, encode_references, CHUNKS_PER_OBJECT_MAX};
use crate::heap::Heap;
use crate::names::{check_name, NameKind};
use crate::value::{ObjectId, Value, OBJECT_ID_FIRST};

const OBJECT_KEY_PREFIX: &[u8] = b"o/";
pub const DYING_KEY_PREFIX: &[u8] = b"d/";
pub const HOLD_KEY_PREFIX: &[u8] = b"h/";
pub const ROOT_KEY_PREFIX: &[u8] = b"r/";
pub const LOCK_KEY_PREFIX: &[u8] = b"l/";
pub const SESSION_KEY_PREFIX: &[u8] = b"s/";
pub const NEXT_ID_KEY: &[u8] = b"m/next_id";
pub const NEXT_SESSION_ID_KEY: &[u8] = b"m/next_session_id";
pub const NOW_KEY: &[u8] = b"m/now_ms";
pub const APPLIED_INDEX_KEY: &[u8] = b"m/applied";

const U64_VALUE_BYTES: usize = 8;

/// A persisted image that cannot be a heap this code wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error(
        "the heap image in the data directory is corrupt: unknown key {key}; stop this node, \
         delete its data directory and let it rebuild from a peer"
    )]
    UnknownKey { key: String },
    #[error(
        "the heap image in the data directory is corrupt: key {key}: {reason}; stop this node, \
         delete its data directory and let it rebuild from a peer"
    )]
    InvalidValue { key: String, reason: String },
}

pub fn object_key(id: ObjectId) -> Vec<u8> {
    let mut key = OBJECT_KEY_PREFIX.to_vec();
    key.extend_from_slice(&id.to_be_bytes());
    key
}

pub fn dying_key(id: ObjectId, chunk: u32) -> Vec<u8> {
    let mut key = DYING_KEY_PREFIX.to_vec();
    key.extend_from_slice(&id.to_be_bytes());
    key.extend_from_slice(&chunk.to_be_bytes());
    key
}

pub fn root_key(name: &str) -> Vec<u8> {
    let mut key = ROOT_KEY_PREFIX.to_vec();
    key.extend_from_slice(name.as_bytes());
    key
}

pub fn lock_key(name: &str) -> Vec<u8> {
    let mut key = LOCK_KEY_PREFIX.to_vec();
    key.extend_from_slice(name.as_bytes());
    key
}

pub fn session_key(id: SessionId) -> Vec<u8> {
    let mut key = SESSION_KEY_PREFIX.to_vec();
    key.extend_from_slice(&id.to_be_bytes());
    key
}

pub fn reply_key(id: SessionId, sequence: u64) -> Vec<u8> {
    let mut key = session_key(id);
    key.extend_from_slice(&sequence.to_be_bytes());
    key
}

pub fn hold_key(session: SessionId, id: ObjectId) -> Vec<u8> {
    let mut key = HOLD_KEY_PREFIX.to_vec();
    key.extend_from_slice(&session.to_be_bytes());
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// The id an object key (`o/` + 8-byte big-endian id) names, or `None` for any other key. The
/// one parser of object keys: `load` and the server's change feed both use it.
pub fn object_id_of_key(key: &[u8]) -> Option<ObjectId> {
    let id_bytes: [u8; U64_VALUE_BYTES] = key.strip_prefix(OBJECT_KEY_PREFIX)?.try_into().ok()?;
    Some(ObjectId::from_be_bytes(id_bytes))
}

/// The lock name a lock key (`l/` + UTF-8 name) names, or `None` for any other key (or a name
/// that is not UTF-8, which no lock can have). The one parser of lock keys: `load` and the
/// server's change feed both use it.
pub fn lock_name_of_key(key: &[u8]) -> Option<&str> {
    std::str::from_utf8(key.strip_prefix(LOCK_KEY_PREFIX)?).ok()
}

pub(crate) fn u64_value(value: u64) -> Vec<u8> {
    value.to_be_bytes().to_vec()
}

/// What a persisted key names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ImageKey<'a> {
    Object(ObjectId),
    Dying(ObjectId, u32),
    Root(&'a str),
    Lock(&'a str),
    Session(SessionId),
    Reply(SessionId, u64),
    Hold(SessionId, ObjectId),
    NextId,
    NextSessionId,
    Now,
    AppliedIndex,
}

fn printable(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

fn parse_key(key: &[u8]) -> Result<ImageKey<'_>, ImageError> {
    let unknown = || ImageError::UnknownKey { key: printable(key) };
    if key == NEXT_ID_KEY {
        return Ok(ImageKey::NextId);
    }
    if key == APPLIED_INDEX_KEY {
        return Ok(ImageKey::AppliedIndex);
    }
    if key == NEXT_SESSION_ID_KEY {
        return Ok(ImageKey::NextSessionId);
    }
    if key == NOW_KEY {
        return Ok(ImageKey::Now);
    }
    if key.starts_with(OBJECT_KEY_PREFIX) {
        return object_id_of_key(key).map(ImageKey::Object).ok_or_else(unknown);
    }
    if let Some(rest) = key.strip_prefix(DYING_KEY_PREFIX) {
        let pair: [u8; DYING_KEY_SUFFIX_BYTES] = rest.try_into().map_err(|_| unknown())?;
        let (id, chunk) = pair.split_at(U64_VALUE_BYTES);
        let id = ObjectId::from_be_bytes(id.try_into().expect("split at 8 bytes"));
        return Ok(ImageKey::Dying(id, u32::from_be_bytes(chunk.try_into().expect("4 bytes left"))));
    }
    if let Some(name_bytes) = key.strip_prefix(ROOT_KEY_PREFIX) {
        let name = std::str::from_utf8(name_bytes).map_err(|_| unknown())?;
        return Ok(ImageKey::Root(name));
    }
    if key.starts_with(LOCK_KEY_PREFIX) {
        return lock_name_of_key(key).map(ImageKey::Lock).ok_or_else(unknown);
    }
    if let Some(rest) = key.strip_prefix(HOLD_KEY_PREFIX) {
        let pair: [u8; 2 * U64_VALUE_BYTES] = rest.try_into().map_err(|_| unknown())?;
        let (session, id) = pair.split_at(U64_VALUE_BYTES);
        let number = |bytes: &[u8]| u64::from_be_bytes(bytes.try_into().expect("split at 8 bytes"));
        return Ok(ImageKey::Hold(number(session), number(id)));
    }
    if let Some(rest) = key.strip_prefix(SESSION_KEY_PREFIX) {
        let number = |bytes: &[u8]| -> Result<u64, ImageError> {
            let bytes: [u8; U64_VALUE_BYTES] = bytes.try_into().map_err(|_| unknown())?;
            Ok(u64::from_be_bytes(bytes))
        };
        return match rest.len() {
            U64_VALUE_BYTES => Ok(ImageKey::Session(number(rest)?)),
            REPLY_KEY_SUFFIX_BYTES => {
                let (id, sequence) = rest.split_at(U64_VALUE_BYTES);
                Ok(ImageKey::Reply(number(id)?, number(sequence)?))
            }
            _ => Err(unknown()),
        };
    }
    Err(unknown())
}

/// A reply key is the session key followed by the sequence.
const REPLY_KEY_SUFFIX_BYTES: usize = 2 * U64_VALUE_BYTES;
/// A dying key is the object id followed by the chunk number.
const DYING_KEY_SUFFIX_BYTES: usize = U64_VALUE_BYTES + 4;

fn parse_u64(key: &[u8], value: &[u8]) -> Result<u64, ImageError> {
    let bytes: [u8; U64_VALUE_BYTES] = value.try_into().map_err(|_| ImageError::InvalidValue {
        key: printable(key),
        reason: format!("the value is {} bytes, not {U64_VALUE_BYTES}", value.len()),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

impl Heap {
    /// The whole state as key/value pairs in ascending key order: exactly the image that the
    /// writes emitted by every apply since `Heap::new()` build up.
    pub fn export(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut pairs = Vec::with_capacity(self.export_len());
        self.export_each(&mut |key, value| pairs.push((key.to_vec(), value.to_vec())));
        assert!(
            pairs.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "export must list keys in strictly ascending order"
        );
        assert_eq!(pairs.len(), self.export_len(), "export_len counts what export_each gives (snapshots rely on it)");
        pairs
    }

    /// How many pairs `export` has.
    pub fn export_len(&self) -> usize {
        const COUNTERS: usize = 4;
        self.dying.chunk_count()
            + self.holds.len() as usize
            + self.locks.len()
            + COUNTERS
            + self.objects.len()
            + self.roots.len()
            + self.sessions.len()
            + self.replies.len()
    }

    /// The pairs of `export`, one at a time and in the same order, without a copy of the image:
    /// "d/..." < "h/..." < "l/..." < "m/applied" < "m/next_id" < "m/next_session_id" <
    /// "m/now_ms" < "o/..." < "r/..." < "s/...", and each map iterates in key order (strings
    /// compare bytewise, ids are big-endian).
    pub fn export_each(&self, each: &mut dyn FnMut(&[u8], &[u8])) {
        for (id, chunk, references) in self.dying.chunks() {
            each(&dying_key(id, chunk), &encode_references(references));
        }
        for (session, id) in self.holds.pairs() {
            each(&hold_key(session, id), &[]);
        }
        for (name, lock) in &self.locks {
            each(&lock_key(name), &encode_lock(lock));
        }
        each(APPLIED_INDEX_KEY, &u64_value(self.applied_index));
        each(NEXT_ID_KEY, &u64_value(self.next_id));
        each(NEXT_SESSION_ID_KEY, &u64_value(self.next_session_id));
        each(NOW_KEY, &u64_value(self.now_ms));
        for (id, encoded) in self.objects.iter_encoded() {
            each(&object_key(id), encoded);
        }
        for (name, id) in &self.roots {
            each(&root_key(name), &u64_value(*id));
        }
        self.export_sessions(each);
    }

    /// Sessions and their replies share the "s/" prefix: a session's header key is a prefix of
    /// its replies' keys, so it comes just before them, and both maps are in session order.
    fn export_sessions(&self, each: &mut dyn FnMut(&[u8], &[u8])) {
        let mut replies = self.replies.iter().peekable();
        for (id, session) in &self.sessions {
            while let Some(((reply_session, sequence), reply)) = replies.next_if(|((session, _), _)| session < id) {
                each(&reply_key(*reply_session, *sequence), &encode_reply(reply));
            }
            each(&session_key(*id), &encode_session(session));
            while let Some(((reply_session, sequence), reply)) = replies.next_if(|((session, _), _)| session == id) {
                each(&reply_key(*reply_session, *sequence), &encode_reply(reply));
            }
        }
        for ((reply_session, sequence), reply) in replies {
            each(&reply_key(*reply_session, *sequence), &encode_reply(reply));
        }
    }

    /// Loads one pair of a persisted image into the heap (start from `clear()`). Checks each
    /// pair on its own; call `validate()` once every pair is loaded to check the whole.
    pub fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), ImageError> {
        let invalid = |reason: String| ImageError::InvalidValue { key: printable(key), reason };
        match parse_key(key)? {
            ImageKey::AppliedIndex => self.applied_index = parse_u64(key, value)?,
            ImageKey::NextId => {
                let next_id = parse_u64(key, value)?;
                if next_id < OBJECT_ID_FIRST {
                    return Err(invalid(format!("next id {next_id} is below the first id {OBJECT_ID_FIRST}")));
                }
                self.next_id = next_id;
            }
            ImageKey::Object(id) => {
                let object = decode_object(value).map_err(|error| invalid(error.to_string()))?;
                if object.id != id {
                    return Err(invalid(format!("it holds object {}", object.id)));
                }
                if object.body.values().any(|v| matches!(v, Value::NewRef(_))) {
                    return Err(invalid("the object holds an unresolved NewRef".to_string()));
                }
                if self.objects.contains_key(&id) {
                    return Err(invalid("the object is loaded twice".to_string()));
                }
                for to in object.references() {
                    self.refs.add_reference(to);
                }
                self.objects.insert(id, value.to_vec());
                self.refs.refresh(id, true);
            }
            ImageKey::Dying(id, chunk) => {
                if id < OBJECT_ID_FIRST {
                    return Err(invalid(format!("dying object {id} is below the first id {OBJECT_ID_FIRST}")));
                }
                if chunk >= CHUNKS_PER_OBJECT_MAX {
                    return Err(invalid(format!("chunk {chunk}: an object has at most {CHUNKS_PER_OBJECT_MAX}")));
                }
                if self.dying.chunk(id, chunk).is_some() {
                    return Err(invalid("the dying chunk is loaded twice".to_string()));
                }
                let references = decode_references(value).map_err(invalid)?;
                references.iter().for_each(|to| self.refs.add_reference(*to));
                let inserted = self.dying.load_chunk(id, chunk, references);
                assert!(inserted, "a dying chunk not loaded before is new");
            }
            ImageKey::Root(name) => {
                check_name(NameKind::Root, name).map_err(|error| invalid(error.to_string()))?;
                let id = parse_u64(key, value)?;
                if id < OBJECT_ID_FIRST {
                    return Err(invalid(format!("root names object {id}")));
                }
                if let Some(previous) = self.roots.insert(name.to_string(), id) {
                    self.refs.remove_reference(previous);
                }
                self.refs.add_reference(id);
            }
            ImageKey::NextSessionId => {
                let next_session_id = parse_u64(key, value)?;
                if next_session_id < SESSION_ID_FIRST {
                    return Err(invalid(format!(
                        "next session id {next_session_id} is below the first id {SESSION_ID_FIRST}"
                    )));
                }
                self.next_session_id = next_session_id;
            }
            ImageKey::Now => self.now_ms = parse_u64(key, value)?,
            ImageKey::Lock(name) => {
                check_name(NameKind::Lock, name).map_err(|error| invalid(error.to_string()))?;
                let lock = decode_lock(value).map_err(|error| invalid(error.to_string()))?;
                self.index.update_lock(name, Some(&lock));
                self.locks.insert(name.to_string(), lock);
            }
            ImageKey::Session(id) => {
                let session = decode_session(value).map_err(|error| invalid(error.to_string()))?;
                self.index.update_session(id, Some(&session));
                self.insert_session(id, session);
            }
            ImageKey::Hold(session, id) => {
                if !value.is_empty() {
                    return Err(invalid(format!("a hold has no value, but this one is {} bytes", value.len())));
                }
                if self.holds.insert(session, id, self.sessions.contains_key(&session)) {
                    self.refs.add_hold(id);
                }
            }
            ImageKey::Reply(id, sequence) => {
                let reply = decode_reply(value).map_err(|error| invalid(error.to_string()))?;
                self.replies.insert((id, sequence), reply);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::command::{Op, Target};
    use crate::object::ObjectKind;
    use crate::test_support::{apply_ops, create};

    fn sample_heap() -> Heap {
        let mut heap = Heap::new();
        apply_ops(
            &mut heap,
            1,
            vec![
                create(0, ObjectKind::Fields),
                create(1, ObjectKind::List),
                Op::SetField { target: Target::New(0), field: "next".to_string(), value: Value::NewRef(1) },
                Op::BindRoot { name: "z".to_string(), target: Target::New(1) },
                Op::BindRoot { name: "a".to_string(), target: Target::New(0) },
            ],
        );
        heap.apply_noop(5, &mut Vec::new());
        heap
    }

    #[test]
    fn export_then_load_reproduces_the_heap() {
        let heap = sample_heap();
        let image = heap.export();
        let keys: Vec<&[u8]> = image.iter().map(|(key, _)| key.as_slice()).collect();
        assert_eq!(
            keys,
            vec![
                APPLIED_INDEX_KEY,
                NEXT_ID_KEY,
                NEXT_SESSION_ID_KEY,
                NOW_KEY,
                object_key(1).as_slice(),
                object_key(2).as_slice(),
                b"r/a".as_slice(),
                b"r/z".as_slice(),
            ]
        );
        let mut loaded = Heap::new();
        loaded.apply_noop(1, &mut Vec::new());
        loaded.clear();
        for (key, value) in &image {
            loaded.load(key, value).unwrap();
        }
        loaded.validate().unwrap();
        assert_eq!(loaded, heap);
        assert_eq!(loaded.export(), image);
    }

    #[test]
    fn object_keys_and_only_they_give_an_id() {
        assert_eq!(object_id_of_key(&object_key(7)), Some(7));
        assert_eq!(object_id_of_key(&object_key(u64::MAX)), Some(u64::MAX));
        assert_eq!(object_id_of_key(b"o/123"), None);
        assert_eq!(object_id_of_key(&root_key("abcdefgh")), None);
        assert_eq!(object_id_of_key(&session_key(7)), None);
        assert_eq!(object_id_of_key(NEXT_ID_KEY), None);
    }

    #[test]
    fn lock_keys_and_only_they_give_a_name() {
        assert_eq!(lock_name_of_key(&lock_key("orders")), Some("orders"));
        assert_eq!(lock_name_of_key(&lock_key("zähler")), Some("zähler"));
        assert_eq!(lock_name_of_key(b"l/\xff"), None, "not UTF-8");
        assert_eq!(lock_name_of_key(&root_key("orders")), None);
        assert_eq!(lock_name_of_key(&object_key(7)), None);
        assert_eq!(lock_name_of_key(b"l"), None);
    }

    #[test]
    fn garbage_is_rejected() {
        let mut heap = Heap::new();
        assert!(matches!(heap.load(b"x/1", b""), Err(ImageError::UnknownKey { .. })));
        assert!(matches!(heap.load(b"o/123", b""), Err(ImageError::UnknownKey { .. })));
        assert!(matches!(heap.load(b"r/\xff", &1u64.to_be_bytes()), Err(ImageError::UnknownKey { .. })));
        assert!(matches!(heap.load(APPLIED_INDEX_KEY, b"1234567"), Err(ImageError::InvalidValue { .. })));
        assert!(matches!(heap.load(NEXT_ID_KEY, &0u64.to_be_bytes()), Err(ImageError::InvalidValue { .. })));
        assert!(matches!(heap.load(&object_key(1), b"\xff\xff"), Err(ImageError::InvalidValue { .. })));
        assert!(matches!(heap.load(b"r/bad\nname", &1u64.to_be_bytes()), Err(ImageError::InvalidValue { .. })));
        assert!(matches!(heap.load(NEXT_SESSION_ID_KEY, &0u64.to_be_bytes()), Err(ImageError::InvalidValue { .. })));
        assert!(matches!(heap.load(NOW_KEY, b""), Err(ImageError::InvalidValue { .. })));
        assert!(matches!(heap.load(b"s/1234", b""), Err(ImageError::UnknownKey { .. })));
        assert!(matches!(heap.load(&session_key(1), b"\xff"), Err(ImageError::InvalidValue { .. })));
        assert!(matches!(heap.load(&reply_key(1, 2), b"\xff"), Err(ImageError::InvalidValue { .. })));
        assert!(matches!(heap.load(b"l/", b""), Err(ImageError::InvalidValue { .. })));
        assert!(matches!(heap.load(b"l/a", b"\xff\xff"), Err(ImageError::InvalidValue { .. })));
        // An object stored under another object's key.
        let source = sample_heap();
        let object = crate::codec::encode_object(&source.get(1).unwrap());
        let error = heap.load(&object_key(2), &object).unwrap_err();
        assert!(error.to_string().contains("rebuild from a peer"));
        assert_eq!(heap, Heap::new());
    }
}
