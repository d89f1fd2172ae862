//! Encoding of openraft messages inside the Raft transport frames (bincode, bounded on decode).

use crate::limits::RAFT_MESSAGE_SIZE_BYTES_MAX;

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("cannot encode a Raft message: {0}")]
    Encode(String),
    #[error("malformed Raft message: {0}; is the peer running the same Sovereign version?")]
    Decode(String),
}

pub fn encode_raft<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, WireError> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).map_err(|e| WireError::Encode(e.to_string()))
}

pub fn decode_raft<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    let config = bincode::config::standard().with_limit::<RAFT_MESSAGE_SIZE_BYTES_MAX>();
    let (value, read) =
        bincode::serde::decode_from_slice(bytes, config).map_err(|e| WireError::Decode(e.to_string()))?;
    if read != bytes.len() {
        return Err(WireError::Decode(format!("{} trailing bytes", bytes.len() - read)));
    }
    Ok(value)
}
