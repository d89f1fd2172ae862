//! How many objects the fast path puts in one `Command::Collect`: as many as keep the leader's
//! apply of one entry near `COLLECT_STEP_TARGET_US`. Freeing an object costs the state machine
//! ten B-tree operations whose price grows with the heap and with what else runs on the cores
//! (at 10 million live objects a full entry of 1,024 took 1-7 ms of CPU alone, and up to 25 ms
//! of CPU and 78 ms of wall time on a node sharing two cores), and every replica applies it in
//! one piece. So the bound halves after an entry that took too long and doubles back after
//! cheap ones, between `COLLECT_OBJECTS_PER_PACED_STEP_MIN` and the entry's own maximum.
//!
//! Only the fast path is paced: reference counting frees its garbage piece by piece (a list
//! freed alone leaves its items unreferenced for the next entries), where a garbage cycle is
//! freed only whole, so a cycle's sweep keeps the full bound. The bound decides what the leader
//! proposes, never what an entry may do, so every replica still applies the same entries.

use heap_machine::COLLECT_OBJECTS_PER_STEP_MAX;

/// The apply time (wall, on the leader) one fast-path entry aims at: well inside the ~10 ms an
/// entry may take, leaving room for the time a loaded node waits for a core.
pub const COLLECT_STEP_TARGET_US: u64 = 3_000;
/// The least the pace goes down to: below this the entries' fixed costs (a Raft round trip,
/// the log's fsync) dominate and collection falls behind the garbage.
pub const COLLECT_OBJECTS_PER_PACED_STEP_MIN: u64 = 64;

/// The object bound of the next Collect entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectPace {
    objects_max: u64,
    adaptive: bool,
}

impl CollectPace {
    /// Starts at the full bound and follows the applies.
    pub fn adaptive() -> Self {
        CollectPace { objects_max: COLLECT_OBJECTS_PER_STEP_MAX, adaptive: true }
    }

    /// Always the full bound (a cycle's sweep: a cycle must fit one entry).
    pub fn full() -> Self {
        CollectPace { objects_max: COLLECT_OBJECTS_PER_STEP_MAX, adaptive: false }
    }

    pub fn objects_max(&self) -> u64 {
        self.objects_max
    }

    /// The leader applied an entry of `batch_objects` objects in `apply_us`: too slow halves the
    /// bound; fast at close to the bound doubles it (a small batch being fast says nothing).
    pub fn observe(&mut self, batch_objects: u64, apply_us: u64) {
        if !self.adaptive {
            return;
        }
        if apply_us > COLLECT_STEP_TARGET_US {
            self.objects_max = (self.objects_max / 2).max(COLLECT_OBJECTS_PER_PACED_STEP_MIN);
        } else if apply_us < COLLECT_STEP_TARGET_US / 3 && 2 * batch_objects >= self.objects_max {
            self.objects_max = (self.objects_max * 2).min(COLLECT_OBJECTS_PER_STEP_MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_entries_halve_the_bound_down_to_the_minimum_and_cheap_full_ones_double_it_back() {
        let mut pace = CollectPace::adaptive();
        assert_eq!(pace.objects_max(), COLLECT_OBJECTS_PER_STEP_MAX);
        pace.observe(1_024, 8_000);
        assert_eq!(pace.objects_max(), 512);
        for _ in 0..20 {
            pace.observe(pace.objects_max(), 50_000);
        }
        assert_eq!(pace.objects_max(), COLLECT_OBJECTS_PER_PACED_STEP_MIN, "never below the minimum");
        pace.observe(1, 100);
        assert_eq!(pace.objects_max(), COLLECT_OBJECTS_PER_PACED_STEP_MIN, "a cheap tiny batch says nothing");
        pace.observe(COLLECT_OBJECTS_PER_PACED_STEP_MIN, 100);
        assert_eq!(pace.objects_max(), 2 * COLLECT_OBJECTS_PER_PACED_STEP_MIN);
        pace.observe(pace.objects_max(), COLLECT_STEP_TARGET_US / 2);
        assert_eq!(pace.objects_max(), 2 * COLLECT_OBJECTS_PER_PACED_STEP_MIN, "near the target it stays");
        for _ in 0..20 {
            pace.observe(pace.objects_max(), 100);
        }
        assert_eq!(pace.objects_max(), COLLECT_OBJECTS_PER_STEP_MAX, "never above the entry's own bound");
    }

    #[test]
    fn the_full_pace_never_moves() {
        let mut pace = CollectPace::full();
        pace.observe(1_024, 1_000_000);
        assert_eq!(pace.objects_max(), COLLECT_OBJECTS_PER_STEP_MAX);
    }
}
