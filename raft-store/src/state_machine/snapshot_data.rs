//! `SnapshotData`: a snapshot's bytes as openraft hands them around. Either in memory (a snapshot
//! received from a peer, or built by a test) or the snapshot file as it was when openraft asked
//! for the current snapshot: an open file read a chunk at a time (`read_chunk`, pread), so a
//! leader sending its snapshot to a follower, and openraft reading the snapshot's meta at start,
//! never hold the whole image in memory. A newer snapshot renamed over the path later leaves the
//! open file, and so what is being sent, intact.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

#[derive(Clone)]
enum Source {
    Memory(Arc<Vec<u8>>),
    File { file: Arc<File>, size_bytes: u64 },
}

/// One snapshot's bytes. Cheap to clone.
#[derive(Clone)]
pub struct SnapshotData {
    source: Source,
}

impl SnapshotData {
    /// Bytes already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        SnapshotData { source: Source::Memory(Arc::new(bytes)) }
    }

    /// The file at `path` as it is now.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let size_bytes = file.metadata()?.len();
        Ok(SnapshotData { source: Source::File { file: Arc::new(file), size_bytes } })
    }

    pub fn len(&self) -> u64 {
        match &self.source {
            Source::Memory(bytes) => bytes.len() as u64,
            Source::File { size_bytes, .. } => *size_bytes,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Up to `length_max` bytes from `offset` (fewer only at the end; none past it).
    pub fn read_chunk(&self, offset: u64, length_max: usize) -> io::Result<Vec<u8>> {
        let end = self.len().min(offset.saturating_add(length_max as u64));
        let length = usize::try_from(end.saturating_sub(offset)).unwrap_or(0);
        match &self.source {
            Source::Memory(bytes) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
                Ok(bytes[start..start + length.min(bytes.len() - start)].to_vec())
            }
            Source::File { file, .. } => {
                let mut chunk = vec![0; length];
                file.read_exact_at(&mut chunk, offset)?;
                Ok(chunk)
            }
        }
    }

    /// Every byte, in memory (a file is read whole).
    pub fn into_bytes(self) -> io::Result<Vec<u8>> {
        match self.source {
            Source::Memory(bytes) => Ok(Arc::try_unwrap(bytes).unwrap_or_else(|shared| shared.as_ref().clone())),
            Source::File { size_bytes, .. } => {
                let length = usize::try_from(size_bytes).map_err(io::Error::other)?;
                self.read_chunk(0, length)
            }
        }
    }
}

impl From<Vec<u8>> for SnapshotData {
    fn from(bytes: Vec<u8>) -> Self {
        SnapshotData::from_bytes(bytes)
    }
}

impl fmt::Debug for SnapshotData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.source {
            Source::Memory(_) => "memory",
            Source::File { .. } => "file",
        };
        write!(f, "SnapshotData({} bytes in {kind})", self.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Chunks of a file and of the same bytes in memory agree, at every boundary and past the
    /// end; a file renamed over keeps serving the bytes it had when opened.
    #[test]
    fn chunks_from_a_file_and_from_memory_agree_and_the_file_outlives_a_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshot.bin");
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let file = SnapshotData::open(&path).unwrap();
        let memory = SnapshotData::from_bytes(bytes.clone());
        for (offset, length) in [(0, 1), (0, 4096), (4096, 4096), (8192, 4096), (9_999, 10), (10_000, 10), (20_000, 5)]
        {
            assert_eq!(file.read_chunk(offset, length).unwrap(), memory.read_chunk(offset, length).unwrap());
        }
        assert_eq!(file.read_chunk(8192, 4096).unwrap().len(), 10_000 - 8192);
        std::fs::write(dir.path().join("new"), b"newer").unwrap();
        std::fs::rename(dir.path().join("new"), &path).unwrap();
        assert_eq!(file.clone().into_bytes().unwrap(), bytes, "the open file still reads the old snapshot");
        assert_eq!(memory.into_bytes().unwrap(), bytes);
    }
}
