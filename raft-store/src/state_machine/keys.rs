//! The sled layout of the state machine store: machine image keys under `MACHINE_PREFIX`, and
//! raft-store's own meta keys (last applied log id, membership) bincode-encoded beside them.

use super::error::StateMachineError;
use crate::types::LogId;
use crate::types::StoredMembership;

/// Machine image keys are stored under this prefix; raft-store's own keys start with `s/`.
pub(super) const MACHINE_PREFIX: u8 = b'h';
pub(super) const KEY_LAST_APPLIED: &[u8] = b"s/last_applied";
pub(super) const KEY_MEMBERSHIP: &[u8] = b"s/membership";
/// One encoded meta value (a log id or a membership config) is never larger than this.
const META_SIZE_BYTES_MAX: usize = 1024 * 1024;

/// Meta keys and their encoded values, written with every batch.
pub(super) type MetaPairs = Vec<(&'static [u8], Vec<u8>)>;

fn encode_meta<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StateMachineError> {
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| StateMachineError::CorruptMeta { key: "(encode)".into(), reason: e.to_string() })
}

/// Decodes the meta value stored under `key`, refusing one over `META_SIZE_BYTES_MAX`.
pub(super) fn decode_meta<T: serde::de::DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StateMachineError> {
    let config = bincode::config::standard().with_limit::<META_SIZE_BYTES_MAX>();
    bincode::serde::decode_from_slice(bytes, config).map(|(value, _)| value).map_err(|e| {
        StateMachineError::CorruptMeta { key: String::from_utf8_lossy(key).into_owned(), reason: e.to_string() }
    })
}

/// The sled key of the machine image key `key`.
pub(super) fn machine_key(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 1);
    out.push(MACHINE_PREFIX);
    out.extend_from_slice(key);
    out
}

/// The meta pairs written with every image batch: the last applied log id and the membership.
pub(super) fn encode_applied_meta(
    last_applied: Option<LogId>,
    membership: &StoredMembership,
) -> Result<MetaPairs, StateMachineError> {
    Ok(vec![(KEY_LAST_APPLIED, encode_meta(&last_applied)?), (KEY_MEMBERSHIP, encode_meta(membership)?)])
}
