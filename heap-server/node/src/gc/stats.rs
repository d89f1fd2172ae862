//! `GcStats`: what this node knows of the collector for `heapctl gc status`, `/metrics` and the
//! dashboard: the leader's cycles (recorded by `gc::run`) and the `Collect` entries this node
//! applied (recorded by the machine adapter, on every node). A leaf: it imports no node module.

use std::sync::Mutex;
use std::time::Duration;

/// The collector's figures on this node; all zero until it first leads or applies a Collect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcFigures {
    pub cycles: u64,
    pub cycle_running: bool,
    pub last_cycle_ms: u64,
    pub last_mark_ms: u64,
    pub live_objects: u64,
    pub live_bytes: u64,
    pub last_cycle_garbage: u64,
    pub last_cycle_freed: u64,
    pub freed_total: u64,
    pub collect_steps: u64,
    pub longest_step_us: u64,
    pub last_step_us: u64,
    /// The most CPU time one Collect apply took on its thread: the state machine's own cost,
    /// where `longest_step_us` (wall time) also counts waiting for a core.
    pub longest_step_cpu_us: u64,
}

/// What one finished cycle found and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CycleOutcome {
    pub duration: Duration,
    pub mark: Duration,
    pub live_objects: u64,
    pub live_bytes: u64,
    pub garbage: u64,
    pub freed: u64,
}

#[derive(Default)]
pub struct GcStats {
    figures: Mutex<GcFigures>,
}

impl GcStats {
    pub fn figures(&self) -> GcFigures {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GcFigures> {
        // The figures are plain counters: one a panicking writer left half-updated is still
        // worth showing, so a poisoned lock is used as it is.
        self.figures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One Collect entry applied here: how long its apply took (wall and thread CPU time) and
    /// how many objects it freed.
    pub fn record_step(&self, apply: Duration, apply_cpu: Duration, freed: u64) {
        let mut figures = self.lock();
        let step_us = micros(apply);
        figures.collect_steps += 1;
        figures.freed_total += freed;
        figures.last_step_us = step_us;
        figures.longest_step_us = figures.longest_step_us.max(step_us);
        figures.longest_step_cpu_us = figures.longest_step_cpu_us.max(micros(apply_cpu));
    }

    pub fn cycle_started(&self) {
        self.lock().cycle_running = true;
    }

    /// A cycle ended: `Some` with what it did, or `None` if it was cut short (leadership lost).
    pub fn cycle_ended(&self, outcome: Option<CycleOutcome>) {
        let mut figures = self.lock();
        figures.cycle_running = false;
        if let Some(outcome) = outcome {
            figures.cycles += 1;
            figures.last_cycle_ms = outcome.duration.as_millis() as u64;
            figures.last_mark_ms = outcome.mark.as_millis() as u64;
            figures.live_objects = outcome.live_objects;
            figures.live_bytes = outcome.live_bytes;
            figures.last_cycle_garbage = outcome.garbage;
            figures.last_cycle_freed = outcome.freed;
        }
    }
}

fn micros(duration: Duration) -> u64 {
    duration.as_micros().min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_keep_the_longest_and_cycles_their_outcome() {
        let stats = GcStats::default();
        stats.record_step(Duration::from_micros(900), Duration::from_micros(200), 10);
        stats.record_step(Duration::from_micros(300), Duration::from_micros(250), 5);
        stats.cycle_started();
        assert!(stats.figures().cycle_running);
        stats.cycle_ended(None);
        assert_eq!(stats.figures().cycles, 0, "a cut-short cycle is not counted");
        let outcome = CycleOutcome { garbage: 7, freed: 6, ..CycleOutcome::default() };
        stats.cycle_ended(Some(outcome));
        let figures = stats.figures();
        assert_eq!((figures.collect_steps, figures.freed_total), (2, 15));
        assert_eq!((figures.longest_step_us, figures.last_step_us), (900, 300));
        assert_eq!(figures.longest_step_cpu_us, 250, "the CPU maximum is kept on its own");
        assert_eq!((figures.cycles, figures.last_cycle_garbage, figures.last_cycle_freed), (1, 7, 6));
        assert!(!figures.cycle_running);
    }
}
