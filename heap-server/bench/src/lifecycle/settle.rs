//! When a cluster is idle after a burst: every node has applied the same index, and that index,
//! every node's count of built snapshots and every node's RSS (within `SETTLE_RSS_TOLERANCE`)
//! have stayed put for `SETTLE_STABLE_MS`. Pure: observations in, a verdict out, so it is tested
//! without a cluster.

use std::collections::BTreeMap;
use std::time::Duration;
use std::time::Instant;

use crate::lifecycle::node_metrics::NodeProgress;
use crate::limits::SETTLE_RSS_TOLERANCE;
use crate::limits::SETTLE_STABLE_MS;

/// What every node looked like at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub progress: BTreeMap<u64, NodeProgress>,
    pub rss_bytes: BTreeMap<u64, u64>,
}

impl Observation {
    fn indexes_agree(&self) -> bool {
        let mut applied = self.progress.values().map(|p| p.applied_index);
        let first = applied.next();
        applied.all(|index| Some(index) == first)
    }

    /// Same applied indexes and snapshot counts as `reference`, and every RSS within tolerance.
    fn stays_at(&self, reference: &Observation) -> bool {
        let same_progress = self.progress.iter().all(|(id, now)| {
            reference.progress.get(id).is_some_and(|then| {
                then.applied_index == now.applied_index && then.snapshots_built == now.snapshots_built
            })
        });
        let same_rss = self.rss_bytes.iter().all(|(id, now)| {
            reference
                .rss_bytes
                .get(id)
                .is_some_and(|then| (*now as f64 - *then as f64).abs() <= SETTLE_RSS_TOLERANCE * (*then).max(1) as f64)
        });
        same_progress && same_rss && self.progress.len() == reference.progress.len()
    }
}

/// Watches observations until the cluster has been idle for `SETTLE_STABLE_MS`.
#[derive(Debug, Default)]
pub struct SettleTracker {
    /// The observation the quiet period started with, and when.
    reference: Option<(Observation, Instant)>,
}

impl SettleTracker {
    /// Takes the observation made at `now`; true once the cluster counts as idle.
    pub fn observe(&mut self, observation: Observation, now: Instant) -> bool {
        let quiet = observation.indexes_agree()
            && self.reference.as_ref().is_some_and(|(reference, _)| observation.stays_at(reference));
        if !quiet {
            self.reference = Some((observation, now));
            return false;
        }
        self.reference
            .as_ref()
            .is_some_and(|(_, since)| now.duration_since(*since) >= Duration::from_millis(SETTLE_STABLE_MS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observation(applied: [u64; 3], snapshots: u64, rss: [u64; 3]) -> Observation {
        let progress = |index| NodeProgress { applied_index: index, snapshots_built: snapshots, objects: 0 };
        Observation { progress: (1..=3).zip(applied.map(progress)).collect(), rss_bytes: (1..=3).zip(rss).collect() }
    }

    fn after(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn idle_only_after_a_full_quiet_period() {
        let start = Instant::now();
        let mut tracker = SettleTracker::default();
        let quiet = observation([10, 10, 10], 0, [100_000_000; 3]);
        assert!(!tracker.observe(quiet.clone(), start), "the first look starts the period");
        assert!(!tracker.observe(quiet.clone(), after(start, SETTLE_STABLE_MS - 1)));
        assert!(tracker.observe(quiet, after(start, SETTLE_STABLE_MS)));
    }

    #[test]
    fn any_movement_starts_the_period_over() {
        let start = Instant::now();
        let mut tracker = SettleTracker::default();
        tracker.observe(observation([10, 10, 10], 0, [100_000_000; 3]), start);
        let moved = [
            observation([11, 11, 11], 0, [100_000_000; 3]),
            observation([11, 11, 11], 1, [100_000_000; 3]),
            observation([11, 11, 11], 1, [100_000_000, 100_000_000, 104_000_000]),
        ];
        let mut at = start;
        for observation in moved {
            at = after(at, SETTLE_STABLE_MS);
            assert!(!tracker.observe(observation, at), "a change is not idle");
        }
        let small_drift = observation([11, 11, 11], 1, [100_500_000, 100_000_000, 104_000_000]);
        assert!(tracker.observe(small_drift, after(at, SETTLE_STABLE_MS)), "under the tolerance counts as still");
    }

    #[test]
    fn nodes_that_disagree_are_not_idle() {
        let start = Instant::now();
        let mut tracker = SettleTracker::default();
        let lagging = observation([10, 10, 9], 0, [1; 3]);
        tracker.observe(lagging.clone(), start);
        assert!(!tracker.observe(lagging, after(start, 10 * SETTLE_STABLE_MS)));
    }
}
