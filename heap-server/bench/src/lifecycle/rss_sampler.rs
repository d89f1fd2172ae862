//! `RssSampler`: every node's resident memory, read from /proc every `RSS_SAMPLE_INTERVAL_MS` by
//! a background task, so the peak of a burst is seen even when it is gone by the time the burst
//! ends, and a bounded series of every node's RSS over the run (`rss_series`). A window
//! (`reset_peaks`) starts a new peak; a restarted node is followed by its new pid.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::time::Duration;
use std::time::Instant;

use serde::Serialize;

use crate::lifecycle::proc_status;
use crate::lifecycle::rss_series::RssPoint;
use crate::lifecycle::rss_series::RssSeries;
use crate::limits::RSS_SAMPLE_INTERVAL_MS;

/// One node's memory: now (and what it is made of), the highest sampled since the window began,
/// and the kernel's high-water mark since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NodeReading {
    pub rss_bytes: u64,
    /// What `rss_bytes` is made of now: anonymous memory and mapped files.
    pub rss_anon_bytes: u64,
    pub rss_file_bytes: u64,
    pub peak_rss_bytes: u64,
    pub hwm_bytes: u64,
}

#[derive(Debug, Default)]
struct Track {
    /// None while the node is down.
    pid: Option<u32>,
    reading: NodeReading,
    /// Kept across restarts: one line per node for the whole run.
    series: RssSeries,
}

type Tracks = Arc<Mutex<BTreeMap<u64, Track>>>;

pub struct RssSampler {
    tracks: Tracks,
    started: Instant,
    task: tokio::task::JoinHandle<()>,
}

fn lock(tracks: &Tracks) -> MutexGuard<'_, BTreeMap<u64, Track>> {
    // Plain numbers: a reading a panicking sampler left behind is still a reading.
    tracks.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads every tracked process once; a process that cannot be read (it is exiting) keeps its
/// last reading.
fn sample(tracks: &Tracks, started: Instant) {
    let at_ms = started.elapsed().as_millis() as u64;
    let mut tracks = lock(tracks);
    for track in tracks.values_mut() {
        let Some(pid) = track.pid else { continue };
        if let Ok(memory) = proc_status::read(pid) {
            track.series.push(RssPoint { at_ms, rss_bytes: memory.rss_bytes, rss_anon_bytes: memory.rss_anon_bytes });
            track.reading.rss_bytes = memory.rss_bytes;
            track.reading.rss_anon_bytes = memory.rss_anon_bytes;
            track.reading.rss_file_bytes = memory.rss_file_bytes;
            track.reading.hwm_bytes = memory.hwm_bytes;
            track.reading.peak_rss_bytes = track.reading.peak_rss_bytes.max(memory.rss_bytes);
        }
    }
}

impl RssSampler {
    /// Starts sampling the nodes `pids` names (node id to process id).
    pub fn start(pids: &BTreeMap<u64, u32>) -> Self {
        let track =
            |pid: &u32| Track { pid: Some(*pid), reading: NodeReading::default(), series: RssSeries::default() };
        let tracks: Tracks = Arc::new(Mutex::new(pids.iter().map(|(id, pid)| (*id, track(pid))).collect()));
        let started = Instant::now();
        sample(&tracks, started);
        let background = Arc::clone(&tracks);
        let task = tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(RSS_SAMPLE_INTERVAL_MS));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                sample(&background, started);
            }
        });
        Self { tracks, started, task }
    }

    /// Milliseconds since the sampler started: the time axis of `rss_series`.
    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Every node's RSS over the run so far.
    pub fn rss_series(&self) -> BTreeMap<u64, Vec<RssPoint>> {
        lock(&self.tracks).iter().map(|(id, track)| (*id, track.series.points().to_vec())).collect()
    }

    /// Node `id` now runs as `pid` (None: it is down); its window starts over.
    pub fn set_pid(&self, id: u64, pid: Option<u32>) {
        let mut tracks = lock(&self.tracks);
        let track = tracks.entry(id).or_default();
        track.pid = pid;
        track.reading = NodeReading::default();
        drop(tracks);
        sample(&self.tracks, self.started);
    }

    /// Starts a new window: every peak is the current RSS from now on.
    pub fn reset_peaks(&self) {
        sample(&self.tracks, self.started);
        for track in lock(&self.tracks).values_mut() {
            track.reading.peak_rss_bytes = track.reading.rss_bytes;
        }
    }

    /// Every node's reading, sampled now (peaks include this sample).
    pub fn readings(&self) -> BTreeMap<u64, NodeReading> {
        sample(&self.tracks, self.started);
        lock(&self.tracks).iter().map(|(id, track)| (*id, track.reading)).collect()
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_peak_of_a_window_is_at_least_every_reading_in_it() {
        let me = std::process::id();
        let sampler = RssSampler::start(&BTreeMap::from([(1, me)]));
        sampler.reset_peaks();
        // Touch 64 MiB so the resident set grows, then let it go.
        let grown = vec![1u8; 64 * 1024 * 1024];
        let during = sampler.readings()[&1];
        assert!(grown.iter().all(|b| *b == 1));
        drop(grown);
        let after = sampler.readings()[&1];
        assert!(during.rss_bytes > 0);
        assert!(after.peak_rss_bytes >= during.rss_bytes, "{after:?} vs {during:?}");
        assert!(after.peak_rss_bytes >= after.rss_bytes);
        assert!(after.hwm_bytes > 0, "the kernel's high-water mark is read too");
        let series = sampler.rss_series();
        assert!(series[&1].len() >= 3, "start, during and after are in the series: {series:?}");
    }

    #[tokio::test]
    async fn a_node_that_is_down_keeps_a_zero_reading() {
        let sampler = RssSampler::start(&BTreeMap::new());
        sampler.set_pid(2, None);
        assert_eq!(sampler.readings()[&2], NodeReading::default());
    }
}
