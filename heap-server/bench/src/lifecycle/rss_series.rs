//! `RssSeries`: one node's RSS over a run, for the reports (where memory grew, and when it was
//! given back), bounded to `RSS_SERIES_POINTS_MAX` points whatever the run's length: when full,
//! every other point goes and the rest are taken half as often.

use serde::Serialize;

use crate::limits::RSS_SERIES_POINTS_MAX;

/// One point: milliseconds since the sampler started, RSS and its anonymous part, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RssPoint {
    pub at_ms: u64,
    pub rss_bytes: u64,
    pub rss_anon_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RssSeries {
    points: Vec<RssPoint>,
    /// One sample in `stride` is kept.
    stride: u64,
    /// Samples offered since the last one kept.
    skipped: u64,
    capacity: usize,
}

impl Default for RssSeries {
    fn default() -> Self {
        Self::with_capacity(RSS_SERIES_POINTS_MAX)
    }
}

impl RssSeries {
    fn with_capacity(capacity: usize) -> Self {
        assert!(capacity >= 2, "a series must hold two points to halve");
        Self { points: Vec::new(), stride: 1, skipped: 0, capacity }
    }

    /// Offers a sample; keeps it if it is the stride's turn, and halves the series when full.
    pub fn push(&mut self, point: RssPoint) {
        self.skipped += 1;
        if self.skipped < self.stride {
            return;
        }
        self.skipped = 0;
        self.points.push(point);
        if self.points.len() >= self.capacity {
            let mut index = 0;
            self.points.retain(|_| {
                index += 1;
                index % 2 == 1
            });
            self.stride *= 2;
        }
        assert!(self.points.len() < self.capacity, "halving keeps the series under its capacity");
    }

    pub fn points(&self) -> &[RssPoint] {
        &self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(at_ms: u64) -> RssPoint {
        RssPoint { at_ms, rss_bytes: at_ms * 10, rss_anon_bytes: at_ms }
    }

    #[test]
    fn a_long_run_stays_bounded_and_spans_the_whole_run() {
        let mut series = RssSeries::with_capacity(8);
        for at_ms in 0..1_000 {
            series.push(point(at_ms));
        }
        let points = series.points();
        assert!(points.len() < 8, "{} points", points.len());
        assert_eq!(points[0].at_ms, 0, "the start is kept");
        assert!(points.last().is_some_and(|p| p.at_ms >= 1_000 - 2 * series.stride), "{points:?}");
        assert!(points.windows(2).all(|w| w[0].at_ms < w[1].at_ms), "in time order");
    }

    #[test]
    fn a_short_run_keeps_every_sample() {
        let mut series = RssSeries::default();
        for at_ms in 0..100 {
            series.push(point(at_ms));
        }
        assert_eq!(series.points().len(), 100);
        assert_eq!(series.points()[99], point(99));
    }
}
