//! The byte formats of envelopes, replies, objects, lock states and sessions: bincode 2 with the
//! standard config, and bounded decoding so hostile bytes can neither allocate without limit nor
//! panic.

use bincode::config::{Configuration, Limit as ByteLimit, LittleEndian, Varint};
use bincode::enc::write::SizeWriter;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::command::Envelope;
use crate::limits::{
    ENVELOPE_DECODE_CLAIM_BYTES_MAX, LOCK_DECODE_CLAIM_BYTES_MAX, LOCK_SIZE_BYTES_MAX, OBJECT_DECODE_CLAIM_BYTES_MAX,
    OBJECT_SIZE_BYTES_MAX, SESSION_DECODE_CLAIM_BYTES_MAX, SESSION_SIZE_BYTES_MAX, TRANSACTION_SIZE_BYTES_MAX,
};
use crate::lock::Lock;
use crate::object::Object;
use crate::reply::Reply;
use crate::session::Session;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("{what} is {actual_bytes} bytes, over the {limit_bytes}-byte limit")]
    TooLarge { what: &'static str, limit_bytes: u64, actual_bytes: u64 },
    #[error("{what} could not be decoded: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("{what} has {extra_bytes} bytes after its end")]
    TrailingBytes { what: &'static str, extra_bytes: u64 },
}

fn config() -> Configuration {
    bincode::config::standard()
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, config())
        .expect("encoding into a Vec cannot fail: every heap type has a known length")
}

/// The encoded size of `value`, counted without building the bytes.
pub(crate) fn encoded_size_bytes<T: Serialize>(value: &T) -> u64 {
    let mut writer = SizeWriter::default();
    bincode::serde::encode_into_writer(value, &mut writer, config())
        .expect("encoding into a SizeWriter cannot fail: every heap type has a known length");
    writer.bytes_written as u64
}

/// Decodes one `T` that must fill `bytes` exactly. `CLAIM_MAX` bounds what bincode may allocate.
fn decode_bounded<T: DeserializeOwned, const CLAIM_MAX: usize>(
    what: &'static str,
    bytes: &[u8],
    size_bytes_max: u64,
) -> Result<T, CodecError> {
    let actual_bytes = bytes.len() as u64;
    if actual_bytes > size_bytes_max {
        return Err(CodecError::TooLarge { what, limit_bytes: size_bytes_max, actual_bytes });
    }
    let bounded: Configuration<LittleEndian, Varint, ByteLimit<CLAIM_MAX>> = config().with_limit::<CLAIM_MAX>();
    let (value, used_bytes) = bincode::serde::decode_from_slice(bytes, bounded)
        .map_err(|error| CodecError::Invalid { what, reason: error.to_string() })?;
    // Trailing bytes mean the writer and reader disagree on the format; accepting them would let
    // two different byte strings mean the same command.
    if used_bytes != bytes.len() {
        return Err(CodecError::TrailingBytes { what, extra_bytes: (bytes.len() - used_bytes) as u64 });
    }
    Ok(value)
}

pub fn encode_envelope(envelope: &Envelope) -> Vec<u8> {
    encode(envelope)
}

pub fn decode_envelope(bytes: &[u8]) -> Result<Envelope, CodecError> {
    decode_bounded::<_, ENVELOPE_DECODE_CLAIM_BYTES_MAX>("envelope", bytes, TRANSACTION_SIZE_BYTES_MAX)
}

pub fn encode_reply(reply: &Reply) -> Vec<u8> {
    encode(reply)
}

/// `Command::Collect`'s variant index (bincode writes an enum's index first, a varint: one byte
/// below 251), the byte after the envelope's `leader_time_ms`.
const COLLECT_COMMAND_TAG: u8 = 6;

/// How many bytes bincode's unsigned varint takes, from its first byte: the value itself below
/// 251, else a marker and a 2-, 4-, 8- or 16-byte value. `None` for a byte no varint starts with.
fn varint_length(first: u8) -> Option<usize> {
    match first {
        0..=250 => Some(1),
        251 => Some(3),
        252 => Some(5),
        253 => Some(9),
        254 => Some(17),
        255 => None,
    }
}

/// Whether encoded envelope bytes hold a `Command::Collect`, without decoding them: lets the
/// server time the collector's entries, before applying them, at no cost to the rest.
pub fn is_collect_envelope(bytes: &[u8]) -> bool {
    let Some(time_length) = bytes.first().copied().and_then(varint_length) else {
        return false;
    };
    bytes.get(time_length) == Some(&COLLECT_COMMAND_TAG)
}

/// Replies are bounded like envelopes: the largest is a `created` list of at most
/// `TRANSACTION_OPS_MAX` pairs.
pub fn decode_reply(bytes: &[u8]) -> Result<Reply, CodecError> {
    decode_bounded::<_, ENVELOPE_DECODE_CLAIM_BYTES_MAX>("reply", bytes, TRANSACTION_SIZE_BYTES_MAX)
}

pub(crate) fn encode_lock(lock: &Lock) -> Vec<u8> {
    encode(lock)
}

pub(crate) fn decode_lock(bytes: &[u8]) -> Result<Lock, CodecError> {
    decode_bounded::<_, LOCK_DECODE_CLAIM_BYTES_MAX>("lock", bytes, LOCK_SIZE_BYTES_MAX)
}

pub(crate) fn encode_session(session: &Session) -> Vec<u8> {
    encode(session)
}

