//! How much a node's data dir holds on disk: in total and per top-level entry (`log` is the
//! Raft log, `sm` the state machine's snapshot), counted as the files' lengths.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// Deepest directory nesting walked; a node's data dir is three levels deep.
const DEPTH_MAX: usize = 16;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiskUsage {
    pub total_bytes: u64,
    /// Top-level entry name to its bytes (a file's length, or a directory's files' lengths).
    pub parts: BTreeMap<String, u64>,
}

/// The lengths of the files under `path` (itself, if it is a file); symlinks are not followed.
fn bytes_under(path: &Path, depth: usize) -> anyhow::Result<u64> {
    let metadata = std::fs::symlink_metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    if !metadata.is_dir() {
        return Ok(if metadata.is_file() { metadata.len() } else { 0 });
    }
    if depth >= DEPTH_MAX {
        anyhow::bail!("{} is nested deeper than {DEPTH_MAX} levels; is this a node's data dir?", path.display());
    }
    let mut total = 0;
    for entry in std::fs::read_dir(path).with_context(|| format!("cannot list {}", path.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", path.display()))?;
        total += bytes_under(&entry.path(), depth + 1)?;
    }
    Ok(total)
}

/// The usage of `dir` now. Files may come and go while it is walked (a snapshot being written):
/// one that vanished counts as empty.
pub fn measure(dir: &Path) -> anyhow::Result<DiskUsage> {
    let mut usage = DiskUsage::default();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list the data dir {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let bytes = match bytes_under(&entry.path(), 1) {
            Ok(bytes) => bytes,
            Err(_) if !entry.path().exists() => 0,
            Err(error) => return Err(error),
        };
        usage.total_bytes += bytes;
        usage.parts.insert(entry.file_name().to_string_lossy().into_owned(), bytes);
    }
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_summed_per_top_level_entry() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("sm/state/blobs")).expect("mkdir");
        std::fs::write(dir.path().join("sm/state/db"), [0u8; 1000]).expect("write");
        std::fs::write(dir.path().join("sm/state/blobs/1"), [0u8; 24]).expect("write");
        std::fs::create_dir(dir.path().join("log")).expect("mkdir");
        std::fs::write(dir.path().join("log/segment-1"), [0u8; 300]).expect("write");
        std::fs::write(dir.path().join("node.id"), [0u8; 2]).expect("write");
        let usage = measure(dir.path()).expect("measures");
        assert_eq!(usage.total_bytes, 1326);
        assert_eq!(usage.parts["sm"], 1024);
        assert_eq!(usage.parts["log"], 300);
        assert_eq!(usage.parts["node.id"], 2);
    }

    #[test]
    fn a_missing_data_dir_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let error = measure(&dir.path().join("absent")).expect_err("absent");
        assert!(error.to_string().contains("absent"), "{error}");
    }
}
