//! Free and total bytes of the file system that holds a path (statvfs), for the metrics and for
//! warnings before the disk is full.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temp_dir_has_some_space_and_a_missing_path_has_none() {
        let space = disk_space(&std::env::temp_dir()).expect("statvfs of the temp dir");
        assert!(space.total_bytes > 0 && space.free_bytes <= space.total_bytes, "{space:?}");
        assert_eq!(disk_space(Path::new("/no/such/path/anywhere")), None);
    }
}
