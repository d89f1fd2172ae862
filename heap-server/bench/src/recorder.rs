//! `Recorder`: one client task's measurements (an HDR latency histogram in microseconds and an
//! error count), kept per task so recording takes no lock, and merged at the end.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::error::BenchError;
use crate::limits::HISTOGRAM_HIGHEST_US;
use crate::limits::HISTOGRAM_LOWEST_US;
use crate::limits::HISTOGRAM_SIGNIFICANT_DIGITS;

pub struct Recorder {
    latencies_us: Histogram<u64>,
    errors: u64,
}

impl Recorder {
    pub fn new() -> Result<Self, BenchError> {
        let latencies_us =
            Histogram::new_with_bounds(HISTOGRAM_LOWEST_US, HISTOGRAM_HIGHEST_US, HISTOGRAM_SIGNIFICANT_DIGITS)
                .map_err(|e| BenchError::InvalidArgument(format!("histogram bounds: {e}")))?;
        Ok(Self { latencies_us, errors: 0 })
    }

    /// One successful request that took `latency`; beyond the histogram's range it counts as
    /// the highest trackable value rather than being lost.
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).max(HISTOGRAM_LOWEST_US);
        self.latencies_us.saturating_record(us);
    }

    pub fn error(&mut self) {
        self.errors += 1;
    }

    pub fn merge(&mut self, other: &Recorder) -> Result<(), BenchError> {
        self.latencies_us
            .add(&other.latencies_us)
            .map_err(|e| BenchError::InvalidArgument(format!("cannot merge histograms: {e}")))?;
        self.errors += other.errors;
        Ok(())
    }

    /// Successful requests recorded.
    pub fn ok_count(&self) -> u64 {
        self.latencies_us.len()
    }

    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// The latency at `quantile` (0..=1) in milliseconds; 0 when nothing was recorded.
    pub fn quantile_ms(&self, quantile: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.value_at_quantile(quantile) as f64 / 1_000.0
    }

    pub fn mean_ms(&self) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.mean() / 1_000.0
    }

    pub fn max_ms(&self) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.max() as f64 / 1_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_known_latencies() {
        let mut recorder = Recorder::new().expect("valid bounds");
        for ms in 1..=100u64 {
            recorder.record(Duration::from_millis(ms));
        }
        assert_eq!(recorder.ok_count(), 100);
        let p50 = recorder.quantile_ms(0.5);
        let p99 = recorder.quantile_ms(0.99);
        assert!((49.9..=50.1).contains(&p50), "p50 {p50}");
        assert!((98.9..=99.1).contains(&p99), "p99 {p99}");
        assert!((100.0..=100.1).contains(&recorder.max_ms()));
        assert!((50.4..=50.6).contains(&recorder.mean_ms()));
    }

    #[test]
    fn merge_adds_counts_and_errors() {
        let mut a = Recorder::new().expect("valid bounds");
        let mut b = Recorder::new().expect("valid bounds");
        a.record(Duration::from_micros(300));
        b.record(Duration::from_micros(700));
        b.error();
        b.error();
        a.merge(&b).expect("same bounds");
        assert_eq!(a.ok_count(), 2);
        assert_eq!(a.errors(), 2);
        assert!((0.69..=0.71).contains(&a.quantile_ms(1.0)));
    }

    #[test]
    fn empty_and_out_of_range() {
        let mut recorder = Recorder::new().expect("valid bounds");
        assert_eq!(recorder.quantile_ms(0.5), 0.0);
        assert_eq!(recorder.mean_ms(), 0.0);
        // Sub-microsecond and absurdly long latencies are still counted.
        recorder.record(Duration::from_nanos(10));
        recorder.record(Duration::from_secs(1_000_000));
        assert_eq!(recorder.ok_count(), 2);
        assert!(recorder.max_ms() >= (HISTOGRAM_HIGHEST_US as f64 / 1_000.0) * 0.99);
    }
}
