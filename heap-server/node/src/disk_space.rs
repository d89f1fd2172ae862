//! Free and total bytes of the file system that holds a path (statvfs), for the metrics and for
//! warnings before the disk is full; and the bytes a data dir takes.

use std::path::Path;

/// Space on the file system of one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    /// Bytes an unprivileged writer may still use.
    pub free_bytes: u64,
    pub total_bytes: u64,
}

/// The space of the file system holding `path`, or `None` if it cannot be read.
pub fn disk_space(path: &Path) -> Option<DiskSpace> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statvfs is a valid value of the plain C struct statvfs fills in.
    #[allow(unsafe_code)]
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a NUL-terminated string that outlives the call; stat is a valid out pointer.
    #[allow(unsafe_code)]
    let result = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    if result != 0 {
        return None;
    }
    let block_bytes = stat.f_frsize as u64;
    Some(DiskSpace {
        free_bytes: (stat.f_bavail as u64).saturating_mul(block_bytes),
        total_bytes: (stat.f_blocks as u64).saturating_mul(block_bytes),
    })
}

/// Files and folders `dir_size_bytes` visits at most: a data dir holds a few dozen (log segments,
/// snapshots); a tree far larger is not a data dir, and the walk stops there.
pub const DIR_WALK_ENTRIES_MAX: usize = 10_000;

/// Bytes the files under `dir` take (their lengths, following no symlinks), visiting at most
/// `DIR_WALK_ENTRIES_MAX` entries; unreadable entries count as empty.
pub fn dir_size_bytes(dir: &Path) -> u64 {
    let mut total_bytes = 0u64;
    let mut pending = vec![dir.to_path_buf()];
    let mut visited = 0usize;
    while let Some(path) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else { continue };
        for entry in entries.flatten() {
            visited += 1;
            if visited > DIR_WALK_ENTRIES_MAX {
                return total_bytes;
            }
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => pending.push(entry.path()),
                Ok(meta) if meta.is_file() => total_bytes = total_bytes.saturating_add(meta.len()),
                _ => {}
            }
        }
    }
    total_bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temp_dir_has_some_space_and_a_missing_path_has_none() {
        let space = disk_space(&std::env::temp_dir()).expect("statvfs of the temp dir");
        assert!(space.total_bytes > 0 && space.free_bytes <= space.total_bytes, "{space:?}");
        assert_eq!(disk_space(Path::new("/no/such/path/anywhere")), None);
    }

    #[test]
    fn a_folder_tree_is_summed_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::write(dir.path().join("a"), [0u8; 100]).expect("write a");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub/b"), [0u8; 23]).expect("write b");
        assert_eq!(dir_size_bytes(dir.path()), 123);
        assert_eq!(dir_size_bytes(Path::new("/no/such/path/anywhere")), 0);
    }
}
