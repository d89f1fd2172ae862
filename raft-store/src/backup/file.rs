//! The backup file: a consistent image of the state machine with the log position it covers.
//!
//! Format (integers little-endian):
//! - the magic line `SOVEREIGN-BACKUP <version>\n` (`head -1` shows what a file is);
//! - the header: `last_index u64`, `last_term u64`, `created_unix_ms u64`, `image_size_bytes u64`;
//! - the image: `image_size_bytes` bytes, bincode 2 (serde, standard) of the machine's key/value
//!   pairs in ascending key order (`Machine::export`);
//! - the SHA-256 of everything before it (32 bytes).
//!
//! Everything but the trailing checksum is the "body": the node streams the body in chunks and
//! sends the checksum with the last one, so `heapctl` writes exactly the file that was hashed.
//! A file is read whole, bounded by `BACKUP_SIZE_BYTES_MAX`, and its checksum is verified before
//! anything in it is believed.

use std::io::Read;
use std::path::Path;

use sha2::Digest;
use sha2::Sha256;

use super::error::BackupError;
use crate::state_machine::SNAPSHOT_SIZE_BYTES_CEILING;

/// The format version this build writes and reads.
pub const BACKUP_VERSION: u32 = 1;
/// The magic line's first word; the version and a newline follow it.
const MAGIC_WORD: &str = "SOVEREIGN-BACKUP";
/// The magic line is never longer than this (the word, a space, a u32 and a newline).
const MAGIC_LINE_SIZE_BYTES_MAX: usize = 32;
/// `last_index`, `last_term`, `created_unix_ms`, `image_size_bytes`.
const HEADER_SIZE_BYTES: usize = 4 * 8;
pub const BACKUP_SHA256_SIZE_BYTES: usize = 32;
/// Largest backup file: the snapshot format's own ceiling, so any heap a cluster can snapshot can
/// be backed up (a 1 GiB cap refused every larger heap). A restored image becomes each node's
/// snapshot; sending it to a lagging follower later needs `--snapshot-size-bytes-max` above its
/// size, as for any snapshot.
pub const BACKUP_SIZE_BYTES_MAX: usize = SNAPSHOT_SIZE_BYTES_CEILING as usize;
const _: () = assert!(MAGIC_LINE_SIZE_BYTES_MAX + HEADER_SIZE_BYTES + BACKUP_SHA256_SIZE_BYTES < BACKUP_SIZE_BYTES_MAX);

/// What a backup covers, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupHeader {
    /// The log index the image is consistent at (every entry up to it is in the image).
    pub last_index: u64,
    /// The term of the leader that took the backup.
    pub last_term: u64,
    /// When the leader took it, by its clock (for operators only).
    pub created_unix_ms: u64,
    pub image_size_bytes: u64,
}

/// A verified backup: its header and the machine's key/value pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub header: BackupHeader,
    pub pairs: Vec<(Vec<u8>, Vec<u8>)>,
    /// The SHA-256 the file ends with (verified).
    pub sha256: [u8; BACKUP_SHA256_SIZE_BYTES],
}

fn magic_line() -> String {
    format!("{MAGIC_WORD} {BACKUP_VERSION}\n")
}

/// Lowercase hex, for checksums in messages.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a backup body: what the file ends with and the last chunk of a stream carries.
pub fn backup_sha256(body: &[u8]) -> [u8; BACKUP_SHA256_SIZE_BYTES] {
    Sha256::digest(body).into()
}

/// The body of a backup (everything but the trailing checksum) of `pairs` at `last_index`.
pub fn encode_backup_body(
    last_index: u64,
    last_term: u64,
    created_unix_ms: u64,
    pairs: &[(Vec<u8>, Vec<u8>)],
) -> Result<Vec<u8>, BackupError> {
    let what = || "the backup being written".to_string();
    let image = bincode::serde::encode_to_vec(pairs, bincode::config::standard())
        .map_err(|e| BackupError::Image { what: what(), reason: e.to_string() })?;
    let magic = magic_line();
    let size_bytes = magic.len() + HEADER_SIZE_BYTES + image.len() + BACKUP_SHA256_SIZE_BYTES;
    if size_bytes > BACKUP_SIZE_BYTES_MAX {
        return Err(BackupError::TooLarge {
            what: what(),
            size_bytes: size_bytes as u64,
            limit_bytes: BACKUP_SIZE_BYTES_MAX as u64,
        });
    }
    let mut body = Vec::with_capacity(size_bytes);
    body.extend_from_slice(magic.as_bytes());
    for field in [last_index, last_term, created_unix_ms, image.len() as u64] {
        body.extend_from_slice(&field.to_le_bytes());
    }
    body.extend_from_slice(&image);
    assert_eq!(body.len() + BACKUP_SHA256_SIZE_BYTES, size_bytes, "the size computed above is the size written");
    Ok(body)
}

