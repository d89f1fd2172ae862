//! `MachineFigures`: the physical limits a durable replicated write works against, measured on
//! this machine before the systems: a 4 KiB write + fdatasync in the benchmark's own filesystem,
//! and a 1-byte loopback TCP round trip with TCP_NODELAY.

use std::io::Read;
use std::io::Write;
use std::net::TcpListener;
use std::net::TcpStream;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;
use std::time::Instant;

use serde::Serialize;

use crate::error::BenchError;
use crate::limits::FSYNC_BLOCK_BYTES;
use crate::limits::FSYNC_SAMPLES;
use crate::limits::LOOPBACK_SAMPLES;
use crate::limits::LOOPBACK_WARMUP_ROUNDS;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineFigures {
    pub cores: usize,
    /// The directory the fsync probe wrote in (the results directory's filesystem).
    pub fsync_dir: String,
    pub fsync_samples: usize,
    pub fsync_4k_p50_ms: f64,
    pub fsync_4k_p99_ms: f64,
    pub loopback_samples: usize,
    pub loopback_rtt_p50_us: f64,
    pub loopback_rtt_p99_us: f64,
}

impl MachineFigures {
    pub fn line(&self) -> String {
        format!(
            "{} cores; 4 KiB write + fdatasync: p50 {:.3} ms, p99 {:.3} ms ({} samples in {}); loopback TCP round trip: p50 {:.1} us, p99 {:.1} us ({} samples)",
            self.cores,
            self.fsync_4k_p50_ms,
            self.fsync_4k_p99_ms,
            self.fsync_samples,
            self.fsync_dir,
            self.loopback_rtt_p50_us,
            self.loopback_rtt_p99_us,
            self.loopback_samples
        )
    }
}

/// The sample at `quantile` (0..=1) of `sorted` (nearest rank); zero for no samples.
fn percentile(sorted: &[Duration], quantile: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * quantile).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `samples` timed 4 KiB writes, each followed by fdatasync, at successive offsets of a file
/// whose blocks were written (and synced) beforehand, as a log with preallocated segments
/// writes. The file is removed afterwards.
fn fsync_latencies(dir: &Path, samples: usize) -> Result<Vec<Duration>, BenchError> {
    let path = dir.join(format!("heap-bench-fsync-{}.probe", std::process::id()));
    let io = |e| BenchError::io(&path, e);
    let file =
        std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).map_err(io)?;
    let block = vec![0x5a_u8; FSYNC_BLOCK_BYTES];
    let mut latencies = Vec::with_capacity(samples);
    let result = (|| {
        for i in 0..samples {
            file.write_all_at(&block, (i * FSYNC_BLOCK_BYTES) as u64)?;
        }
        file.sync_all()?;
        for i in 0..samples {
            let started = Instant::now();
            file.write_all_at(&block, (i * FSYNC_BLOCK_BYTES) as u64)?;
            file.sync_data()?;
            latencies.push(started.elapsed());
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&path);
    result.map_err(io)?;
    latencies.sort();
    Ok(latencies)
}

/// `samples` timed 1-byte round trips to an echo thread over 127.0.0.1 with TCP_NODELAY.
fn loopback_latencies(samples: usize) -> Result<Vec<Duration>, BenchError> {
    let io = |e| BenchError::io(Path::new("127.0.0.1 loopback probe"), e);
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io)?;
    let addr = listener.local_addr().map_err(io)?;
    let echo = std::thread::spawn(move || -> std::io::Result<()> {
        let (mut stream, _) = listener.accept()?;
        stream.set_nodelay(true)?;
        let mut byte = [0u8; 1];
        loop {
            if stream.read(&mut byte)? == 0 {
                return Ok(());
            }
            stream.write_all(&byte)?;
        }
    });
    let mut stream = TcpStream::connect(addr).map_err(io)?;
    stream.set_nodelay(true).map_err(io)?;
    let mut byte = [1u8; 1];
    let mut latencies = Vec::with_capacity(samples);
    for round in 0..LOOPBACK_WARMUP_ROUNDS + samples {
        let started = Instant::now();
        stream.write_all(&byte).map_err(io)?;
        stream.read_exact(&mut byte).map_err(io)?;
        if round >= LOOPBACK_WARMUP_ROUNDS {
            latencies.push(started.elapsed());
        }
    }
    drop(stream);
    let _ = echo.join();
    latencies.sort();
    Ok(latencies)
}

/// Both probes, with `dir` as the fsync probe's directory.
pub fn measure(dir: &Path) -> Result<MachineFigures, BenchError> {
    let fsync = fsync_latencies(dir, FSYNC_SAMPLES)?;
    let loopback = loopback_latencies(LOOPBACK_SAMPLES)?;
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    let us = |d: Duration| d.as_secs_f64() * 1_000_000.0;
    Ok(MachineFigures {
        cores: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
        fsync_dir: dir.display().to_string(),
        fsync_samples: fsync.len(),
        fsync_4k_p50_ms: ms(percentile(&fsync, 0.50)),
        fsync_4k_p99_ms: ms(percentile(&fsync, 0.99)),
        loopback_samples: loopback.len(),
        loopback_rtt_p50_us: us(percentile(&loopback, 0.50)),
        loopback_rtt_p99_us: us(percentile(&loopback, 0.99)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_by_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&sorted, 0.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn probes_measure_and_clean_up() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fsync = fsync_latencies(dir.path(), 5).expect("fsync probe");
        assert_eq!(fsync.len(), 5);
        assert!(fsync.windows(2).all(|w| w[0] <= w[1]), "sorted");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "probe file removed");
        let loopback = loopback_latencies(50).expect("loopback probe");
        assert_eq!(loopback.len(), 50);
        assert!(loopback[0] > Duration::ZERO);
    }
}
