//! The object lifecycle scenarios, each on a fresh secured three-node cluster of its own:
//! `memory` (RSS and disk per small live object, during and after a burst, and after a
//! follower's reload) and `gc` (abandoned objects collected, a full cycle's longest step,
//! put/get with the collector idle and busy). The pieces: the cluster with its metrics ports and
//! memory sampler (`cluster`, `rss_sampler`, `rss_series`, `proc_status`, `node_metrics`, `settle`,
//! `disk_usage`), the run around each (`scenario`), the objects (`population`), the collector's admin calls (`gc_admin`), the
//! busy collector (`churn`), and the reports (`memory_report`, `gc_report`, `per_object`).

pub mod churn;
pub mod cluster;
pub mod disk_usage;
pub mod gc;
pub mod gc_admin;
pub mod gc_report;
pub mod memory;
pub mod memory_report;
pub mod node_metrics;
pub mod per_object;
pub mod population;
pub mod proc_status;
pub mod rss_sampler;
pub mod rss_series;
pub mod scenario;
pub mod settle;

use std::path::PathBuf;
use std::time::Duration;

use crate::limits::DURATION_S_MAX;
use crate::limits::GC_THROUGHPUT_ROUNDS_MAX;
use crate::limits::ITEMS_PER_TRANSACTION_MAX;
use crate::limits::LIFECYCLE_OBJECTS_MAX;
use crate::system::seconds;

/// What both scenarios are given: how many small objects, how many per transaction, where the
/// results (and, while it runs, the cluster's data in `work/`) go, and the heap-server binary.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleSpec {
    pub objects: u64,
    pub batch: usize,
    pub out: PathBuf,
    pub server_binary: Option<PathBuf>,
}

impl LifecycleSpec {
    pub fn new(objects: u64, batch: usize, out: PathBuf, server_binary: Option<PathBuf>) -> anyhow::Result<Self> {
        if objects == 0 || objects > LIFECYCLE_OBJECTS_MAX {
            anyhow::bail!("--objects must be between 1 and {LIFECYCLE_OBJECTS_MAX}");
        }
        if batch == 0 || batch > ITEMS_PER_TRANSACTION_MAX {
            anyhow::bail!(
                "--batch must be between 1 and {ITEMS_PER_TRANSACTION_MAX} (what fits the heap's ops per transaction)"
            );
        }
        Ok(Self { objects, batch, out, server_binary })
    }
}

/// `gc`'s own settings besides the common ones.
#[derive(Debug, Clone, PartialEq)]
pub struct GcSpec {
    pub common: LifecycleSpec,
    /// Garbage cycles (pairs of objects referencing each other) beside the live objects.
    pub garbage_cycles: u64,
    /// Measured period of each put/get measurement, and interleaved rounds of them.
    pub throughput_duration: Duration,
    pub rounds: usize,
}

impl GcSpec {
    pub fn new(common: LifecycleSpec, garbage_cycles: u64, duration_s: f64, rounds: usize) -> anyhow::Result<Self> {
        if garbage_cycles > LIFECYCLE_OBJECTS_MAX / 2 {
            anyhow::bail!("--garbage-cycles must be at most {}", LIFECYCLE_OBJECTS_MAX / 2);
        }
        if rounds == 0 || rounds > GC_THROUGHPUT_ROUNDS_MAX {
            anyhow::bail!("--rounds must be between 1 and {GC_THROUGHPUT_ROUNDS_MAX}");
        }
        let throughput_duration = seconds("duration", duration_s, DURATION_S_MAX, false)?;
        Ok(Self { common, garbage_cycles, throughput_duration, rounds })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(objects: u64, batch: usize) -> anyhow::Result<LifecycleSpec> {
        LifecycleSpec::new(objects, batch, PathBuf::from("/tmp/x"), None)
    }

    #[test]
    fn ten_million_objects_are_accepted_and_every_bound_is_checked() {
        assert!(spec(10_000_000, 1_000).is_ok(), "the issue's 10 million");
        assert!(spec(0, 1_000).is_err());
        assert!(spec(LIFECYCLE_OBJECTS_MAX + 1, 1_000).is_err());
        assert!(spec(1, 0).is_err());
        assert!(spec(1, ITEMS_PER_TRANSACTION_MAX).is_ok());
        let error = spec(1, ITEMS_PER_TRANSACTION_MAX + 1).expect_err("too big a batch");
        assert!(error.to_string().contains("--batch"), "{error}");
        let common = spec(1_000, 100).expect("valid");
        assert!(GcSpec::new(common.clone(), 100_000, 10.0, 3).is_ok());
        assert!(GcSpec::new(common.clone(), LIFECYCLE_OBJECTS_MAX, 10.0, 3).is_err());
        assert!(GcSpec::new(common.clone(), 1, 0.0, 3).is_err());
        assert!(GcSpec::new(common.clone(), 1, 10.0, 0).is_err());
        assert!(GcSpec::new(common, 1, 10.0, GC_THROUGHPUT_ROUNDS_MAX + 1).is_err());
    }
}
