//! The snapshot byte format, written and read pair by pair: `encode_snapshot` writes a machine's
//! pairs straight into the one output buffer, and `SnapshotView` checks a snapshot and then
//! hands out its pairs as slices of the bytes. Neither builds a list of all pairs, so building,
//! checking or installing a snapshot holds the image once in memory, not three or four times.
//!
//! The format is exactly `SnapshotImage`'s bincode encoding (standard config) behind a header:
//! magic, CRC-32 of the body; body = meta, then the pair count and each pair as two byte strings
//! (a varint length, then the bytes). A test keeps the two in step.

use std::io::Write;

use bincode::config::Configuration;

use super::snapshot_error::check_size;
use super::snapshot_error::ImageError;
use super::snapshot_error::SNAPSHOT_SIZE_BYTES_CEILING;
use crate::types::SnapshotMeta;

/// Written first in every snapshot, so a stray file is never mistaken for one.
pub(crate) const SNAPSHOT_MAGIC: &[u8; 8] = b"SOVSNAP1";
const CRC_BYTES: usize = 4;
pub(crate) const HEADER_SIZE_BYTES: usize = SNAPSHOT_MAGIC.len() + CRC_BYTES;

/// bincode's varint markers: below 251 the byte is the value; these say a 2, 4 or 8-byte
/// little-endian value follows.
const VARINT_U16: u8 = 251;
const VARINT_U32: u8 = 252;
const VARINT_U64: u8 = 253;

pub(crate) fn config() -> Configuration {
    bincode::config::standard()
}

/// Appends `value` as a bincode varint to `out` (tests compare it with bincode's own).
#[cfg(test)]
fn write_varint(out: &mut Vec<u8>, value: u64) {
    let (bytes, length) = varint_bytes(value);
    out.extend_from_slice(&bytes[..length]);
}

/// `value` as a bincode varint: the bytes and how many of them are used.
fn varint_bytes(value: u64) -> ([u8; 9], usize) {
    let mut bytes = [0u8; 9];
    if value < u64::from(VARINT_U16) {
        bytes[0] = value as u8;
        return (bytes, 1);
    }
    let width = if value <= u64::from(u16::MAX) {
        bytes[0] = VARINT_U16;
        2
    } else if value <= u64::from(u32::MAX) {
        bytes[0] = VARINT_U32;
        4
    } else {
        bytes[0] = VARINT_U64;
        8
    };
    bytes[1..1 + width].copy_from_slice(&value.to_le_bytes()[..width]);
    (bytes, 1 + width)
}

/// Reads a varint at `*at`, moving `*at` past it; `None` if the bytes end or the marker is not
/// one a length can have.
fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let marker = *bytes.get(*at)?;
    let width = match marker {
        VARINT_U16 => 2,
        VARINT_U32 => 4,
        VARINT_U64 => 8,
        small if small < VARINT_U16 => {
            *at += 1;
            return Some(u64::from(small));
        }
        _ => return None,
    };
    let field = bytes.get(*at + 1..*at + 1 + width)?;
    let mut value = [0u8; 8];
    value[..width].copy_from_slice(field);
    *at += 1 + width;
    Some(u64::from_le_bytes(value))
}

/// Receives a machine's pairs for `encode_snapshot` / `encode_snapshot_to` and writes them to its
/// output, keeping the body's checksum and size as it goes. The first write error is kept (a
/// machine's export cannot stop half way) and reported when the encoding finishes.
pub struct PairWriter<W: Write> {
    out: W,
    crc: crc32fast::Hasher,
    size_bytes: u64,
    written: u64,
    failed: Option<std::io::Error>,
}

impl<W: Write> PairWriter<W> {
    fn write(&mut self, bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        match self.out.write_all(bytes) {
            Ok(()) => {
                self.crc.update(bytes);
                self.size_bytes += bytes.len() as u64;
            }
            Err(error) => self.failed = Some(error),
        }
    }

    fn write_varint(&mut self, value: u64) {
        let (bytes, length) = varint_bytes(value);
        self.write(&bytes[..length]);
    }

    pub fn push(&mut self, key: &[u8], value: &[u8]) {
        self.write_varint(key.len() as u64);
        self.write(key);
        self.write_varint(value.len() as u64);
        self.write(value);
        self.written += 1;
    }
}

/// What `encode_snapshot_to` wrote after the header: the body's CRC-32 (to put in the header's
/// checksum field) and the whole snapshot's size in bytes, header included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodedBody {
    pub crc: u32,
    pub size_bytes: u64,
}

/// Offset of the header's checksum field: a streamed snapshot writes a placeholder there and
/// fills it in once the body is written.
pub(crate) const CRC_OFFSET: usize = SNAPSHOT_MAGIC.len();

