//! The only places the log forces data to disk: `sync_data` (fdatasync) of a file and `sync_dir`
//! (fsync of a directory), each counted in `Counters` and timed in its `sync_latency` histogram
//! (a slow disk shows there before it shows as slow commits).

use std::fs::File;
use std::io;
use std::path::Path;
use std::time::Instant;

use super::stats::Counters;

/// fdatasync: the file's data and the metadata needed to read it (its size) are on disk.
pub(crate) fn sync_data(file: &File, counters: &Counters) -> io::Result<()> {
    let started = Instant::now();
    file.sync_data()?;
    counters.sync_latency.observe(started.elapsed());
    Counters::add(&counters.fdatasync_count, 1);
    Ok(())
}

/// fsync of a whole file, metadata included.
pub(crate) fn sync_all(file: &File, counters: &Counters) -> io::Result<()> {
    let started = Instant::now();
    file.sync_all()?;
    counters.sync_latency.observe(started.elapsed());
    Counters::add(&counters.fsync_count, 1);
    Ok(())
}

/// fsync of a directory: file creations, renames and removals in it are on disk.
pub(crate) fn sync_dir(dir: &Path, counters: &Counters) -> io::Result<()> {
    let handle = File::open(dir)?;
    sync_all(&handle, counters)
}
