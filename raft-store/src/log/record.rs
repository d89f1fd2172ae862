//! One log record on disk: `[payload_len u32 LE][crc32 u32 LE][index u64 LE][payload]`, payload = bincode(Entry).
//!
//! The checksum covers the index and the payload, so a record whose checksum matches was written
//! whole; anything else is either a torn tail (the caller decides) or corruption.

use crate::types::Entry;

/// Bytes of the fixed record header: payload length, checksum, log index.
pub(crate) const RECORD_HEADER_SIZE_BYTES: usize = 4 + 4 + 8;

/// Largest encoded entry one record may hold. Requests must be bounded well below this upstream.
pub(crate) const RECORD_PAYLOAD_SIZE_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Largest whole record.
pub(crate) const RECORD_SIZE_BYTES_MAX: usize = RECORD_HEADER_SIZE_BYTES + RECORD_PAYLOAD_SIZE_BYTES_MAX;

// The length field is a u32.
const _: () = assert!(RECORD_PAYLOAD_SIZE_BYTES_MAX <= u32::MAX as usize);

/// What the bytes at one offset of a segment hold.
#[derive(Debug)]
pub(crate) enum Decoded {
    /// A whole record whose checksum matches and whose entry decodes with the recorded index.
    Record { index: u64, entry: Box<Entry>, size_bytes: usize },
    /// The bytes end before the record does: a short header or a short payload.
    Incomplete { reason: String },
    /// The record is all there but its length is impossible or its checksum does not match.
    /// `payload_len` is the claimed payload length when it is within bounds.
    Invalid { reason: String, payload_len: Option<usize> },
    /// The checksum matches but the payload is not an entry with that index: the record was
    /// written whole, so this is a bug or a format change, never a torn write.
    Undecodable { reason: String },
}

/// Why an entry could not become a record. `out` is left as it was.
#[derive(Debug)]
pub(crate) enum EncodeError {
    Bincode(String),
    TooLarge { payload_size_bytes: usize },
}