pub(crate) fn decode_session(bytes: &[u8]) -> Result<Session, CodecError> {
    decode_bounded::<_, SESSION_DECODE_CLAIM_BYTES_MAX>("session", bytes, SESSION_SIZE_BYTES_MAX)
}

pub fn encode_object(object: &Object) -> Vec<u8> {
    encode(object)
}

pub fn decode_object(bytes: &[u8]) -> Result<Object, CodecError> {
    decode_bounded::<_, OBJECT_DECODE_CLAIM_BYTES_MAX>("object", bytes, OBJECT_SIZE_BYTES_MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::command::{Command, Op, Target, Transaction};
    use crate::limits::TRANSACTION_EXPECTS_MAX;
    use crate::object::{Body, ObjectKind};
    use crate::reply::Rejection;
    use crate::value::Value;

    fn sample_envelope() -> Envelope {
        Envelope {
            leader_time_ms: 1_700_000_000_000,
            command: Command::Transaction(Transaction {
                expect: vec![(1, 2)],
                fences: vec![("L".to_string(), 65_536)],
                ops: vec![
                    Op::Create { handle: 0, class: "C".to_string(), kind: ObjectKind::List },
                    Op::ListPush { target: Target::New(0), value: Value::Float(f64::NAN) },
                ],
            }),
        }
    }

    #[test]
    fn round_trips() {
        let envelope = sample_envelope();
        let bytes = encode_envelope(&envelope);
        assert_eq!(encoded_size_bytes(&envelope), bytes.len() as u64);
        // NaN != NaN, so compare by re-encoding.
        assert_eq!(encode_envelope(&decode_envelope(&bytes).unwrap()), bytes);

        let reply = Reply::Rejected(Rejection::UnknownHandle { handle: 3 });
        assert_eq!(decode_reply(&encode_reply(&reply)).unwrap(), reply);

        let mut map = BTreeMap::new();
        map.insert(String::new(), Value::Bytes(vec![1, 2, 3]));
        let object = Object { id: 9, class: "java.util.HashMap".to_string(), version: 12, body: Body::Map(map) };
        assert_eq!(decode_object(&encode_object(&object)).unwrap(), object);
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = encode_envelope(&sample_envelope());
        bytes.push(0);
        assert_eq!(decode_envelope(&bytes), Err(CodecError::TrailingBytes { what: "envelope", extra_bytes: 1 }));
    }

    #[test]
    fn hostile_length_prefix_fails_fast() {
        // leader_time 0, Command::Transaction, then an expect list claiming u64::MAX entries.
        let mut bytes = vec![0, 0, 0xFD];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(decode_envelope(&bytes), Err(CodecError::Invalid { .. })));
        // No expects, no fences, one op: a Create whose class name claims 2^40 bytes.
        let mut bytes = vec![0, 0, 0, 0, 1, 0, 0, 0xFD];
        bytes.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(matches!(decode_envelope(&bytes), Err(CodecError::Invalid { .. })));
    }

    #[test]
    fn oversized_input_is_rejected_before_decoding() {
        let bytes = vec![0u8; TRANSACTION_SIZE_BYTES_MAX as usize + 1];
        assert!(matches!(decode_envelope(&bytes), Err(CodecError::TooLarge { .. })));
    }

    /// Expect pairs of small numbers encode to 2 bytes but claim 16 in bincode's limit, the
    /// worst ratio there is; an envelope near the size limit made of them must still decode.
    #[test]
    fn decode_limit_admits_every_envelope_within_the_size_limit() {
        let pairs = (TRANSACTION_SIZE_BYTES_MAX / 2 - 16) as usize;
        let envelope = Envelope {
            leader_time_ms: 0,
            command: Command::Transaction(Transaction {
                expect: vec![(1, 1); pairs],
                fences: Vec::new(),
                ops: Vec::new(),
            }),
        };
        let bytes = encode_envelope(&envelope);
        assert!(bytes.len() as u64 <= TRANSACTION_SIZE_BYTES_MAX);
        assert!(pairs as u64 > TRANSACTION_EXPECTS_MAX);
        assert_eq!(decode_envelope(&bytes).unwrap(), envelope);
    }

    /// The envelope test must agree with the real encoding, for every command kind and for
    /// times of every varint length.
    #[test]
    fn collect_envelopes_and_only_they_are_recognised() {
        let commands = [
            Command::Transaction(crate::command::Transaction { expect: vec![], fences: vec![], ops: vec![] }),
            Command::OpenSession { client: "c".into(), ttl_ms: 6, owner: "o".into() },
            Command::Tick,
            Command::Grace,
            Command::AllocateIds { count: 6 },
            Command::ResumeLeases,
        ];
        for leader_time_ms in [0, 6, 250, 251, 70_000, 5_000_000_000, 1_764_000_000_000, u64::MAX] {
            let collect = Envelope { leader_time_ms, command: Command::Collect { ids: vec![6, 7] } };
            assert!(is_collect_envelope(&encode_envelope(&collect)), "at time {leader_time_ms}");
            for command in &commands {
                let other = Envelope { leader_time_ms, command: command.clone() };
                assert!(!is_collect_envelope(&encode_envelope(&other)), "{other:?}");
            }
        }
        assert!(!is_collect_envelope(&[]));
        assert!(!is_collect_envelope(&[255, 6]));
    }
}