/// Reads the magic line; returns where the header starts.
fn check_magic(what: &str, bytes: &[u8]) -> Result<usize, BackupError> {
    let wrong_magic = || BackupError::WrongMagic { what: what.to_string() };
    let window = &bytes[..bytes.len().min(MAGIC_LINE_SIZE_BYTES_MAX)];
    let newline = window.iter().position(|b| *b == b'\n').ok_or_else(wrong_magic)?;
    let line = std::str::from_utf8(&window[..newline]).map_err(|_| wrong_magic())?;
    let version = line.strip_prefix(MAGIC_WORD).and_then(|rest| rest.strip_prefix(' ')).ok_or_else(wrong_magic)?;
    if version != BACKUP_VERSION.to_string() {
        return Err(BackupError::UnsupportedVersion {
            what: what.to_string(),
            found: version.to_string(),
            supported: BACKUP_VERSION,
        });
    }
    Ok(newline + 1)
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut field = [0u8; 8];
    field.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(field)
}

/// Decodes and verifies a whole backup file's bytes; `what` names it in errors.
pub fn decode_backup(what: &str, bytes: &[u8]) -> Result<Backup, BackupError> {
    let found_bytes = bytes.len() as u64;
    if bytes.len() > BACKUP_SIZE_BYTES_MAX {
        return Err(BackupError::TooLarge {
            what: what.to_string(),
            size_bytes: found_bytes,
            limit_bytes: BACKUP_SIZE_BYTES_MAX as u64,
        });
    }
    let header_start = check_magic(what, bytes)?;
    let image_start = header_start + HEADER_SIZE_BYTES;
    let minimal_bytes = (image_start + BACKUP_SHA256_SIZE_BYTES) as u64;
    if found_bytes < minimal_bytes {
        return Err(BackupError::Truncated { what: what.to_string(), expected_bytes: minimal_bytes, found_bytes });
    }
    let header = BackupHeader {
        last_index: read_u64(bytes, header_start),
        last_term: read_u64(bytes, header_start + 8),
        created_unix_ms: read_u64(bytes, header_start + 16),
        image_size_bytes: read_u64(bytes, header_start + 24),
    };
    let expected_bytes = minimal_bytes.saturating_add(header.image_size_bytes);
    let (body, stored) = bytes.split_at(bytes.len() - BACKUP_SHA256_SIZE_BYTES);
    let computed = backup_sha256(body);
    // A wrong length is reported as such (the usual damage of a copy); a right length with a
    // wrong checksum means the content changed.
    if expected_bytes != found_bytes {
        return Err(BackupError::Truncated { what: what.to_string(), expected_bytes, found_bytes });
    }
    if computed.as_slice() != stored {
        return Err(BackupError::ChecksumMismatch {
            what: what.to_string(),
            stored: hex(stored),
            computed: hex(&computed),
        });
    }
    let config = bincode::config::standard().with_limit::<BACKUP_SIZE_BYTES_MAX>();
    let image = &body[image_start..];
    let (pairs, read) = bincode::serde::decode_from_slice::<Vec<(Vec<u8>, Vec<u8>)>, _>(image, config)
        .map_err(|e| BackupError::Image { what: what.to_string(), reason: e.to_string() })?;
    if read != image.len() {
        return Err(BackupError::Image {
            what: what.to_string(),
            reason: format!("{} bytes follow the image", image.len() - read),
        });
    }
    Ok(Backup { header, pairs, sha256: computed })
}

/// Reads and verifies the backup file at `path`, reading at most `BACKUP_SIZE_BYTES_MAX` bytes.
pub fn read_backup_file(path: &Path) -> Result<Backup, BackupError> {
    let io_error = |error| BackupError::Io { path: path.to_path_buf(), error };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut bytes = Vec::new();
    // One byte past the limit, so an oversized file is told from one exactly at it.
    file.take(BACKUP_SIZE_BYTES_MAX as u64 + 1).read_to_end(&mut bytes).map_err(io_error)?;
    decode_backup(&path.display().to_string(), &bytes)
}

#[cfg(test)]
#[path = "file_test.rs"]
mod tests;