/// Streams a snapshot of `meta` and the `pair_count` pairs `write_pairs` pushes into `out`, with
/// the checksum field zero: the caller writes `EncodedBody::crc` at `CRC_OFFSET` afterwards. A
/// machine that pushes another number of pairs than it announced is a bug: the node stops rather
/// than write a snapshot it could not read back.
pub fn encode_snapshot_to<W: Write>(
    mut out: W,
    meta: &SnapshotMeta,
    pair_count: u64,
    write_pairs: impl FnOnce(&mut PairWriter<W>),
) -> Result<(W, EncodedBody), WriteFailure> {
    out.write_all(SNAPSHOT_MAGIC).map_err(WriteFailure::Io)?;
    out.write_all(&[0; CRC_BYTES]).map_err(WriteFailure::Io)?;
    let meta_bytes = bincode::serde::encode_to_vec(meta, config())
        .map_err(|e| WriteFailure::Image(ImageError::Corrupt(format!("cannot encode the snapshot meta: {e}"))))?;
    let mut writer = PairWriter {
        out,
        crc: crc32fast::Hasher::new(),
        size_bytes: HEADER_SIZE_BYTES as u64,
        written: 0,
        failed: None,
    };
    writer.write(&meta_bytes);
    writer.write_varint(pair_count);
    write_pairs(&mut writer);
    let PairWriter { out, crc, size_bytes, written, failed } = writer;
    if let Some(error) = failed {
        return Err(WriteFailure::Io(error));
    }
    assert_eq!(written, pair_count, "the machine exported {written} pairs but announced {pair_count}");
    check_size(size_bytes, SNAPSHOT_SIZE_BYTES_CEILING).map_err(WriteFailure::Image)?;
    Ok((out, EncodedBody { crc: crc.finalize(), size_bytes }))
}

/// Why streaming a snapshot failed: the output (a file) or the image itself.
#[derive(Debug)]
pub enum WriteFailure {
    Io(std::io::Error),
    Image(ImageError),
}

/// Encodes a snapshot of `meta` and the `pair_count` pairs `write_pairs` pushes, in one buffer.
/// `size_hint_bytes` presizes it. For images already in memory (backups, tests); a node streams
/// its own snapshots to the file (`image_file::SnapshotFileWriter`).
pub fn encode_snapshot(
    meta: &SnapshotMeta,
    pair_count: u64,
    size_hint_bytes: usize,
    write_pairs: impl FnOnce(&mut PairWriter<&mut Vec<u8>>),
) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::with_capacity(size_hint_bytes.max(HEADER_SIZE_BYTES));
    let (_, body) = encode_snapshot_to(&mut out, meta, pair_count, write_pairs).map_err(|failure| match failure {
        WriteFailure::Image(error) => error,
        // Writing to a Vec cannot fail; if it ever did, say so rather than panic.
        WriteFailure::Io(error) => ImageError::Corrupt(format!("cannot encode the snapshot in memory: {error}")),
    })?;
    out[CRC_OFFSET..HEADER_SIZE_BYTES].copy_from_slice(&body.crc.to_le_bytes());
    Ok(out)
}

/// The most of a snapshot's head read for its meta alone: a membership of a few nodes is a few
/// hundred bytes.
pub(crate) const META_READ_BYTES_MAX: usize = 1024 * 1024;

/// The meta of the snapshot whose first bytes are `head` (at most `META_READ_BYTES_MAX` of them),
/// without reading or checking the rest: for openraft's questions about the current snapshot.
/// The whole file is checked whenever it is loaded or received.
pub(crate) fn decode_meta_from_head(head: &[u8]) -> Result<SnapshotMeta, ImageError> {
    if head.len() < HEADER_SIZE_BYTES || &head[..SNAPSHOT_MAGIC.len()] != SNAPSHOT_MAGIC {
        return Err(ImageError::Corrupt("missing snapshot header".into()));
    }
    let limited = config().with_limit::<META_READ_BYTES_MAX>();
    bincode::serde::decode_from_slice::<SnapshotMeta, _>(&head[HEADER_SIZE_BYTES..], limited)
        .map(|(meta, _)| meta)
        .map_err(|e| ImageError::Corrupt(format!("cannot decode the snapshot meta: {e}")))
}

/// A checked snapshot: its meta, and its pairs as slices of the bytes.
#[derive(Debug)]
pub struct SnapshotView<'a> {
    pub meta: SnapshotMeta,
    pair_count: u64,
    /// The encoded pairs, every one already checked to parse, ending exactly at the end.
    pairs: &'a [u8],
}

