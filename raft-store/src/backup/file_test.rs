//! The backup file format: round trip, and every kind of damage refused with its own error.
#![allow(clippy::unwrap_used)]

use super::*;

fn pairs() -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![(b"a".to_vec(), b"1".to_vec()), (b"b".to_vec(), vec![7; 100])]
}

fn file_bytes() -> Vec<u8> {
    let mut bytes = encode_backup_body(42, 3, 1_700_000_000_000, &pairs()).unwrap();
    let sha256 = backup_sha256(&bytes);
    bytes.extend_from_slice(&sha256);
    bytes
}

/// What is written reads back: header fields, pairs and the checksum; the file starts with a
/// readable magic line naming the version.
#[test]
fn a_backup_round_trips() {
    let bytes = file_bytes();
    assert!(bytes.starts_with(b"SOVEREIGN-BACKUP 1\n"));
    let backup = decode_backup("test", &bytes).unwrap();
    assert_eq!(backup.header.last_index, 42);
    assert_eq!(backup.header.last_term, 3);
    assert_eq!(backup.header.created_unix_ms, 1_700_000_000_000);
    assert_eq!(backup.pairs, pairs());
    assert_eq!(backup.sha256.as_slice(), &bytes[bytes.len() - BACKUP_SHA256_SIZE_BYTES..]);
}

/// Any single flipped bit anywhere in the file is refused (the magic, the version, the header,
/// the image or the checksum itself).
#[test]
fn every_flipped_byte_is_refused() {
    let bytes = file_bytes();
    for position in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[position] ^= 0x04;
        assert!(decode_backup("test", &damaged).is_err(), "flip at {position} accepted");
    }
}

/// A flipped byte in the image is reported as a checksum mismatch, a short or padded file as
/// truncated, a foreign file as not a backup and a later version as unsupported.
#[test]
fn each_damage_has_its_own_clear_error() {
    let bytes = file_bytes();
    let mut flipped = bytes.clone();
    let in_image = bytes.len() - BACKUP_SHA256_SIZE_BYTES - 5;
    flipped[in_image] ^= 0x01;
    let error = decode_backup("test", &flipped).unwrap_err();
    assert!(matches!(error, BackupError::ChecksumMismatch { .. }), "{error}");
    assert!(error.to_string().contains("checksum"), "{error}");

    for cut in [1, BACKUP_SHA256_SIZE_BYTES, bytes.len() - 20] {
        let error = decode_backup("test", &bytes[..bytes.len() - cut]).unwrap_err();
        assert!(matches!(error, BackupError::Truncated { .. }), "cut {cut}: {error}");
    }
    let mut padded = bytes.clone();
    padded.push(0);
    assert!(matches!(decode_backup("test", &padded), Err(BackupError::Truncated { .. })));

    for foreign in [&b""[..], b"SOVSNAP1 not a backup", b"SOVEREIGN-BACKUPX 1\n"] {
        assert!(matches!(decode_backup("test", foreign), Err(BackupError::WrongMagic { .. })), "{foreign:?}");
    }
    let mut later = bytes.clone();
    later[b"SOVEREIGN-BACKUP ".len()] = b'2';
    let error = decode_backup("test", &later).unwrap_err();
    assert!(matches!(&error, BackupError::UnsupportedVersion { found, .. } if found == "2"), "{error}");
}

/// A file on disk is read and verified; a missing one is an I/O error naming the path.
#[test]
fn a_file_is_read_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heap.backup");
    std::fs::write(&path, file_bytes()).unwrap();
    assert_eq!(read_backup_file(&path).unwrap().pairs, pairs());
    let missing = dir.path().join("missing.backup");
    let error = read_backup_file(&missing).unwrap_err();
    assert!(error.to_string().contains("missing.backup"), "{error}");
}
