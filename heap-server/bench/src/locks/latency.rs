//! Latencies of single ops in nanoseconds, summed up as nearest-rank p50 and p99, the mean, and
//! the ops per second of one client running them back to back; and `CaseSamples`, which times
//! one op at a time and counts the round trips its clients sent meanwhile.

use std::future::Future;
use std::time::Instant;

use heap_client::HeapClient;
use serde::Serialize;

/// p50, p99 and mean of one case's ops, and its rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latencies {
    pub ops: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub mean_ns: u64,
    /// One client running the ops back to back: ops over the time they took (1 / mean).
    pub ops_per_s: f64,
}

impl Latencies {
    /// Nearest-rank percentiles of `samples_ns`; all zero for no samples.
    pub fn of(mut samples_ns: Vec<u64>) -> Self {
        if samples_ns.is_empty() {
            return Latencies::default();
        }
        samples_ns.sort_unstable();
        let count = samples_ns.len();
        let rank = |fraction: f64| {
            let index = (fraction * count as f64).ceil() as usize;
            samples_ns[index.clamp(1, count) - 1]
        };
        // u128: 10 million ops of an hour each still fit.
        let total_ns: u128 = samples_ns.iter().map(|&ns| u128::from(ns)).sum();
        let mean_ns = u64::try_from(total_ns / count as u128).unwrap_or(u64::MAX);
        let ops_per_s = if total_ns == 0 { 0.0 } else { count as f64 * 1e9 / total_ns as f64 };
        Latencies { ops: count as u64, p50_ns: rank(0.50), p99_ns: rank(0.99), mean_ns, ops_per_s }
    }
}

/// Round trips some clients sent: session RPCs (locks, commits, releases; not keep-alives) and
/// reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    pub session: u64,
    pub read: u64,
}

impl Requests {
    /// What `clients` sent since they connected, all together.
    pub fn of(clients: &[&HeapClient]) -> Self {
        let session = clients.iter().map(|client| client.session_requests()).sum();
        let read = clients.iter().map(|client| client.read_requests()).sum();
        Requests { session, read }
    }

    /// What was sent between `before` and `self`.
    pub fn since(self, before: Requests) -> Requests {
        Requests { session: self.session.saturating_sub(before.session), read: self.read.saturating_sub(before.read) }
    }
}

/// One case's samples: each op's latency, and the round trips sent while ops ran.
#[derive(Debug, Default)]
pub struct CaseSamples {
    pub samples_ns: Vec<u64>,
    pub requests: Requests,
}

impl CaseSamples {
    pub fn with_capacity(ops: u64) -> Self {
        CaseSamples { samples_ns: Vec::with_capacity(usize::try_from(ops).unwrap_or(0)), requests: Requests::default() }
    }

    /// Runs `op` and records its latency (from its first poll to its end) and what `clients`
    /// sent meanwhile; the counters are read outside the timed span.
    pub async fn time(
        &mut self,
        clients: &[&HeapClient],
        op: impl Future<Output = anyhow::Result<()>>,
    ) -> anyhow::Result<()> {
        let before = Requests::of(clients);
        let started = Instant::now();
        op.await?;
        let elapsed_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let sent = Requests::of(clients).since(before);
        self.samples_ns.push(elapsed_ns);
        self.requests.session += sent.session;
        self.requests.read += sent.read;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank_and_the_rate_is_one_over_the_mean() {
        // 1..=100 us, shuffled by reversing: p50 is the 50th, p99 the 99th, the mean 50.5 us.
        let samples: Vec<u64> = (1..=100u64).rev().map(|us| us * 1_000).collect();
        let latencies = Latencies::of(samples);
        assert_eq!(latencies.ops, 100);
        assert_eq!(latencies.p50_ns, 50_000);
        assert_eq!(latencies.p99_ns, 99_000);
        assert_eq!(latencies.mean_ns, 50_500);
        let expected_ops_per_s = 1e9 / 50_500.0;
        assert!((latencies.ops_per_s - expected_ops_per_s).abs() < 1e-6, "{}", latencies.ops_per_s);
    }

    #[test]
    fn one_sample_is_every_percentile_and_no_samples_give_zeros() {
        let one = Latencies::of(vec![1_234]);
        assert_eq!((one.p50_ns, one.p99_ns, one.mean_ns), (1_234, 1_234, 1_234));
        assert_eq!(Latencies::of(Vec::new()), Latencies::default());
        assert_eq!(Latencies::of(vec![0, 0]).ops_per_s, 0.0, "no time taken is no rate, not infinity");
    }

    #[test]
    fn requests_since_count_only_what_was_sent_in_between() {
        let before = Requests { session: 10, read: 3 };
        let after = Requests { session: 13, read: 3 };
        assert_eq!(after.since(before), Requests { session: 3, read: 0 });
        assert_eq!(before.since(after), Requests { session: 0, read: 0 }, "a counter never runs backwards");
    }
}