impl<'a> SnapshotView<'a> {
    /// Checks a snapshot of at most `size_bytes_max` bytes whole (header, checksum, meta, every
    /// pair, no trailing bytes) without copying its pairs.
    pub fn decode(bytes: &'a [u8], size_bytes_max: u64) -> Result<Self, ImageError> {
        // usize is at most 64 bits on every supported target (see the assert on the ceiling).
        check_size(bytes.len() as u64, size_bytes_max)?;
        if bytes.len() < HEADER_SIZE_BYTES || &bytes[..SNAPSHOT_MAGIC.len()] != SNAPSHOT_MAGIC {
            return Err(ImageError::Corrupt("missing snapshot header".into()));
        }
        let mut crc = [0u8; CRC_BYTES];
        crc.copy_from_slice(&bytes[SNAPSHOT_MAGIC.len()..HEADER_SIZE_BYTES]);
        let body = &bytes[HEADER_SIZE_BYTES..];
        if crc32fast::hash(body) != u32::from_le_bytes(crc) {
            return Err(ImageError::Corrupt("checksum mismatch".into()));
        }
        let limited = config().with_limit::<{ SNAPSHOT_SIZE_BYTES_CEILING as usize }>();
        let (meta, meta_bytes) = bincode::serde::decode_from_slice::<SnapshotMeta, _>(body, limited)
            .map_err(|e| ImageError::Corrupt(format!("cannot decode the snapshot meta: {e}")))?;
        let mut at = meta_bytes;
        let pair_count = read_varint(body, &mut at).ok_or_else(|| ImageError::Corrupt("no pair count".into()))?;
        let view = SnapshotView { meta, pair_count, pairs: &body[at..] };
        let mut parsed = 0u64;
        let mut pairs = view.raw_pairs();
        for pair in &mut pairs {
            pair?;
            parsed += 1;
        }
        if parsed != pair_count || pairs.at != view.pairs.len() {
            return Err(ImageError::Corrupt(format!(
                "the snapshot announces {pair_count} pairs but holds {parsed} and {} more bytes",
                view.pairs.len() - pairs.at
            )));
        }
        Ok(view)
    }

    fn raw_pairs(&self) -> RawPairs<'a> {
        RawPairs { bytes: self.pairs, at: 0, left: self.pair_count }
    }

    /// Every pair, in the order it was written (checked by `decode`, so none fails).
    pub fn pairs(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        self.raw_pairs().map_while(Result::ok)
    }
}

/// Parses pairs one at a time.
struct RawPairs<'a> {
    bytes: &'a [u8],
    at: usize,
    left: u64,
}

impl<'a> RawPairs<'a> {
    fn field(&mut self) -> Result<&'a [u8], ImageError> {
        let length = read_varint(self.bytes, &mut self.at).ok_or_else(|| ImageError::Corrupt("bad length".into()))?;
        let end = usize::try_from(length)
            .ok()
            .and_then(|length| self.at.checked_add(length))
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| ImageError::Corrupt(format!("a field of {length} bytes runs past the end")))?;
        let field = &self.bytes[self.at..end];
        self.at = end;
        Ok(field)
    }
}

impl<'a> Iterator for RawPairs<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), ImageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let pair = self.field().and_then(|key| Ok((key, self.field()?)));
        if pair.is_err() {
            self.left = 0;
        }
        Some(pair)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn pairs() -> Vec<(Vec<u8>, Vec<u8>)> {
        // Lengths around every varint width boundary.
        [0usize, 1, 250, 251, 252, 65_535, 65_536, 70_000]
            .iter()
            .enumerate()
            .map(|(i, length)| (vec![i as u8; i + 1], vec![7u8; *length]))
            .collect()
    }

    /// Pairs come back as written, including lengths at every varint width.
    #[test]
    fn pairs_come_back_as_written() {
        let meta = SnapshotMeta::default();
        let encoded = encode_snapshot(&meta, pairs().len() as u64, 0, |writer| {
            for (key, value) in pairs() {
                writer.push(&key, &value);
            }
        })
        .unwrap();
        let view = SnapshotView::decode(&encoded, SNAPSHOT_SIZE_BYTES_CEILING).unwrap();
        let read: Vec<(Vec<u8>, Vec<u8>)> = view.pairs().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        assert_eq!(read, pairs());
    }

    #[test]
    fn varints_round_trip_at_every_width() {
        for value in [0, 250, 251, 65_535, 65_536, u64::from(u32::MAX), u64::from(u32::MAX) + 1, u64::MAX] {
            let mut out = Vec::new();
            write_varint(&mut out, value);
            assert_eq!(out, bincode::encode_to_vec(value, config()).unwrap(), "{value}");
            let mut at = 0;
            assert_eq!(read_varint(&out, &mut at), Some(value));
            assert_eq!(at, out.len());
        }
        assert_eq!(read_varint(&[254], &mut 0), None, "a 128-bit marker is no length");
        assert_eq!(read_varint(&[VARINT_U32, 1, 2], &mut 0), None, "cut short");
    }

    #[test]
    #[should_panic(expected = "announced")]
    fn a_machine_that_miscounts_its_pairs_stops_the_node() {
        let _ = encode_snapshot(&SnapshotMeta::default(), 2, 0, |writer| writer.push(b"a", b"1"));
    }
}
