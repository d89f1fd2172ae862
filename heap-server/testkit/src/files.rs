//! The files of a security folder: written whole (a temporary file, synced, then moved in place, so
//! a crash never leaves half a key), with the mode set at creation (secrets 0600: nobody else may
//! read a key or a token), and read with a size bound.

use std::fs::OpenOptions;
use std::io::Read;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::path::PathBuf;

use crate::pki_error::PkiError;

/// Mode of private keys, token files and the tokens file: the owner alone reads them.
pub(crate) const SECRET_FILE_MODE: u32 = 0o600;
/// Mode of certificates: public by nature.
pub(crate) const PUBLIC_FILE_MODE: u32 = 0o644;
/// Mode of a security folder heapctl creates.
pub(crate) const SECURITY_DIR_MODE: u32 = 0o700;

/// What to do when the file to write exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Refuse, with this advice in the error.
    Refuse(&'static str),
    /// Replace it (atomically).
    Replace,
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> PkiError + 'a {
    move |error| PkiError::Io { action, path: path.display().to_string(), error }
}

/// Creates `dir` (and its parents) with mode 0700 if it does not exist.
pub(crate) fn create_security_dir(dir: &Path) -> Result<(), PkiError> {
    std::fs::DirBuilder::new().recursive(true).mode(SECURITY_DIR_MODE).create(dir).map_err(io_error("create", dir))
}

/// Writes `contents` to `path` with `mode`, whole or not at all.
pub(crate) fn write_file(path: &Path, contents: &[u8], mode: u32, existing: Existing) -> Result<(), PkiError> {
    if let Existing::Refuse(what) = existing {
        if path.exists() {
            return Err(PkiError::Exists { path: path.display().to_string(), what });
        }
    }
    let mut temporary = PathBuf::from(path);
    temporary.as_mut_os_string().push(format!(".tmp-{}", std::process::id()));
    // A stale temporary file of a crashed run with our pid is ours to replace.
    let _ = std::fs::remove_file(&temporary);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)
            .map_err(io_error("create", &temporary))?;
        // The umask may only remove bits; set the mode exactly.
        file.set_permissions(std::fs::Permissions::from_mode(mode)).map_err(io_error("set the mode of", &temporary))?;
        file.write_all(contents).map_err(io_error("write", &temporary))?;
        file.sync_all().map_err(io_error("sync", &temporary))?;
        match existing {
            // A hard link fails if `path` appeared since the check: never replace what we refuse to.
            Existing::Refuse(what) => std::fs::hard_link(&temporary, path).map_err(|error| {
                if error.kind() == std::io::ErrorKind::AlreadyExists {
                    PkiError::Exists { path: path.display().to_string(), what }
                } else {
                    PkiError::Io { action: "create", path: path.display().to_string(), error }
                }
            }),
            Existing::Replace => std::fs::rename(&temporary, path).map_err(io_error("replace", path)),
        }
    })();
    let _ = std::fs::remove_file(&temporary);
    result
}

/// The text of `path`, refusing files larger than `size_bytes_max`.
pub(crate) fn read_bounded(path: &Path, size_bytes_max: u64) -> Result<String, PkiError> {
    let file = std::fs::File::open(path).map_err(io_error("open", path))?;
    let size_bytes = file.metadata().map_err(io_error("inspect", path))?.len();
    if size_bytes > size_bytes_max {
        return Err(PkiError::TooLarge { path: path.display().to_string(), size_bytes, size_bytes_max });
    }
    let mut text = String::new();
    file.take(size_bytes_max).read_to_string(&mut text).map_err(io_error("read", path))?;
    Ok(text)
}
