//! Times of single applies: wall time, and the applying thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`), with their percentiles.

use std::time::Duration;
use std::time::Instant;

use serde::Serialize;

/// CPU time this thread has used since it started (zero if the clock cannot be read).
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec we pass, which lives on this stack frame.
    #[allow(unsafe_code)]
    let read = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if read != 0 {
        return Duration::ZERO;
    }
    Duration::new(u64::try_from(now.tv_sec).unwrap_or(0), u32::try_from(now.tv_nsec).unwrap_or(0))
}

/// Runs `work` and returns its result with its wall and thread CPU time in microseconds.
pub fn timed<R>(work: impl FnOnce() -> R) -> (R, u64, u64) {
    let wall = Instant::now();
    let cpu = thread_cpu_time();
    let result = work();
    let cpu_us = thread_cpu_time().saturating_sub(cpu).as_micros() as u64;
    (result, wall.elapsed().as_micros() as u64, cpu_us)
}

/// p50, p99 and max of some durations in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Percentiles {
    /// Nearest-rank percentiles; all zero for no samples.
    pub fn of(mut samples: Vec<u64>) -> Self {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_unstable();
        let rank = |fraction: f64| {
            let index = (fraction * samples.len() as f64).ceil() as usize;
            samples[index.clamp(1, samples.len()) - 1]
        };
        Percentiles { p50_us: rank(0.50), p99_us: rank(0.99), max_us: samples[samples.len() - 1] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let hundred: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(Percentiles::of(hundred), Percentiles { p50_us: 50, p99_us: 99, max_us: 100 });
        assert_eq!(Percentiles::of(vec![7]), Percentiles { p50_us: 7, p99_us: 7, max_us: 7 });
        assert_eq!(Percentiles::of(Vec::new()), Percentiles::default());
    }

    #[test]
    fn thread_cpu_time_counts_work_and_not_sleep() {
        let ((), _, slept_cpu_us) = timed(|| std::thread::sleep(Duration::from_millis(50)));
        let (sum, _, busy_cpu_us) = timed(|| (0..20_000_000u64).fold(0u64, |a, b| a.wrapping_add(b * b)));
        assert!(sum > 0);
        assert!(slept_cpu_us < 20_000, "sleeping 50 ms used {slept_cpu_us} us of CPU");
        assert!(busy_cpu_us > 0, "a busy loop used no CPU time");
    }
}