/// Appends the record of `entry` to `out` and returns its size in bytes.
pub(crate) fn encode_record(entry: &Entry, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
    let start = out.len();
    let index = entry.log_id.index;
    out.extend_from_slice(&[0u8; 8]); // length and checksum, filled in below
    out.extend_from_slice(&index.to_le_bytes());
    let payload_len = match bincode::serde::encode_into_std_write(entry, out, bincode::config::standard()) {
        Ok(n) => n,
        Err(error) => {
            out.truncate(start);
            return Err(EncodeError::Bincode(error.to_string()));
        }
    };
    if payload_len > RECORD_PAYLOAD_SIZE_BYTES_MAX {
        out.truncate(start);
        return Err(EncodeError::TooLarge { payload_size_bytes: payload_len });
    }
    let payload_len_u32 = u32::try_from(payload_len).expect("bounded by RECORD_PAYLOAD_SIZE_BYTES_MAX");
    let crc = crc32fast::hash(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&payload_len_u32.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    let size_bytes = out.len() - start;
    assert_eq!(size_bytes, RECORD_HEADER_SIZE_BYTES + payload_len);
    Ok(size_bytes)
}

/// Decodes the record that starts at `bytes[0]`.
pub(crate) fn decode_record(bytes: &[u8]) -> Decoded {
    if bytes.len() < RECORD_HEADER_SIZE_BYTES {
        return Decoded::Incomplete {
            reason: format!("short header: {} of {RECORD_HEADER_SIZE_BYTES} bytes", bytes.len()),
        };
    }
    let payload_len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let crc_stored = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let mut index_bytes = [0u8; 8];
    index_bytes.copy_from_slice(&bytes[8..16]);
    let index = u64::from_le_bytes(index_bytes);
    if payload_len > RECORD_PAYLOAD_SIZE_BYTES_MAX {
        return Decoded::Invalid {
            reason: format!("payload length {payload_len} over the limit of {RECORD_PAYLOAD_SIZE_BYTES_MAX}"),
            payload_len: None,
        };
    }
    let size_bytes = RECORD_HEADER_SIZE_BYTES + payload_len;
    if bytes.len() < size_bytes {
        return Decoded::Incomplete {
            reason: format!("short payload: {} of {payload_len} bytes", bytes.len() - RECORD_HEADER_SIZE_BYTES),
        };
    }
    let crc_computed = crc32fast::hash(&bytes[8..size_bytes]);
    if crc_computed != crc_stored {
        return Decoded::Invalid {
            reason: format!("checksum mismatch: stored {crc_stored:#010x}, computed {crc_computed:#010x}"),
            payload_len: Some(payload_len),
        };
    }
    let payload = &bytes[RECORD_HEADER_SIZE_BYTES..size_bytes];
    let config = bincode::config::standard().with_limit::<RECORD_PAYLOAD_SIZE_BYTES_MAX>();
    let (entry, consumed) = match bincode::serde::decode_from_slice::<Entry, _>(payload, config) {
        Ok(decoded) => decoded,
        Err(error) => return Decoded::Undecodable { reason: format!("entry {index} does not decode: {error}") },
    };
    if consumed != payload_len {
        return Decoded::Undecodable {
            reason: format!("entry {index} decodes from {consumed} of its {payload_len} payload bytes"),
        };
    }
    if entry.log_id.index != index {
        return Decoded::Undecodable { reason: format!("record index {index} holds entry {}", entry.log_id) };
    }
    Decoded::Record { index, entry: Box::new(entry), size_bytes }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use openraft::entry::RaftEntry;

    use super::*;
    use crate::log::testing::entry;
    use crate::log::testing::log_id;

    #[test]
    fn record_round_trip() {
        let mut buffer = vec![0xAA]; // records are appended after existing bytes
        let size_bytes = encode_record(&entry(3, 42), &mut buffer).unwrap();
        assert_eq!(buffer.len(), 1 + size_bytes);
        match decode_record(&buffer[1..]) {
            Decoded::Record { index, entry: decoded, size_bytes: decoded_size } => {
                assert_eq!(index, 42);
                assert_eq!(*decoded, entry(3, 42));
                assert_eq!(decoded_size, size_bytes);
            }
            other => panic!("expected a record, got {other:?}"),
        }
    }

    #[test]
    fn record_short_header_and_payload_are_incomplete() {
        let mut buffer = Vec::new();
        let size_bytes = encode_record(&entry(1, 7), &mut buffer).unwrap();
        for cut in [0, 5, RECORD_HEADER_SIZE_BYTES - 1, RECORD_HEADER_SIZE_BYTES, size_bytes - 1] {
            assert!(matches!(decode_record(&buffer[..cut]), Decoded::Incomplete { .. }), "cut at {cut}");
        }
    }

    #[test]
    fn record_flipped_byte_is_invalid() {
        let mut buffer = Vec::new();
        let size_bytes = encode_record(&entry(1, 7), &mut buffer).unwrap();
        for position in 4..size_bytes {
            let mut corrupt = buffer.clone();
            corrupt[position] ^= 0x01;
            assert!(matches!(decode_record(&corrupt), Decoded::Invalid { .. }), "flip at {position}");
        }
    }

    #[test]
    fn record_with_impossible_length_is_invalid() {
        let mut buffer = Vec::new();
        encode_record(&entry(1, 7), &mut buffer).unwrap();
        buffer[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode_record(&buffer), Decoded::Invalid { payload_len: None, .. }));
    }

    #[test]
    fn record_with_matching_checksum_but_wrong_index_is_undecodable() {
        let mut buffer = Vec::new();
        encode_record(&entry(1, 7), &mut buffer).unwrap();
        buffer[8..16].copy_from_slice(&8u64.to_le_bytes());
        let crc = crc32fast::hash(&buffer[8..]);
        buffer[4..8].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(decode_record(&buffer), Decoded::Undecodable { .. }));
    }

    #[test]
    fn blank_and_membership_entries_round_trip() {
        let blank = Entry::new_blank(log_id(2, 0));
        let mut buffer = Vec::new();
        encode_record(&blank, &mut buffer).unwrap();
        assert!(matches!(decode_record(&buffer), Decoded::Record { index: 0, .. }));
    }
}
